"""The compare and sweep reports: their data, their markdown (shares), and JSON and CSV streamed
a piece at a time (a sweep may hold millions of points)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from typing import Dict, Iterable, Iterator, List, Sequence, Tuple

from acct.engine.numbers import fixed, percent
from acct.render import Kind
from acct.render import escape
from acct.render.escape import markdown as md
from acct.render.formats import DEFAULT_TABLEFMT, number, table
from acct.render.markdown import exact_or_fixed
from acct.reports.run import share
from acct.reports.scaling import BLOCKS, Scaling, point_label, refusal_text


def _shown_groups(scaling: Scaling) -> List[str]:
    """Groups that take some forward FLOPs somewhere (a lookup-only group adds nothing to a share table)."""
    return [g for g in scaling.groups if any(column.group_flops.get(g, 0) for column in scaling.iter_columns())]


# Inputs that multiply a training step or a batch but not one sequence's forward pass: the
# sweep's totals do not move with them, and its header must say so.
PER_STEP_INPUTS = ("batch_size", "steps")


def scaling_markdown(scaling: Scaling, tablefmt: str = DEFAULT_TABLEFMT, by_component: bool = False) -> str:
    groups = _shown_groups(scaling)
    out: List[str] = []
    if scaling.kind == "compare":
        out += [f"# Comparing {', '.join(md(c.label) for c in scaling.columns)}", "", "Share of forward FLOPs:", ""]
        rows = [[group] + [percent(c.flops_share(group)) for c in scaling.columns] for group in groups]
        rows.append([f"**{BLOCKS}**"] + [percent(c.flops_share(BLOCKS)) for c in scaling.columns])
        if by_component:
            for name in scaling.components:
                if any(c.component_flops.get(name) for c in scaling.columns):
                    rows.append([f"{name}"] + [percent(share(c.component_flops.get(name, 0), c.flops))
                                                for c in scaling.columns])
        rows.append(["forward FLOPs"] + [f"{c.flops:,}" for c in scaling.columns])
        rows.append(["parameters"] + [f"{c.params:,}" for c in scaling.columns])
        headers = [""] + [c.label for c in scaling.columns]
        out += [table(headers, rows, "l" + "r" * len(scaling.columns), tablefmt), ""]
    else:
        first = scaling.column(0)
        out += [f"# Sweep over {', '.join(map(md, scaling.varied))}", ""]
        per_step = [name for name in scaling.varied if name in PER_STEP_INPUTS]
        flops = "forward FLOPs (one sequence)" if per_step else "forward FLOPs"
        headers = [*scaling.varied, "params", flops, "× params", "× FLOPs", *scaling.extra, *groups, BLOCKS]
        rows = []
        for c in scaling.iter_columns():
            rows.append(
                [f"{c.inputs[name]:,}" for name in scaling.varied]
                + [f"{c.params:,}", f"{c.flops:,}", "×" + fixed(share(c.params, first.params), 2),
                   "×" + fixed(share(c.flops, first.flops), 2)]
                + [exact_or_fixed(c.extra[name]) for name in scaling.extra]
                + [percent(c.flops_share(group)) for group in [*groups, BLOCKS]]
            )
        out += [table(headers, rows, "r" * (len(headers)), tablefmt), ""]
        out += ["Group columns are shares of forward FLOPs; × is each total over the first point's.", ""]
        if per_step:
            out += [f"Forward FLOPs and shares are per sequence and do not change with {' or '.join(per_step)}; "
                    "per-step totals are outputs: --output train.flops_step, --output memory.peak.", ""]
    if scaling.refused:  # the refusals quote the model's errors, which quote data (names, options)
        out += [md(refusal_text(scaling), line_start=True), ""]
    if scaling.summary:  # "From <first label> to <last label>, ...": the labels are data
        out += [md(scaling.summary, line_start=True), ""]
    return "\n".join(out)


def _column_data(scaling: Scaling, c) -> Dict:
    data = {"label": c.label}
    if scaling.kind == "sweep":
        data["inputs"] = c.inputs
    data.update({
        "params": c.params,
        "flops_forward": c.flops,
        "blocks_flops_forward": c.blocks_flops,
        "groups": {g: {"params": c.group_params.get(g, 0), "flops_forward": c.group_flops.get(g, 0)}
                   for g in scaling.groups},
    })
    if c.component_flops:
        data["components_flops_forward"] = c.component_flops
    if c.extra:
        data["outputs"] = {name: number(value) for name, value in c.extra.items()}
    return data


def scaling_data(scaling: Scaling) -> Dict:
    key = "models" if scaling.kind == "compare" else "points"
    data = {"schema": f"acct.{scaling.kind}/1"}
    if scaling.kind == "sweep":
        data["varied"] = scaling.varied
    data[key] = [_column_data(scaling, c) for c in scaling.iter_columns()]
    if scaling.kind == "sweep":
        data["refused"] = _refused_data(scaling)
    data["summary"] = scaling.summary
    return data


def _refused_data(scaling: Scaling) -> Dict:
    """The points a sweep left out: how many, and the first few with the model's reason."""
    return {"count": scaling.refused,
            "points": [{"inputs": dict(zip(scaling.varied, point)), "reason": reason}
                       for point, reason in scaling.refusals]}


def _dumps(data) -> str:
    return escape.json(json.dumps(data, indent=2, ensure_ascii=False))


CHUNK = 2_000  # points per piece of streamed output


def scaling_json(scaling: Scaling, by_component: bool = False) -> Iterator[str]:
    """The text of json.dumps(scaling_data(scaling), indent=2), a piece at a time: a sweep's
    points are written as they are evaluated, never all held at once."""
    head = {"schema": f"acct.{scaling.kind}/1"}
    if scaling.kind == "sweep":
        head["varied"] = scaling.varied
    key = "models" if scaling.kind == "compare" else "points"
    text = _dumps(head)
    pieces = [text[:-2] + f',\n  "{key}": [']  # the head without its closing "\n}"
    first = True
    if scaling.kind == "sweep" and len(scaling):
        texts = _point_texts(scaling)
    else:
        texts = (_dumps(_column_data(scaling, c)).replace("\n", "\n    ") for c in scaling.iter_columns())
    for text in texts:
        pieces.append(("\n    " if first else ",\n    ") + text)
        first = False
        if len(pieces) >= CHUNK:
            yield "".join(pieces)
            pieces = []
    refused = (',\n  "refused": ' + _dumps(_refused_data(scaling)).replace("\n", "\n  ")
               if scaling.kind == "sweep" else "")
    pieces.append(("]" if first else "\n  ]") + refused + ',\n  "summary": ' + _dumps(scaling.summary) + "\n}\n")
    yield "".join(pieces)


def _point_texts(scaling: Scaling) -> Iterator[str]:
    """Each sweep point's JSON object, as json.dumps(indent=2) writes it inside the points list,
    filled into a template made once from the first point: json.dumps with an indent runs the
    pure-Python encoder, some 15 µs a point, which a 10,000,000-point sweep cannot afford."""
    marker = "\x00{}\x00"
    count = len(scaling.groups)

    def leaves(point, results):
        label = json.dumps(point_label(scaling.varied, point), ensure_ascii=False)
        extra = [json.dumps(number(value)) for value in results[3 + 2 * count:]]
        groups = [value for index in range(count) for value in (results[3 + count + index], results[3 + index])]
        return [label, *point, *results[:3], *groups, *extra]

    first_point, first_results = scaling.points[0]
    shape = _column_data(scaling, scaling.column_of(first_point, first_results))
    slots = iter(range(10**9))
    shape["label"] = marker.format(next(slots))
    shape["inputs"] = {name: marker.format(next(slots)) for name in shape["inputs"]}
    for key in ("params", "flops_forward", "blocks_flops_forward"):
        shape[key] = marker.format(next(slots))
    for group in shape["groups"]:
        shape["groups"][group] = {"params": marker.format(next(slots)), "flops_forward": marker.format(next(slots))}
    if "outputs" in shape:
        shape["outputs"] = {name: marker.format(next(slots)) for name in shape["outputs"]}
    text = _dumps(shape).replace("\n", "\n    ").replace("{", "{{").replace("}", "}}")
    template = re.sub(r'"\\u0000(\d+)\\u0000"', r"{\1}", text)
    for point, results in scaling.points:
        yield template.format(*leaves(point, results))


def scaling_csv(scaling: Scaling, by_component: bool = False) -> Iterator[str]:
    """One line per model or point: the varied inputs, exact totals, FLOPs per group; a sweep
    a piece at a time, straight from its results tuples (params, flops, blocks, group flops...)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    first = ["model"] if scaling.kind == "compare" else list(scaling.varied)
    writer.writerow(first + ["params", "flops_forward", "blocks_flops_forward"]
                    + [f"{g} flops_forward" for g in scaling.groups] + list(scaling.extra))
    if scaling.kind == "sweep":
        end, extra = 3 + len(scaling.groups), 3 + 2 * len(scaling.groups)
        rows = (((*point, *results[:end], *map(number, results[extra:])) if scaling.extra
                 else (*point, *results[:end])) for point, results in scaling.points)
        for chunk in iter(lambda: list(itertools.islice(rows, CHUNK)), []):
            writer.writerows(chunk)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    else:
        for c in scaling.columns:
            writer.writerow([escape.csv(c.label), c.params, c.flops, c.blocks_flops]
                            + [c.group_flops.get(g, 0) for g in scaling.groups])
    yield buffer.getvalue()


def scaling_records(data: Dict) -> Tuple[Sequence[str], Iterable[Sequence]]:
    """One line per model or point: the varied inputs (a sweep), exact totals, FLOPs per group, and
    the outputs asked for; the same columns scaling_csv streams."""
    columns = data.get("models") or data.get("points") or []
    groups = list(columns[0]["groups"]) if columns else []
    outputs = list(columns[0].get("outputs", {})) if columns else []
    first = ["model"] if data["schema"].startswith("acct.compare") else list(data["varied"])
    header = first + ["params", "flops_forward", "blocks_flops_forward"] + [f"{g} flops_forward" for g in groups]
    header += outputs
    rows = [([c["label"]] if first == ["model"] else [c["inputs"][name] for name in first])
            + [c["params"], c["flops_forward"], c["blocks_flops_forward"]]
            + [c["groups"][g]["flops_forward"] for g in groups] + [c["outputs"][name] for name in outputs]
            for c in columns]
    return header, rows


def scaling_stream(scaling: Scaling, format: str) -> Iterator[str]:
    return scaling_json(scaling) if format == "json" else scaling_csv(scaling)


# markdown gives a string (a table is bounded: see scaling.MAX_TABLE_POINTS); JSON and CSV give
# their text in pieces, to be written as they come
COMPARE = Kind("compare", scaling_data, scaling_markdown, scaling_records, scaling_stream)
SWEEP = Kind("sweep", scaling_data, scaling_markdown, scaling_records, scaling_stream)
