"""The training and goal-seek reports (inference: render/inference.py): their data (the JSON record) and their markdown;
their CSV is the data in long format, one exact value per line."""

from __future__ import annotations

from fractions import Fraction
from typing import Dict, Iterable, List, Sequence, Tuple

from acct.engine.formula import Number
from acct.engine.numbers import exact, fixed, percent, significant
from acct.render import Kind
from acct.render.escape import markdown as md
from acct.render.formats import DEFAULT_TABLEFMT, LONG_HEADER, long_records, number, table
from acct.render.markdown import GB, GiB, exact_or_fixed
from acct.reports.run import share
from acct.reports.training import ScaleReport, Solution, TrainingReport, TrainingTime
from acct.model.outputs import PRECISION_TEXT

DAY = 86_400


def _bytes(value: Number) -> str:
    """`80,000,000,000 B (80.00 GB, 74.51 GiB)`; a fractional count (a --where target of
    0.5 bytes) exactly, as `1/2 B`."""
    return f"{exact(value)} B ({fixed(Fraction(value) / GB, 2)} GB, {fixed(Fraction(value) / GiB, 2)} GiB)"


# -- training -------------------------------------------------------------------


def training_markdown(report: TrainingReport, tablefmt: str = DEFAULT_TABLEFMT) -> str:
    out = [f"# {md(report.name)}: one training step", ""]
    out += [
        f"B = {report.batch_size:,} sequences of T = {report.context_length:,} tokens "
        f"({report.tokens_per_step:,} tokens per step); precision {md(report.precision)}"
        + (f" ({md(PRECISION_TEXT[report.precision])})" if report.phases and report.precision in PRECISION_TEXT else "")
        + f"; activations counted as {md(report.convention)}"
        + (f"; AdamW stepping {md(report.optimizer_impl)}" if report.phases else "") + ".",
        "",
        "## FLOPs of one step",
        "",
    ]
    out += _flops_markdown(report, tablefmt)
    out += _memory_markdown(report, tablefmt)
    if report.time:
        out += _time_markdown(report, report.time)
    if report.scale is not None:
        out += scale_markdown(report.scale, tablefmt)
    out += _chinchilla_markdown(report)
    out += ["Conventions:", ""] + [f"- {md(line)}" for line in report.conventions] + [""]
    return "\n".join(out)


def _flops_markdown(report: TrainingReport, tablefmt: str) -> List[str]:
    """The step's FLOPs by component, then forward, backward, optimizer, the step and per token."""
    out: List[str] = []
    rows = [
        [row.name, f"{row.flops_forward:,}", row.backward_display, f"{row.flops_backward:,}",
         percent(share(row.flops_forward + row.flops_backward, report.flops_model))]
        for row in report.rows if row.flops_forward or row.flops_backward
    ]
    rows.append(["**total**", f"**{report.flops_forward:,}**", "", f"**{report.flops_backward:,}**", "100.0%"])
    out += [table(["component", "forward (× B)", "backward each", "backward (× B)", "share"], rows, "lrlrr", tablefmt), ""]
    per_token = Fraction(report.flops_step, report.tokens_per_step)
    rows = [
        ["forward", f"{report.flops_forward:,}"],
        ["backward (2 × forward)", f"{report.flops_backward:,}"],
        ["forward + backward", f"{report.flops_model:,}"],
        [f"optimizer ({report.optimizer_label})", f"{report.flops_optimizer:,}"],
        ["**one step**", f"**{report.flops_step:,}**"],
        ["per token", exact(per_token) if per_token.denominator == 1 else fixed(per_token, 2)],
    ]
    out += [table(["", "FLOPs"], rows, "lr", tablefmt), ""]
    return out


def _memory_markdown(report: TrainingReport, tablefmt: str) -> List[str]:
    """The memory table, and the activations kept per sequence (or why they are not counted)."""
    out: List[str] = []
    out += ["## Memory", ""]
    rows = [[label, f"{size:,}", fixed(Fraction(size, GiB), 2), fixed(Fraction(size, GB), 2)]
            for key, label, size in report.memory]
    out += [table(["", "bytes", "GiB (1024³ B)", "GB (10⁹ B)"], rows, "lrrr", tablefmt), ""]
    if report.phases:
        rows = [[label, f"{size:,}", fixed(Fraction(size, GiB), 2), fixed(Fraction(size, GB), 2)]
                for key, label, size in report.phases]
        out += ["### Phases of the step: each one's peak", "",
                table(["phase", "bytes", "GiB (1024³ B)", "GB (10⁹ B)"], rows, "lrrr", tablefmt), "",
                "The step's peak is the largest phase's, as PyTorch's memory tracker measures it "
                "(torch.distributed._tools.mem_tracker): not a sum of every part.", ""]
    if report.activations_per_sequence is not None and report.phases:
        out += [f"### Activations kept for the backward pass, per sequence ({md(report.convention)})", ""]
        total = report.activations_per_sequence
        rows = [[row.name, row.activations_display, f"×{row.multiplicity:,}", f"{row.activations:,}",
                 percent(share(row.activations, total))]
                for row in report.rows if row.activations]
        out += [table(["component", "bytes each", "×", "bytes", "share"], rows, "llrrr", tablefmt), ""]
    elif report.activations_per_sequence is not None:
        out += [
            f"**Peak memory = {report.activations_per_sequence:,}·B + {report.fixed_bytes:,} bytes**: "
            "activations per sequence times the batch, plus weights, master weights, gradients and "
            "optimizer state.",
            "",
            f"### Activations kept for the backward pass, per sequence ({md(report.convention)})",
            "",
        ]
        total = report.activations_per_sequence
        rows = [[row.name, row.activations_display, f"×{row.multiplicity:,}", f"{row.activations:,}",
                 percent(share(row.activations, total))]
                for row in report.rows if row.activations]
        out += [table(["component", "bytes each", "×", "bytes", "share"], rows, "llrrr", tablefmt), ""]
    else:
        out += [f"Activations are not counted: {md(report.problem)}.", ""]
    return out


def _time_markdown(report: TrainingReport, time: TrainingTime) -> List[str]:
    """The run's time on the hardware, the optimizer's share, and whether the peak fits."""
    out: List[str] = []
    optimizer_seconds = time.seconds_with_optimizer - time.seconds
    out += ["## Time", ""]
    out += [
        f"On {time.gpus:,} × {md(time.hardware)} ({md(time.description)}) at {human_rate(time.peak)} {md(time.dtype)} peak "
        f"and {percent(time.mfu, 1)} MFU: {time.steps:,} step{'' if time.steps == 1 else 's'} of "
        f"{report.flops_model:,} FLOPs (forward + backward)"
        + (f" and {time.recompute:,} of recomputation" if time.recompute else "")
        + f" take **{significant(time.seconds)} s = "
        f"{_days(time.seconds)} days**. "
        f"The optimizer's {report.flops_optimizer * time.steps:,} FLOPs would add "
        f"{significant(optimizer_seconds)} s ({significant(share_fraction(optimizer_seconds, time.seconds) * 100, 2)}%), "
        f"{_days(time.seconds_with_optimizer)} days in all, if they ran at the same rate.",
        "",
    ]
    if report.scale is not None:
        fits = "fits" if report.scale.peak <= time.memory else "does not fit"
        out += [f"Peak memory per GPU {_bytes(report.scale.peak)} {fits} in one device's "
                f"{_bytes(time.memory)}.", ""]
    elif report.activations_per_sequence is not None:
        peak = dict((key, size) for key, _, size in report.memory)["peak"]
        fits = "fits" if peak <= time.memory else "does not fit"
        out += [f"Peak memory {_bytes(peak)} {fits} in one device's {_bytes(int(time.memory))} "
                "(without sharding the states over the GPUs).", ""]
    out += [f"Source: {md(time.source)}.", ""]
    return out


def _chinchilla_markdown(report: TrainingReport) -> List[str]:
    """The exact count against 6·N·D, and the run's data against Chinchilla's optimum."""
    out: List[str] = []
    six_n_d = report.six_n_d
    exact_run = report.flops_model * report.steps
    out += ["## Against Chinchilla's 6·N·D", ""]
    out += [
        (f"N = {report.params:,} parameters" if report.params_active == report.params else
         f"N = {report.params_active:,} active parameters (of {report.params:,}: a token visits only its routed "
         "experts)") + f", D = {report.tokens:,} tokens ({report.steps:,} steps × "
        f"{report.tokens_per_step:,}): 6·N·D = {six_n_d:,} FLOPs; acct's exact count (forward + backward) is "
        f"{exact_run:,} ({fixed(Fraction(exact_run, six_n_d), 4)} × 6·N·D; the difference is attention's "
        "T² terms and the LM head counted exactly). Compute-optimal data for N at 20 tokens per parameter "
        f"(Hoffmann et al. 2022): {report.optimal_tokens:,} tokens; this run uses "
        f"{fixed(Fraction(report.tokens, report.optimal_tokens), 2)}× that.",
        "",
    ]
    return out


STATE_LABELS = {"weights": "weights", "gradients": "gradients", "master": "master weights",
                "optimizer": "optimizer states", "states": "**model states**", "activations": "activations",
                "peak": "**peak**"}


def scale_markdown(scale: ScaleReport, tablefmt: str = DEFAULT_TABLEFMT) -> List[str]:
    """The per-GPU section: the layout, memory on the first and last stages, collectives, time."""
    layout = ", ".join(f"{name} = {exact(value)}" for name, value in scale.layout)
    out = ["## Per GPU (the most loaded)", "",
           f"Layout: {layout} ({scale.micro_batches:,} micro-batch{'' if scale.micro_batches == 1 else 'es'} per step; "
           f"recomputation {scale.recompute}). "
           f"Parameters on the most loaded GPU before ZeRO: {exact_or_fixed(scale.params)}.", ""]
    single = all(first == last for _, first, last in scale.memory)
    header = ["", "bytes", "GB (10⁹ B)"] if single else ["", "first stage, bytes", "GB", "last stage, bytes", "GB"]
    rows = []
    for part, first, last in scale.memory:
        cells = [STATE_LABELS[part], exact_or_fixed(first), fixed(Fraction(first) / GB, 2)]
        if not single:
            cells += [exact_or_fixed(last), fixed(Fraction(last) / GB, 2)]
        rows.append(cells)
    out += [table(header, rows, "l" + "r" * (len(header) - 1), tablefmt), ""]
    out += [f"The first stage holds the activations of {exact_or_fixed(scale.in_flight)} micro-batches in flight "
            "(1F1B: min(m, p); interleaved: p + (p − 1)/v).", ""]
    rows = []
    for c in scale.collectives:
        row = [c.label, c.formula, exact_or_fixed(c.bytes)]
        if c.link is not None:
            row += [c.link, significant(c.seconds) if c.seconds else "0"]
        rows.append(row)
    header = ["collective", "bytes sent per GPU per step", "bytes"] + (
        ["link", "seconds"] if scale.collectives and scale.collectives[0].link is not None else [])
    out += ["### Communication per step", "", table(header, rows, "llr" + "lr"[: len(header) - 3], tablefmt), ""]
    if scale.time:
        rows = [[part, significant(seconds)] for part, seconds in scale.time]
        rows.append([f"**step** (compute + bubble + (1 − {exact_or_fixed(scale.overlap)}) × comm)",
                     f"**{significant(scale.step_seconds)}**"])
        out += ["### Time per step", "", table(["", "seconds"], rows, "lr", tablefmt), ""]
    return out


def scale_data(scale: ScaleReport) -> Dict:
    return {
        "layout": {name: number(Fraction(value)) for name, value in scale.layout},
        "recompute": scale.recompute, "micro_batches": scale.micro_batches, "params": number(Fraction(scale.params)),
        "in_flight": number(Fraction(scale.in_flight)),
        "memory_bytes": {part: {"first_stage": number(Fraction(first)), "last_stage": number(Fraction(last))}
                         for part, first, last in scale.memory},
        "peak_bytes": number(Fraction(scale.peak)),
        "communication": [{"collective": c.name, "label": c.label, "formula": c.formula,
                           "bytes": number(Fraction(c.bytes)), "link": c.link,
                           "seconds": None if c.seconds is None else number(Fraction(c.seconds))}
                          for c in scale.collectives],
        "time_seconds": {part: number(Fraction(seconds)) for part, seconds in scale.time}
        | ({"step": number(Fraction(scale.step_seconds))} if scale.step_seconds is not None else {}),
    }


def _days(seconds: Fraction) -> str:
    """Days to two decimals, or to three significant digits when that would show 0.00."""
    days = Fraction(seconds, DAY)  # an int / DAY would be a float: a whole step time is an int
    return fixed(days, 2) if days >= 1 else significant(days)


def human_rate(value) -> str:
    """A FLOP rate in TFLOP/s, or in FLOP/s where that would read 0.0 (a hardware file's 1 FLOP/s)."""
    tera = Fraction(value, 10**12)
    if tera < Fraction(1, 20):
        return f"{exact(value)} FLOP/s"
    return f"{fixed(tera, 1)} TFLOP/s"


def _ordinal(number: int) -> str:
    """3rd, 11th, 22nd, 1,001st."""
    suffix = "th" if number % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number:,}{suffix}"


def share_fraction(part: Fraction, whole: Fraction) -> Fraction:
    return part / whole if whole else Fraction(0)


def training_data(report: TrainingReport) -> Dict:
    data = {
        "schema": "acct.train/1",
        "preset": report.name,
        "precision": report.precision,
        "activations_convention": report.convention,
        "batch_size": report.batch_size,
        "context_length": report.context_length,
        "steps": report.steps,
        "params": {"total": report.params, "active": report.params_active,
                   **({"trainable": report.params_trainable} if report.params_trainable is not None else {}),
                   **({"lora": report.params_lora} if report.params_lora is not None else {})},
        "rows": [
            {"name": r.name, "group": r.group, "flops_forward": r.flops_forward, "flops_backward": r.flops_backward,
             "activations_bytes": r.activations, "activations_display": r.activations_display}
            for r in report.rows
        ],
        "flops": {
            "forward": report.flops_forward, "backward": report.flops_backward,
            "forward_backward": report.flops_model, "optimizer": report.flops_optimizer, "step": report.flops_step,
            "per_token": number(Fraction(report.flops_step, report.tokens_per_step)),
        },
        "memory_bytes": {key: size for key, _, size in report.memory},
        # phase by phase the peak is a max, not a·B + b
        "memory_expression": None if report.activations_per_sequence is None or report.phases else
        {"per_sequence": report.activations_per_sequence, "fixed": report.fixed_bytes},
        **({"memory_phases": {key: size for key, _, size in report.phases},
            "optimizer_impl": report.optimizer_impl} if report.phases else {}),
        "chinchilla": {"tokens": report.tokens, "six_n_d": report.six_n_d,
                       "exact_forward_backward": report.flops_model * report.steps,
                       "optimal_tokens": report.optimal_tokens},
        "conventions": report.conventions,
    }
    if report.scale is not None:
        data["per_gpu"] = scale_data(report.scale)
    if report.time:
        t = report.time
        data["time"] = {"hardware": t.hardware, "dtype": t.dtype, "peak_flops_per_s": number(Fraction(t.peak)),
                        "mfu": number(t.mfu), "gpus": t.gpus, "steps": t.steps,
                        "seconds": number(t.seconds), "seconds_with_optimizer": number(t.seconds_with_optimizer),
                        "flops_recompute_per_step": t.recompute}
    return data


def training_records(data: Dict) -> Tuple[Sequence[str], Iterable[Sequence]]:
    """Long format, one exact value per line: section, name, quantity, value."""
    records: List[Tuple[str, str, str, object]] = []
    for row in data["rows"]:
        records += [("rows", row["name"], "flops_forward", row["flops_forward"]),
                    ("rows", row["name"], "flops_backward", row["flops_backward"])]
        if row["activations_bytes"] is not None:
            records.append(("rows", row["name"], "activations_bytes", row["activations_bytes"]))
    records += [("flops", "step", key, value) for key, value in data["flops"].items()]
    records += [("memory", key, "bytes", size) for key, size in data["memory_bytes"].items()]
    records += [("chinchilla", "run", key, value) for key, value in data["chinchilla"].items()]
    records += [("time", "run", key, value) for key, value in data.get("time", {}).items()]
    scale = data.get("per_gpu")
    if scale:
        records += [("per_gpu", "memory", f"{part}.{stage}", value) for part, stages in scale["memory_bytes"].items()
                    for stage, value in stages.items()]
        records += [("per_gpu", "communication", c["collective"], c["bytes"]) for c in scale["communication"]]
        records += [("per_gpu", "time", part, value) for part, value in scale["time_seconds"].items()]
    return LONG_HEADER, long_records(records)


# -- goal seek ------------------------------------------------------------------


INFER_SECONDS = ("_time", ".ttft", ".latency", ".time_per_token", ".weight_floor")  # infer cells in seconds


def _value(output: str, value) -> str:
    if output.startswith(("memory.", "kv_cache.", "infer.memory")) or output.endswith("_bytes"):
        return _bytes(value)
    if (output.startswith("infer.") and output.endswith(INFER_SECONDS)) or output.startswith("gpu.time."):
        from acct.render.inference import seconds

        if not value:
            return "0 s"
        shown, written = seconds(value), f"{exact(value)} s"
        return shown if shown == written else f"{shown} ({written})"
    return exact(value)


def solution_markdown(solution: Solution, tablefmt: str = DEFAULT_TABLEFMT) -> str:
    target = _value(solution.output, solution.target)
    condition = f"{md(solution.output)} {solution.comparison} {md(solution.target_text)}"
    out = []
    if solution.answer is None:
        out += [f"No value of {solution.input} satisfies {condition} (= {target}).", ""]
    else:
        out += [f"The {solution.goal} {solution.input} with {condition} (= {target}) is **{solution.answer:,}**.", ""]
    rows = []
    searched = ""
    if solution.values is not None:
        shown = ", ".join(f"{value:,}" for value in solution.values[:8])
        more = f", … ({len(solution.values):,} values, up to {solution.values[-1]:,})" if len(solution.values) > 8 else ""
        searched = f" = {shown}{more} (the values from {solution.least:,} up that every constraint accepts)"
    elif solution.step != 1 or solution.start != solution.least:
        values = ", ".join(f"{solution.start + k * solution.step:,}" for k in range(3))
        searched = (f" = {values}, … (from {solution.least:,} up, the first values every constraint accepts, "
                    f"and every {_ordinal(solution.step)} after)")
    if solution.last is not None:
        searched += f" up to {solution.last:,} (the last value every constraint accepts)"
    for x, value in ((solution.answer, solution.at_answer), (solution.neighbour, solution.at_neighbour)):
        if x is not None:
            holds = {"<=": value <= solution.target, "<": value < solution.target,
                     ">=": value >= solution.target, ">": value > solution.target}[solution.comparison]
            rows.append([f"{x:,}", _value(solution.output, value), "yes" if holds else "no"])
    out += [table([solution.input, solution.output, "holds"], rows, "rrl", tablefmt), ""]
    out += [f"Found by bisection over whole values of {solution.input}{searched}, assuming {solution.output} changes "
            f"monotonically with it. Units: GB = 10⁹ bytes, GiB = 1024³ bytes.", ""]
    return "\n".join(out)


def solution_data(solution: Solution) -> Dict:
    return {
        "schema": "acct.solve/1",
        "input": solution.input, "goal": solution.goal,
        "condition": {"output": solution.output, "comparison": solution.comparison,
                      "target": number(Fraction(solution.target)), "as_written": solution.target_text},
        "answer": solution.answer, "value_at_answer": number(solution.at_answer) if solution.at_answer is not None else None,
        "next": solution.neighbour,
        "searched": ({"values": solution.values} if solution.values is not None
                     else {"start": solution.start, "step": solution.step}
                     | ({"last": solution.last} if solution.last is not None else {})),
        "value_at_next": number(solution.at_neighbour) if solution.at_neighbour is not None else None,
    }


def solution_records(data: Dict) -> Tuple[Sequence[str], Iterable[Sequence]]:
    return LONG_HEADER, long_records([("solve", data["input"], key, "" if value is None else value)
                                      for key, value in data.items() if key not in ("schema", "condition")])


TRAIN = Kind("train", training_data, training_markdown, training_records, rows=lambda data: data["rows"])
SOLVE = Kind("solve", solution_data, solution_markdown, solution_records, rows=lambda data: [data])
