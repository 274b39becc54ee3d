"""Training reports and goal seek: what `acct train` and `acct solve` print (`acct infer`: reports/inference.py).

Imported only by those commands; the sheet cells they read are built by model.py
from the outputs in training.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, List, Optional, Sequence, Tuple

from acct.engine.sheet import MAX_PARAM_BITS
from acct.errors import AcctError, BoundsError, ConfigError
from acct.model.model import output_cell
from acct.engine.formula import Number
from acct.model.outputs import (
    BACKWARD_CONVENTION,
    OPTIMIZER_CONVENTION,
    PRECISION_DTYPE,
    PRECISIONS,
    activation_formula,
)


# -- reports --------------------------------------------------------------------

CHINCHILLA_TOKENS_PER_PARAM = 20  # Hoffmann et al. 2022: compute-optimal ≈ 20 tokens per parameter


@dataclass(eq=False)
class TrainingRow:
    name: str
    group: str
    multiplicity: int
    flops_forward: int  # per step: × batch_size
    flops_backward: int
    backward_display: str
    activations: Optional[int]  # bytes per sequence, all layers
    activations_display: str


@dataclass(eq=False)
class TrainingTime:
    hardware: str
    description: str
    dtype: str
    peak: Number  # FLOP/s
    mfu: Fraction
    gpus: int
    steps: int
    seconds: Fraction  # forward + backward FLOPs over the run
    seconds_with_optimizer: Fraction
    memory: Number  # bytes per device
    source: str
    recompute: int = 0  # FLOPs per step the layers' recomputation adds (gpu.flops_recompute)


@dataclass(eq=False)
class TrainingReport:
    name: str
    precision: str
    convention: str
    batch_size: int
    context_length: int
    steps: int
    rows: List[TrainingRow]
    flops_forward: int
    flops_backward: int
    flops_model: int
    flops_optimizer: int
    flops_step: int
    tokens_per_step: int
    memory: List[Tuple[str, str, int]]  # (key, label, bytes)
    phases: List[Tuple[str, str, int]]  # (key, label, bytes): each phase's peak (acct.model.phases), or none
    optimizer_impl: str  # how AdamW steps, by name (forloop, foreach, fused)
    activations_per_sequence: Optional[int]  # a in a·B + b
    fixed_bytes: int  # b
    params: int
    params_active: int  # those one token uses: fewer than params when experts are routed
    time: Optional[TrainingTime]
    conventions: List[str] = field(default_factory=list)
    problem: str = ""
    optimizer_flops: int = 14  # FLOPs per parameter per step, as the sheet holds it
    optimizer_label: str = "AdamW, 14 per parameter"
    scale: Optional["ScaleReport"] = None  # per GPU under a parallel layout, when one is given
    params_trainable: Optional[int] = None  # with LoRA: the adapters alone (the base is frozen)
    params_lora: Optional[int] = None  # LoRA's adapter parameters, r·(d_in + d_out) per adapted matrix

    @property
    def tokens(self) -> int:
        return self.tokens_per_step * self.steps

    @property
    def six_n_d(self) -> int:
        """6·N·D with N the parameters a token uses (all of them unless experts are routed)."""
        return 6 * self.params_active * self.tokens

    @property
    def optimal_tokens(self) -> int:
        return CHINCHILLA_TOKENS_PER_PARAM * self.params_active


def make_training_report(model, values, hardware=None, mfu: Optional[Fraction] = None, gpus: int = 1) -> TrainingReport:
    from acct.model.model import TOTAL_PARAMS

    batch = values["batch_size"]
    has_activations = not model.activation_problem
    precision = model.preset.training.get("precision", "fp32")
    optimizer_flops = values["optimizer_flops"]
    optimizer_label, optimizer_convention = _optimizer_description(model, values)
    return TrainingReport(
        name=model.preset.name, precision=precision, convention=model.activation_convention,
        batch_size=batch, context_length=values["context_length"], steps=values["steps"],
        rows=_training_rows(model, values, has_activations),
        flops_forward=values["train.flops_forward"], flops_backward=values["train.flops_backward"],
        flops_model=values["train.flops_model"], flops_optimizer=values["train.flops_optimizer"],
        flops_step=values["train.flops_step"], tokens_per_step=values["train.tokens_per_step"],
        memory=_training_memory(model, values, has_activations), phases=_training_phases(values),
        optimizer_impl=_optimizer_impl(values),
        activations_per_sequence=values["total.activations"] if has_activations else None,
        fixed_bytes=values["memory.fixed"], params=values[TOTAL_PARAMS],
        params_active=values["total.params_active"], time=_training_time(values, hardware, precision),
        conventions=_training_conventions(model, values, precision, optimizer_convention),
        problem=model.activation_problem,
        optimizer_flops=optimizer_flops, optimizer_label=optimizer_label,
        scale=make_scale_report(model, values) if _layout_given(model) else None,
        params_trainable=values.get("train.params_trainable"), params_lora=values.get("train.lora_params"),
    )


def _training_rows(model, values, has_activations: bool) -> List[TrainingRow]:
    """A row per component: its FLOPs forward and backward for the batch, its activations."""
    from acct.model.model import cell_name

    symbols = model.symbols
    batch = values["batch_size"]
    rows = []
    for row in model.rows:
        activations = values[cell_name(row, "activations")] if has_activations else None
        formula = activation_formula(row.activations, model.activation_convention)
        rows.append(
            TrainingRow(
                name=row.spec.name,
                group=row.spec.group,
                multiplicity=values[cell_name(row, "multiplicity")] if row.repeated else 1,
                flops_forward=values[cell_name(row, "flops")] * batch,
                flops_backward=values[cell_name(row, "flops_backward")] * batch,
                backward_display=row.flops_backward.display(symbols),
                activations=activations,
                activations_display=formula.display(symbols) if formula else "",
            )
        )
    return rows


def _training_memory(model, values, has_activations: bool):
    """The memory table's (key, label, bytes) rows: states, then activations and the peak."""
    batch = values["batch_size"]
    memory = [
        ("weights", f"weights ({values['weight_bytes']} B/param)", values["memory.weights"]),
        ("master", f"fp32 master weights ({values['master_bytes']} B/param)", values["memory.master"]),
        ("gradients", f"gradients ({values['grad_bytes']} B/param)", values["memory.gradients"]),
        ("optimizer", f"AdamW moments m, v ({values['moment_bytes']} B/param)", values["memory.optimizer"]),
    ]
    memory = _finetune_memory(model, values, memory)
    if has_activations and "memory.phase.optimizer" in values:  # phase by phase (acct.model.phases)
        memory.append(("activations", f"kept for backward ({batch:,} × {values['total.activations']:,} B)",
                       values["memory.activations"]))
        memory.append(("autocast_weights", "autocast's bf16 weight copies", values["memory.autocast_weights"]))
        memory.append(("peak", "peak of the step (the largest phase's)", values["memory.peak"]))
    elif has_activations:
        memory.append(("activations", f"activations ({batch:,} × {values['total.activations']:,} B)",
                       values["memory.activations"]))
        memory.append(("peak", "peak (the sum)", values["memory.peak"]))
    return memory


# the phases of one step (acct.model.phases): key -> (cell, label)
PHASES = {
    "forward_peak": ("memory.phase.forward", "forward, at the loss: weights, all kept, the logits and their fp32 copy"),
    "backward_start_peak": ("memory.phase.backward_start", "backward, at its start: all kept, the cross-entropy's "
                            "two fp32 gradients (B·T·V each)"),
    "backward_end_peak": ("memory.phase.backward_end", "backward, at its end: weights and every gradient"
                          " (a tied table's summed from two)"),
    "forward_backward_peak": ("memory.phase.forward_backward", "**forward + backward** (the largest of the three)"),
    "optimizer_step_peak": ("memory.phase.optimizer", "**optimizer step**: weights, gradients, moments, step "
                            "counters and the implementation's temporaries"),
}


def _optimizer_impl(values) -> str:
    from acct.model.phases import OPTIMIZER_IMPLS

    chosen = values.get("optimizer_impl", 0)
    return next((f"{name}: {text}" for name, (value, text) in OPTIMIZER_IMPLS.items() if value == chosen), str(chosen))


def _training_phases(values) -> List[Tuple[str, str, int]]:
    """The phase table's (key, label, bytes) rows, when the convention counts by phase."""
    if "memory.phase.optimizer" not in values:
        return []
    return [(key, label, values[cell]) for key, (cell, label) in PHASES.items()]


def _training_time(values, hardware, precision: str) -> Optional[TrainingTime]:
    """The run's time on the hardware, from the sheet's cells (gpu.time.compute per step); None without it."""
    if hardware is None:
        return None
    dtype = PRECISION_DTYPE[precision]
    steps = values["steps"]
    rate = values["peak_flops"] * values["mfu"] * values["gpus"]
    return TrainingTime(
        hardware.spec.name, hardware.spec.description, dtype, values["peak_flops"], Fraction(values["mfu"]),
        values["gpus"], steps, values["gpu.time.compute"] * steps,
        (values["gpu.time.compute"] + Fraction(values["train.flops_optimizer"]) / rate) * steps,
        values.get("device_memory", hardware.memory), hardware.spec.source,
        values.get("gpu.flops_recompute", 0),
    )


def _optimizer_description(model, values) -> Tuple[str, str]:
    """The optimizer's label in the FLOPs table and its line among the conventions."""
    optimizer_flops = values["optimizer_flops"]
    default = model.registry.inputs["optimizer_flops"].default if "optimizer_flops" in model.registry.inputs else None
    counted = default.evaluate({}) if default is not None and not default.names else None
    if optimizer_flops == counted:  # AdamW as the convention counts it
        optimizer_label, optimizer_convention = f"AdamW, {optimizer_flops:,} per parameter", OPTIMIZER_CONVENTION
    else:  # the label says what was computed, not what AdamW would be
        optimizer_label = f"{optimizer_flops:,} per parameter, as set by optimizer_flops"
        optimizer_convention = (f"optimizer: {optimizer_flops:,} FLOPs per parameter per step, as set by optimizer_flops"
                                + (f" (acct counts AdamW as {counted:,})" if counted is not None else ""))
    chosen = model.preset.training.get("optimizer")
    if chosen:  # --optimizer: its states and FLOPs as acct counts them (acct.model.finetune)
        from acct.model.finetune import OPTIMIZERS

        _, _, flops, kept, counted_as = OPTIMIZERS[chosen]
        if optimizer_flops == flops:
            optimizer_label = f"{chosen}, {optimizer_flops:,} per parameter"
            optimizer_convention = f"optimizer {chosen}: {kept}; FLOPs per parameter: {counted_as}"
    if "train.lora_params" in values:
        optimizer_label += f", {values['train.params_trainable']:,} trainable"
    return optimizer_label, optimizer_convention


def _lora_conventions(model, values) -> List[str]:
    """What LoRA (and QLoRA's NF4 base) count and leave out; none without LoRA."""
    if "train.lora_params" not in values:
        return []
    from acct.model.finetune import lora_targets

    names = ", ".join(row.spec.name for row in lora_targets(model.preset, model.rows))
    lora = [f"LoRA (Hu et al. 2021) of rank r = {values['lora_rank']:,} on {names}: r·(d_in + d_out) trainable "
            f"parameters per adapted matrix, {values['train.lora_params']:,} in all; the base is frozen (no "
            "gradients, no optimizer states). Simplifications: the FLOPs are the base model's (backward still "
            "2 × forward; the adapters' and the skipped weight gradients are not counted) and the adapters' "
            "own activations (r values per token per adapted matrix) are left out"]
    if model.preset.training.get("base_weights") == "nf4":
        lora.append("NF4 (QLoRA, Dettmers et al. 2023): 4 bits per weight, an 8-bit absmax per block of 64 and "
                    "an fp32 constant per 256 blocks: 4 + 8/64 + 32/(64·256) bits = 2113/4096 B per weight, for "
                    "the blocks' linear layers; embeddings, norms and the LM head stay at frozen_bytes")
    return lora


def _training_conventions(model, values, precision: str, optimizer_convention: str) -> List[str]:
    """The report's conventions: backward, optimizer, precision, activations, LoRA, the distributed optimizer."""
    conventions = [
        BACKWARD_CONVENTION, optimizer_convention,
        f"precision {precision}: " + ", ".join(f"{k} {v}" for k, v in PRECISIONS[precision].items()),
        f"activations: {model.activation_convention} — "
        + (model.registry.activations[model.activation_convention].spec.description
           if model.activation_convention in model.registry.activations
           else "none is registered (is the plugin that registers them disabled?)"),
    ] + _lora_conventions(model, values)
    if (_layout_given(model) and values.get("zero_stage") == 1 and values["grad_bytes"] > values["weight_bytes"]
            and values["master_bytes"]):  # --zero distributed
        conventions.append(
            "Megatron's distributed optimizer (--zero distributed): ZeRO-1 with fp32 gradients, "
            f"{values['weight_bytes']} + {values['grad_bytes']} + {values['master_bytes'] + values['moment_bytes']}/d "
            "bytes per parameter (Megatron-LM docs/source/api-guide/dist_optimizer.md: 6 + 12/d); its data-parallel "
            "collectives reduce-scatter the fp32 gradients and all-gather the bf16 weights")
    return conventions


def _finetune_memory(model, values, memory):
    """The memory rows' labels under LoRA (the base frozen, the adapters trained) and Adafactor."""
    from acct.model.finetune import FACTORED_BYTES

    rows = dict((key, (label, amount)) for key, label, amount in memory)
    if "train.lora_params" in values:
        base = model.preset.training.get("base_weights", "")
        quantized = values["train.params_quantized"]
        rows["weights"] = (
            f"weights: {quantized:,} block linears at {_bytes(values['quantized_bytes'])} B"
            + (f" ({base})" if base else "") + f", {values['total.params'] - quantized:,} others at "
            f"{_bytes(values['frozen_bytes'])} B (frozen), {values['train.lora_params']:,} LoRA adapters at "
            f"{values['weight_bytes']} B", rows["weights"][1])
        for key, what, per in (("master", "master weights of the adapters", "master_bytes"),
                               ("gradients", "gradients of the adapters", "grad_bytes")):
            rows[key] = (f"{what} ({values[per]} B/param)", rows[key][1])
        rows["optimizer"] = (f"optimizer states of the adapters ({values['moment_bytes']} B/param)",
                             rows["optimizer"][1])
    if "train.optimizer_factored_values" in values:
        rows["optimizer"] = (f"Adafactor: {values['train.optimizer_factored_values']:,} row and column sums at "
                             f"{FACTORED_BYTES} B, other parameters {values['moment_bytes']} B/param",
                             rows["optimizer"][1])
    elif model.preset.training.get("optimizer") not in (None, "adamw"):
        rows["optimizer"] = (f"{model.preset.training['optimizer']} states ({values['moment_bytes']} B/param)",
                             rows["optimizer"][1])
    return [(key,) + rows[key] for key, _, _ in memory]


def _bytes(value) -> str:
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


# -- training at scale: per GPU under a parallel layout (the sheet's gpu.* cells) --------------

RECOMPUTE_MODES = ("none", "selective", "full")


@dataclass(eq=False)
class Collective:
    name: str  # dp, tp, pp, cp, ep
    label: str
    formula: str
    bytes: Number  # sent by one GPU per step
    link: Optional[str]  # "intra-node" or "network" (None without hardware)
    seconds: Optional[Number]


@dataclass(eq=False)
class ScaleReport:
    layout: List[Tuple[str, Number]]  # (input, value): dp, tp, pp, cp, ep, v, micro_batch, ...
    recompute: str
    micro_batches: int
    memory: List[Tuple[str, Number, Number]]  # (part, first stage, last stage): bytes on one GPU
    peak: Number
    params: Number  # parameters on the most loaded GPU (before ZeRO)
    in_flight: Number
    collectives: List[Collective]
    device_memory: Optional[Number] = None
    time: List[Tuple[str, Number]] = field(default_factory=list)  # (part, seconds per step)
    step_seconds: Optional[Number] = None
    overlap: Number = 0


LAYOUT_SHOWN = ("gpus", "dp", "tp", "pp", "cp", "ep", "virtual_stages", "micro_batch", "zero_stage",
                "sequence_parallel", "recompute", "overlap")


def _layout_given(model) -> bool:
    """Whether the user stated a parallel layout (a report then shows the per-GPU section)."""
    from acct.model.outputs import LAYOUT_INPUTS

    # `--gpus N` alone is a layout too: data parallelism over N GPUs
    return "gpu.memory.peak" in model.sheet and any(name in model.given for name in (*LAYOUT_INPUTS, "gpus"))


def make_scale_report(model, values) -> ScaleReport:
    from acct.model.parallel import COLLECTIVES

    parts = ("weights", "gradients", "master", "optimizer", "states", "activations", "peak")
    memory = [(part, values[f"gpu.memory.first.{part}"], values[f"gpu.memory.last.{part}"]) for part in parts]
    collectives = []
    for name, label, _ in COLLECTIVES:
        cell = f"gpu.comm.{name}"
        intra = values.get(f"gpu.intra.{name}")
        collectives.append(Collective(
            name, label, model.sheet[cell].formula.display(model.symbols), values[cell],
            None if intra is None else ("intra-node" if intra else "network"), values.get(f"gpu.time.comm_{name}")))
    time = [(part, values[f"gpu.time.{part}"]) for part in ("compute", "bubble", "comm")
            if f"gpu.time.{part}" in values]
    return ScaleReport(
        layout=[(name, values[name]) for name in LAYOUT_SHOWN if name in values],
        recompute=RECOMPUTE_MODES[values["recompute"]], micro_batches=values["micro_batches"],
        memory=memory, peak=values["gpu.memory.peak"], params=values["gpu.params"], in_flight=values["gpu.in_flight"],
        collectives=collectives, device_memory=values.get("device_memory"), time=time,
        step_seconds=values.get("gpu.time.step"), overlap=values.get("overlap", 0),
    )


# -- goal seek ------------------------------------------------------------------

COMPARISONS = {"<=": lambda a, b: a <= b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, ">": lambda a, b: a > b}
MAX_SOLVE = 1 << 62
# Values probed, from the input's least value up, for the first two that every constraint
# accepts (d_model must be a multiple of num_heads: 25 and 50 for 25 heads).
MAX_SCAN = 1 << 18


@dataclass(eq=False)
class Solution:
    input: str
    goal: str  # "largest" or "smallest"
    output: str
    comparison: str
    target: Number
    target_text: str
    answer: Optional[int]
    at_answer: Optional[Number]
    neighbour: Optional[int]  # the next value searched past the answer
    at_neighbour: Optional[Number]
    start: int = 0  # the values searched: start, start + step, start + 2·step, ...
    step: int = 1
    least: int = 0  # the input's least value; start > least when smaller values break a constraint
    # the values searched when the model accepts a finite, irregular set of them (gpus whose
    # data parallelism must divide the batch: 2, 4, 8, 16, 32, 64, 128); None for a lattice
    values: Optional[List[int]] = None
    last: Optional[int] = None  # a lattice's last value the model accepts, when it has one (a table's length)


def parse_condition(text: str) -> Tuple[str, str, Number, str]:
    """'memory.peak <= 80GB' -> (output, comparison, target, target as written)."""
    for comparison in ("<=", ">=", "<", ">"):
        left, found, right = text.partition(comparison)
        if found:
            output, target_text = left.strip(), right.strip()
            if not output:
                break
            from acct.engine.units import quantity

            return output, comparison, quantity(target_text, f"--where {text!r}"), target_text
    raise ConfigError(f"--where {text!r}: expected OUTPUT OP VALUE with OP one of <= < >= >, e.g. 'memory.peak <= 80GB'")


def solve(model, input_name: str, goal: str, condition: str) -> Solution:
    """The largest (or smallest) whole value of `input_name` for which `condition` holds,
    assuming the output changes monotonically with the input; exact, by bisection.

    Only values the model accepts are answers, and only they are searched: the values from
    the input's least up that every constraint accepts, found by scanning (Domain). They are
    a lattice start, start + step, ... (d_model with 25 heads: 25, 50, ...) or a finite set
    (the GPUs a batch of 64 divides over: 1, 2, 4, ..., 64). A lattice that the model stops
    accepting past the scan (a context beyond max_positions) ends at the last value it accepts,
    which is then the largest searched: no answer is a value the model refuses."""
    from acct.model.inputs import settable_input

    option = f"--{goal}"
    settable_input(model.registry, input_name, option)
    output, comparison, target, target_text = parse_condition(condition)
    output_cell(model, output, "--where")
    sheet = model.sheet
    least = sheet[input_name].minimum if sheet[input_name].minimum is not None else 0
    # searched up to 2^62 where the sheet's bounds allow it; where the input enters the sheet more
    # than once (gpus = 4·tp, dp = gpus / tp), up to 2^30
    for bits in (MAX_PARAM_BITS, 32):
        try:
            evaluate = sheet.function([input_name], [output], option, bits)
            break
        except BoundsError:
            if bits == 32:
                raise
    test = COMPARISONS[comparison]
    domain = Domain.scan(evaluate.valid, input_name, least, lambda x: evaluate(x), (1 << (bits - 2)))

    def value(k: int) -> Number:
        x = domain.at(k)
        if domain.values is None and not evaluate.valid(x):
            # a lattice past the scan that the model stops accepting (a context beyond a learned
            # table): the values it accepts end before x; search up to the last of them
            domain.clip(evaluate.valid, k)
            raise _Clipped()
        return evaluate(x)[0]

    def holds(k: int) -> bool:
        return test(value(k), target)

    def solution(answer: Optional[int], neighbour: Optional[int]) -> Solution:
        return Solution(input_name, goal, output, comparison, target, target_text,
                        None if answer is None else domain.at(answer),
                        None if answer is None else value(answer),
                        None if neighbour is None else domain.at(neighbour),
                        None if neighbour is None else value(neighbour), domain.start, domain.step, least,
                        domain.values, domain.at(domain.top) if domain.finite and domain.values is None else None)

    while True:
        try:
            return _search(domain, goal, condition, input_name, holds, solution)
        except _Clipped:  # searched again over the values the model accepts
            continue


class _Clipped(Exception):
    """A lattice's probe the model refuses: the domain was clipped below it."""


def _search(domain: "Domain", goal: str, condition: str, input_name: str, holds, solution) -> Solution:
    """Exponential search for a bracket, then bisection: `good` holds, `bad` does not."""
    top = domain.top  # the last k searched
    if goal == "largest":
        if not holds(0):
            return solution(None, 0)
        good, bad = 0, min(1, top)
        while bad > good and holds(bad):
            if bad >= top:
                if domain.finite:  # the largest value the model accepts
                    return solution(bad, None)
                raise ConfigError(f"solve: {condition!r} still holds at {input_name} = {domain.at(bad):,}; "
                                  "there is no largest value")
            good, bad = bad, min(2 * bad, top)
        if bad == good:  # a single accepted value, which holds
            return solution(good, None)
    else:
        if holds(0):
            return solution(0, None)
        if top == 0:
            return solution(None, 0)
        bad, good = 0, 1
        while not holds(good):
            if good >= top:
                return solution(None, good)
            bad, good = good, min(2 * good, top)
    while abs(good - bad) > 1:
        middle = (good + bad) // 2
        if holds(middle):
            good = middle
        else:
            bad = middle
    return solution(good, bad)


class Domain:
    """The whole values of an input that every constraint accepts, as a solve searches them:
    the k-th is start + k·step (a lattice, up to MAX_SOLVE) or values[k] (a finite set)."""

    def __init__(self, start: int, step: int, values: Optional[List[int]] = None, limit: int = MAX_SOLVE):
        self.start, self.step, self.values = start, step, values
        self.top = len(values) - 1 if values is not None else max((limit - start) // step, 0)
        self.finite = values is not None  # its last value is the last the model accepts

    def clip(self, valid: Callable[[int], bool], refused: int) -> None:
        """The lattice ends before its `refused`-th value: the last k the model accepts, by
        bisection (the accepted values being those up to some k, as a table's length makes them)."""
        good, bad = 0, refused
        while bad - good > 1:
            middle = (good + bad) // 2
            if valid(self.at(middle)):
                good = middle
            else:
                bad = middle
        self.top, self.finite = good, True

    def at(self, k: int) -> int:
        return self.values[k] if self.values is not None else self.start + k * self.step

    def text(self, name: str) -> str:
        if self.values is not None:
            return f" (searching {name} = {_listing(self.values)}: the values every constraint accepts)"
        return _lattice_text(name, self.start, self.step)

    @classmethod
    def scan(cls, valid: Callable[[int], bool], name: str, least: int, explain: Callable[[int], object],
             limit: int = MAX_SOLVE) -> "Domain":
        """Scan from `least` up, in windows growing to MAX_SCAN values: values evenly spaced to
        the window's end are a lattice; values that stop well before it (none in its upper half)
        are the finite set the model accepts."""
        found: List[int] = []
        end = least
        window = FIRST_SCAN
        while True:
            for x in range(end, least + window):
                if valid(x):
                    found.append(x)
            end = least + window
            steps = {b - a for a, b in zip(found, found[1:])}
            if len(found) >= 2 and len(steps) == 1 and found[-1] + found[1] - found[0] >= end:
                return cls(found[0], found[1] - found[0], limit=limit)  # evenly spaced up to the window's end
            if found and found[-1] < least + window // 2:
                return cls(found[0], 1, found)  # none in the window's upper half: a finite set
            if window >= MAX_SCAN:
                break
            window *= 4
        probe = least if not found else found[-1] + 1
        try:
            explain(probe)
        except AcctError as error:
            reason = str(error)
        else:  # pragma: no cover - valid() and the function agree
            reason = "unknown"
        if not found:
            raise ConfigError(f"solve: no {name} from {least:,} to {end - 1:,} meets every constraint; "
                              f"at {name} = {probe:,}: {reason}")
        raise ConfigError(f"solve: the values of {name} that meet every constraint from {least:,} to {end - 1:,} "
                          f"({_listing(found)}) are neither evenly spaced nor few; at {name} = {probe:,}: {reason}")


FIRST_SCAN = 1 << 10


def _listing(values: Sequence[int]) -> str:
    shown = ", ".join(f"{value:,}" for value in values[:8])
    return shown + (f", … ({len(values):,} values, up to {values[-1]:,})" if len(values) > 8 else "")


def _lattice_text(name: str, start: int, step: int) -> str:
    if step == 1:
        return ""
    return f" (searching {name} = {start:,}, {start + step:,}, {start + 2 * step:,}, ...: the values every constraint accepts)"
