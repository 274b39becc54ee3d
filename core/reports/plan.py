"""`acct plan`: every parallel layout of N GPUs for a global batch, those whose peak memory per GPU
fits, ranked by step time; evaluated through the sheet's compiled function, once per layout."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from acct.engine.formula import Number
from acct.errors import AcctError

# the inputs a layout sets, in the order a layout lists them
PARAMS = ("dp", "tp", "pp", "virtual_stages", "cp", "ep", "zero_stage", "micro_batch", "recompute",
          "sequence_parallel")
# the sizes the compiled function takes first, as layouts() yields them; then the ZeRO stage and recomputation
SIZES = ("dp", "tp", "pp", "virtual_stages", "cp", "ep", "micro_batch", "sequence_parallel")
OUTPUTS = ("gpu.time.step", "gpu.memory.peak", "gpu.time.compute", "gpu.time.bubble", "gpu.time.comm",
           "gpu.memory.first.states", "gpu.memory.first.activations")
MAX_CP = 8  # context parallelism is enumerated up to this many ranks
MAX_V = 8  # model chunks per pipeline stage (Megatron's interleaved 1F1B) enumerated up to this many
MAX_GPUS = 1 << 20
MAX_BATCH = 1 << 24  # sequences per step


@dataclass(eq=False)
class PlanRow:
    layout: Dict[str, int]
    step: Number  # seconds
    peak: Number  # bytes on the most loaded GPU
    compute: Number
    bubble: Number
    comm: Number
    states: Number
    activations: Number


@dataclass(eq=False)
class PlanReport:
    name: str
    gpus: int
    global_batch: int
    hardware: str
    device_memory: Number
    enumerated: int
    valid: int
    fitting: int
    rows: List[PlanRow]
    best: Optional[object] = None  # the best layout's TrainingReport (its per-GPU decomposition)
    notes: List[str] = field(default_factory=list)
    precision: str = ""  # the precision the layouts are costed at, and who chose it
    precision_by: str = ""


def divisors(n: int) -> List[int]:
    small = [d for d in range(1, int(n ** 0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def layouts(gpus: int, batch: int, per_node: int, experts: bool, layers: Optional[int] = None):
    """Every (dp, tp, pp, v, cp, ep, micro_batch, sp) whose sizes multiply to the GPUs and divide the
    batch; each is tried with every ZeRO stage and recomputation (STATES). The sheet's own checks
    refuse the rest (heads by tp, layers by pp·v). The interleaved schedule (v > 1, up to MAX_V)
    needs pp > 1, layers that divide by pp·v and micro-batches that divide by pp (Megatron's
    condition)."""
    for tp in divisors(gpus):
        if tp > per_node:  # tensor parallelism stays within a node
            break
        for pp in divisors(gpus // tp):
            chunks = [1]
            if pp > 1 and layers:
                chunks += [v for v in range(2, MAX_V + 1) if layers % (pp * v) == 0]
            for cp in divisors(gpus // (tp * pp)):
                if cp > MAX_CP:
                    break
                dp = gpus // (tp * pp * cp)
                if batch % dp:
                    continue
                for ep in (divisors(dp) if experts else (1,)):
                    for micro_batch in divisors(batch // dp):
                        interleavable = (batch // (dp * micro_batch)) % pp == 0
                        for v in chunks:
                            if v > 1 and not interleavable:
                                continue
                            yield (dp, tp, pp, v, cp, ep, micro_batch, 1 if tp > 1 else 0)


# the ZeRO stage and the recomputation tried with each layout: the inner stages of the compiled function
ZERO = (0, 1, 2, 3)
RECOMPUTE = (0, 1, 2)


def _layout(sizes: Tuple[int, ...], recompute: int, zero: int) -> Dict[str, int]:
    dp, tp, pp, v, cp, ep, micro_batch, sp = sizes
    return dict(zip(PARAMS, (dp, tp, pp, v, cp, ep, zero, micro_batch, recompute, sp)))


def plan(model, gpus: int, batch: int, hardware: str, top: int = 10,
         progress: Optional[Callable[[int, int], None]] = None) -> PlanReport:
    """The layouts that fit, fastest first. `progress(done, total)`, if given, is called as each
    layout's sizes are tried (with every ZeRO stage and recomputation: done and total count those)."""
    _check_plan(model, gpus, batch, top)
    values = model.sheet.evaluate_fixed(PARAMS)  # what no layout changes: the device, the model's shape
    device_memory = values.get("device_memory")
    if device_memory is None:
        raise AcctError(f"--hardware {hardware}: no device memory to fit the layouts in")
    experts = "experts_per_ep" in model.sheet
    # one compiled function, staged: what a layout's sizes give is computed once per layout, then
    # each ZeRO stage and recomputation only adds what depends on them. The varied sizes are at most
    # the GPUs, the batch, 3, or the largest v and cp enumerated: bounds on that many bits, not a
    # sweep's 64, keep the sheet's proven value sizes within its limit
    bits = max(gpus, batch, 3, MAX_V, MAX_CP).bit_length()
    function = model.sheet.function(SIZES + ("zero_stage", "recompute"), OUTPUTS, "plan", bits,
                                    stages=(len(SIZES), len(SIZES) + 1))
    per_node = values.get("gpus_per_node", gpus)
    enumerated = valid = 0
    fitting: list = []  # (outputs, sizes, recompute, zero) of each layout that fits
    layers = values.get("num_layers")
    every = list(layouts(gpus, batch, per_node, experts, layers if isinstance(layers, int) else None))
    per_sizes = len(RECOMPUTE) * len(ZERO)  # the layouts each sizes tuple is tried as
    for done, sizes in enumerate(every, 1):
        if progress is not None:
            progress(done * per_sizes, len(every) * per_sizes)
        enumerated += per_sizes
        states = function.stage(*sizes)
        if states is None:  # the layout's sizes break a check: every stage and recomputation does
            continue
        for zero in ZERO:
            recomputations = states(zero)
            if recomputations is None:
                continue
            for recompute in RECOMPUTE:
                results = recomputations(recompute)
                if results is None:
                    continue
                valid += 1
                if results[1] <= device_memory:  # the peak
                    fitting.append((results, sizes, recompute, zero))
    # the fastest `top` (ties: less memory, then the layout's sizes), without sorting every fit
    fitting_count = len(fitting)
    fitting = [PlanRow(_layout(sizes, recompute, zero), *results)
               for results, sizes, recompute, zero in heapq.nsmallest(
                   top, fitting, key=lambda fit: (fit[0][0], fit[0][1], tuple(_layout(*fit[1:]).values())))]
    precision = model.preset.training.get("precision", "fp32")
    chosen_by = model.preset.chosen_by.get("precision") or model.preset.where("training", "precision")
    return PlanReport(model.preset.name, gpus, batch, hardware, device_memory, enumerated, valid, fitting_count,
                      fitting, precision=precision, precision_by=chosen_by)


def _check_plan(model, gpus: int, batch: int, top: int) -> None:
    """The arguments in range, and a sheet that plan can lay out (full training, timed, with activations)."""
    if not 1 <= gpus <= MAX_GPUS:
        raise AcctError(f"--gpus: from 1 to {MAX_GPUS:,}, got {gpus}")
    # the micro-batches enumerated are the divisors of the batch: bound it (10**20 ran for hours)
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise AcctError(f"--global-batch: a whole number from 1 to {MAX_BATCH:,}, got {batch!r}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise AcctError(f"--top: a whole number of at least 1, got {top!r}")
    if "train.params_trainable" in model.sheet:
        raise AcctError("plan: LoRA, QLoRA and Adafactor are accounted on one device (memory.*); plan lays out "
                        "full training with AdamW or SGD")
    if "gpu.time.step" not in model.sheet:
        raise AcctError(f"plan: {model.activation_problem or 'the hardware gives no link bandwidths'}; "
                        "the step time and peak memory per GPU need both")
