"""Training and inference reports, and goal seek: what `acct train`, `acct infer` and `acct solve` print.

Imported only by those commands; the sheet cells they read are built by model.py
from the outputs in training.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import List, Optional, Tuple

from .errors import ConfigError, suggest
from .model import output_cell
from .formula import Number
from .training import (
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
    activations_per_sequence: Optional[int]  # a in a·B + b
    fixed_bytes: int  # b
    params: int
    time: Optional[TrainingTime]
    conventions: List[str] = field(default_factory=list)
    problem: str = ""

    @property
    def tokens(self) -> int:
        return self.tokens_per_step * self.steps

    @property
    def six_n_d(self) -> int:
        return 6 * self.params * self.tokens

    @property
    def optimal_tokens(self) -> int:
        return CHINCHILLA_TOKENS_PER_PARAM * self.params


def make_training_report(model, values, hardware=None, mfu: Optional[Fraction] = None, gpus: int = 1) -> TrainingReport:
    from .model import TOTAL_PARAMS, cell_name

    symbols = model.symbols
    batch = values["batch_size"]
    has_activations = not model.activation_problem
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
    memory = [
        ("weights", f"weights ({values['weight_bytes']} B/param)", values["memory.weights"]),
        ("master", f"fp32 master weights ({values['master_bytes']} B/param)", values["memory.master"]),
        ("gradients", f"gradients ({values['grad_bytes']} B/param)", values["memory.gradients"]),
        ("optimizer", f"AdamW moments m, v ({values['moment_bytes']} B/param)", values["memory.optimizer"]),
    ]
    if has_activations:
        memory.append(("activations", f"activations ({batch:,} × {values['total.activations']:,} B)",
                       values["memory.activations"]))
        memory.append(("peak", "peak (the sum)", values["memory.peak"]))
    precision = model.preset.training.get("precision", "fp32")
    time = None
    if hardware is not None:
        dtype = PRECISION_DTYPE[precision]
        if dtype not in hardware.flops:
            raise ConfigError(f"--hardware {hardware.spec.name}: no peak FLOP/s for {dtype} "
                              f"(it gives {', '.join(hardware.flops)})")
        rate = Fraction(hardware.flops[dtype]) * (mfu or 1) * gpus
        steps = values["steps"]
        time = TrainingTime(
            hardware.spec.name, hardware.spec.description, dtype, hardware.flops[dtype], mfu or Fraction(1), gpus,
            steps, values["train.flops_model"] * steps / rate, values["train.flops_step"] * steps / rate,
            hardware.memory, hardware.spec.source,
        )
    conventions = [
        BACKWARD_CONVENTION, OPTIMIZER_CONVENTION,
        f"precision {precision}: " + ", ".join(f"{k} {v}" for k, v in PRECISIONS[precision].items()),
        f"activations: {model.activation_convention} — "
        + model.registry.activations[model.activation_convention].spec.description,
    ]
    return TrainingReport(
        name=model.preset.name, precision=precision, convention=model.activation_convention,
        batch_size=batch, context_length=values["context_length"], steps=values["steps"], rows=rows,
        flops_forward=values["train.flops_forward"], flops_backward=values["train.flops_backward"],
        flops_model=values["train.flops_model"], flops_optimizer=values["train.flops_optimizer"],
        flops_step=values["train.flops_step"], tokens_per_step=values["train.tokens_per_step"],
        memory=memory, activations_per_sequence=values["total.activations"] if has_activations else None,
        fixed_bytes=values["memory.fixed"], params=values[TOTAL_PARAMS], time=time,
        conventions=conventions, problem=model.activation_problem,
    )


@dataclass(eq=False)
class DecodeRow:
    name: str
    flops_decode: int  # per generated token, × batch_size
    display: str
    kv_cache: int  # elements for one sequence of T tokens, all the row's instances


@dataclass(eq=False)
class InferenceReport:
    name: str
    batch_size: int
    context_length: int
    position: int
    kv_bytes: int
    kv_per_token: Number  # bytes per token of one sequence (a fraction when windowed layers cache fewer)
    kv_per_sequence: int  # bytes, one sequence of T tokens
    kv_display: str
    kv_total: int  # bytes, batch × context
    flops_prefill: int
    flops_decode: int
    rows: List[DecodeRow]


def make_inference_report(model, values) -> InferenceReport:
    from .model import cell_name

    symbols = model.symbols
    batch = values["batch_size"]
    rows = [
        DecodeRow(row.spec.name, values[cell_name(row, "flops_decode")] * batch,
                  row.flops_decode.display(symbols), values[cell_name(row, "kv_cache")])
        for row in model.rows
    ]
    kv_parts = [
        f"{row.multiplicity.display(symbols)}·{row.kv_cache.display(symbols)}" if row.repeated
        else row.kv_cache.display(symbols)
        for row in model.rows if row.kv_cache.text != "0"
    ]
    display = f"({' + '.join(kv_parts)})·bytes" if kv_parts else "0"
    return InferenceReport(
        name=model.preset.name, batch_size=batch, context_length=values["context_length"],
        # no row may read the decode position (a plugin's rows all linear in T): it is then T
        position=values.get("decode_position", values["context_length"]), kv_bytes=values["kv_bytes"],
        kv_per_token=values["kv_cache.bytes_per_token"], kv_per_sequence=values["kv_cache.bytes_per_sequence"],
        kv_display=display, kv_total=values["kv_cache.bytes"],
        flops_prefill=values["infer.flops_prefill"], flops_decode=values["infer.flops_decode"], rows=rows,
    )


# -- goal seek ------------------------------------------------------------------

COMPARISONS = {"<=": lambda a, b: a <= b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, ">": lambda a, b: a > b}
MAX_SOLVE = 1 << 62


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
    neighbour: Optional[int]  # one past the answer
    at_neighbour: Optional[Number]


def parse_condition(text: str) -> Tuple[str, str, Number, str]:
    """'memory.peak <= 80GB' -> (output, comparison, target, target as written)."""
    for comparison in ("<=", ">=", "<", ">"):
        left, found, right = text.partition(comparison)
        if found:
            output, target_text = left.strip(), right.strip()
            if not output:
                break
            from .units import quantity

            return output, comparison, quantity(target_text, f"--where {text!r}"), target_text
    raise ConfigError(f"--where {text!r}: expected OUTPUT OP VALUE with OP one of <= < >= >, e.g. 'memory.peak <= 80GB'")


def solve(model, input_name: str, goal: str, condition: str) -> Solution:
    """The largest (or smallest) whole value of `input_name` for which `condition` holds,
    assuming the output changes monotonically with the input; exact, by bisection."""
    output, comparison, target, target_text = parse_condition(condition)
    sheet = model.sheet
    output_cell(model, output, "--where")
    if input_name not in sheet:
        inputs = [cell.name for cell in sheet.cells if "." not in cell.name]
        raise ConfigError(f"solve: unknown input {input_name!r}{suggest(input_name, inputs)}")
    evaluate = sheet.function([input_name], [output])
    position = 0
    test = COMPARISONS[comparison]
    least = sheet[input_name].minimum if sheet[input_name].minimum is not None else 0

    def value(x: int) -> Number:
        return evaluate(x)[position]

    def holds(x: int) -> bool:
        return test(value(x), target)

    def solution(answer: Optional[int], neighbour: Optional[int]) -> Solution:
        return Solution(input_name, goal, output, comparison, target, target_text,
                        answer, None if answer is None else value(answer),
                        neighbour, None if neighbour is None else value(neighbour))

    # Exponential search for a bracket, then bisection: `good` holds, `bad` does not.
    if goal == "largest":
        if not holds(least):
            return solution(None, least)
        good, bad = least, max(2 * least, least + 1)
        while holds(bad):
            if bad >= MAX_SOLVE:
                raise ConfigError(f"solve: {condition!r} still holds at {input_name} = {bad:,}; there is no largest value")
            good, bad = bad, 2 * bad
    else:
        if holds(least):
            return solution(least, None)
        bad, good = least, max(2 * least, least + 1)
        while not holds(good):
            if good >= MAX_SOLVE:
                return solution(None, good)
            bad, good = good, 2 * good
    while abs(good - bad) > 1:
        middle = (good + bad) // 2
        if holds(middle):
            good = middle
        else:
            bad = middle
    return solution(good, bad)
