"""`acct plan`: every parallel layout of N GPUs for a global batch, those whose peak memory per GPU
fits, ranked by step time; evaluated through the sheet's compiled function, once per layout."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from acct.engine.formula import Number
from acct.errors import AcctError

# the inputs a layout sets, in the order the compiled function takes them
PARAMS = ("dp", "tp", "pp", "virtual_stages", "cp", "ep", "zero_stage", "micro_batch", "recompute",
          "sequence_parallel")
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
    """Every (dp, tp, pp, v, cp, ep, zero, micro_batch, recompute, sp) whose sizes multiply to the GPUs
    and divide the batch; the sheet's own checks refuse the rest (heads by tp, layers by pp·v).
    The interleaved schedule (v > 1, up to MAX_V) needs pp > 1, layers that divide by pp·v and
    micro-batches that divide by pp (Megatron's condition)."""
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
                            for zero in range(4):
                                for recompute in range(3):
                                    yield (dp, tp, pp, v, cp, ep, zero, micro_batch, recompute, 1 if tp > 1 else 0)


def plan(model, gpus: int, batch: int, hardware: str, top: int = 10) -> PlanReport:
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
    values = model.sheet.evaluate_fixed(PARAMS)  # what no layout changes: the device, the model's shape
    device_memory = values.get("device_memory")
    if device_memory is None:
        raise AcctError(f"--hardware {hardware}: no device memory to fit the layouts in")
    experts = "experts_per_ep" in model.sheet
    # dp, pp, cp, micro_batch and the ZeRO stage are the compiled function's parameters; the rest
    # (recomputation, sequence parallelism, tp, v, ep) are fixed per function, which keeps the bounds
    # on its values small
    params = ("dp", "pp", "cp", "micro_batch", "zero_stage")
    functions = {}

    def function_for(zero: int, recompute: int, sp: int, tp: int, v: int, ep: int, dp: int, pp: int):
        key = (recompute, sp, tp, v, ep)
        if key not in functions:
            fixed = {"recompute": recompute, "sequence_parallel": sp, "tp": tp, "virtual_stages": v}
            if experts:  # ep fixed per function too: dp / ep in a parameter's place doubles the bounds
                fixed["ep"] = ep
            # the varied sizes' values when the function folds its constants: this layout's, valid
            sheet = model.sheet.replace({**fixed, "dp": dp, "pp": pp, "zero_stage": zero}, "plan")
            try:
                functions[key] = sheet.function(params, OUTPUTS, "plan")
            except AcctError:  # a fixed choice the model refuses (heads that tp does not divide)
                functions[key] = None
        return functions[key]

    per_node = values.get("gpus_per_node", gpus)
    enumerated = valid = 0
    fitting: List[PlanRow] = []
    layers = values.get("num_layers")
    for args in layouts(gpus, batch, per_node, experts, layers if isinstance(layers, int) else None):
        enumerated += 1
        dp, tp, pp, v, cp, ep, zero, micro_batch, recompute, sp = args
        varied = (dp, pp, cp, micro_batch, zero)
        function = function_for(zero, recompute, sp, tp, v, ep, dp, pp)
        if function is None or not function.valid(*varied):
            continue
        valid += 1
        step, peak, compute, bubble, comm, states, activations = function(*varied)
        if peak <= device_memory:
            fitting.append(PlanRow(dict(zip(PARAMS, args)), step, peak, compute, bubble, comm, states, activations))
    fitting.sort(key=lambda row: (row.step, row.peak, tuple(row.layout.values())))
    precision = model.preset.training.get("precision", "fp32")
    chosen_by = model.preset.chosen_by.get("precision") or model.preset.where("training", "precision")
    return PlanReport(model.preset.name, gpus, batch, hardware, device_memory, enumerated, valid, len(fitting),
                      fitting[:top], precision=precision, precision_by=chosen_by)
