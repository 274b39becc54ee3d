"""The plan report: the layouts that fit, fastest first, and the best one decomposed."""

from __future__ import annotations

from fractions import Fraction
from typing import Dict, Iterable, List, Sequence, Tuple

from acct.render import Kind
from acct.render.escape import markdown as md
from acct.render.formats import DEFAULT_TABLEFMT, LONG_HEADER, long_records, number, table
from acct.render.markdown import GB
from acct.engine.numbers import fixed, significant
from acct.reports.plan import PlanReport

COLUMNS = ("dp", "tp", "pp", "virtual_stages", "cp", "ep", "zero_stage", "micro_batch", "recompute",
           "sequence_parallel")
RECOMPUTE = ("none", "selective", "full")


def plan_markdown(report: PlanReport, tablefmt: str = DEFAULT_TABLEFMT) -> str:
    from acct.render.training import scale_markdown

    out = [f"# {md(report.name)}: layouts of {report.gpus:,} × {md(report.hardware)} for {report.global_batch:,} "
           "sequences per step", ""]
    out += [f"{report.enumerated:,} layouts enumerated, {report.valid:,} valid (heads divide by tp, layers by pp·v, "
            f"the sequence by cp, the batch by dp · micro_batch), {report.fitting:,} fit in {fixed(Fraction(report.device_memory) / GB, 2)} "
            "GB per GPU; the fastest first.", ""]
    if report.precision:
        from acct.model.outputs import PRECISION_DTYPE

        out += [f"Precision {md(report.precision)} (chosen by {md(report.precision_by)}): the step times use the "
                f"{md(PRECISION_DTYPE.get(report.precision, report.precision))} peak; v is the model chunks per "
                "pipeline stage (interleaved 1F1B when above 1).", ""]
    if not report.rows:
        out += ["No layout fits.", ""]
        return "\n".join(out)
    rows = []
    for rank, row in enumerate(report.rows, 1):
        layout = row.layout
        rows.append([str(rank)] + [str(layout[c]) if c != "recompute" else RECOMPUTE[layout[c]] for c in COLUMNS]
                    + [significant(row.step), significant(row.compute), significant(row.bubble),
                       significant(row.comm), fixed(Fraction(row.peak) / GB, 2)])
    header = ["#", "dp", "tp", "pp", "v", "cp", "ep", "zero", "micro-batch", "recompute", "sp", "step s", "compute s",
              "bubble s", "comm s", "peak GB"]
    out += [table(header, rows, "r" * 9 + "lr" + "r" * 5, tablefmt), ""]
    if report.best is not None and report.best.scale is not None:
        out += ["The best layout, decomposed:", ""]
        out += [line.replace("## Per GPU", "## Best layout: per GPU", 1) for line in
                scale_markdown(report.best.scale, tablefmt)]
    return "\n".join(out)


def plan_data(report: PlanReport) -> Dict:
    return {
        "schema": "acct.plan/1", "preset": report.name, "gpus": report.gpus, "global_batch": report.global_batch,
        "hardware": report.hardware, "device_memory": number(Fraction(report.device_memory)),
        "precision": report.precision,
        "enumerated": report.enumerated, "valid": report.valid, "fitting": report.fitting,
        "rows": [dict(row.layout, step_seconds=number(Fraction(row.step)), compute_seconds=number(Fraction(row.compute)),
                      bubble_seconds=number(Fraction(row.bubble)), comm_seconds=number(Fraction(row.comm)),
                      peak_bytes=number(Fraction(row.peak)), states_bytes=number(Fraction(row.states)),
                      activations_bytes=number(Fraction(row.activations)))
                 for row in report.rows],
    }


def plan_records(data: Dict) -> Tuple[Sequence[str], Iterable[Sequence]]:
    records: List[tuple] = []
    for rank, row in enumerate(data["rows"], 1):
        records += [("plan", str(rank), key, value) for key, value in row.items()]
    return LONG_HEADER, long_records(records)


PLAN = Kind("plan", plan_data, plan_markdown, plan_records, rows=lambda data: data["rows"])
