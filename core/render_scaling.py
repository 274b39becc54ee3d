"""Renderers for compare and sweep: markdown (shares), JSON and CSV (exact integers)."""

from __future__ import annotations

import csv
import io
import json
from typing import Callable, Dict, List

from .numbers import fixed, percent
from .render import _number, exact_or_fixed, table
from .report import share
from .scaling import BLOCKS, Scaling


def _shown_groups(scaling: Scaling) -> List[str]:
    """Groups that take some forward FLOPs somewhere (a lookup-only group adds nothing to a share table)."""
    return [g for g in scaling.groups if any(column.group_flops.get(g, 0) for column in scaling.columns)]


def scaling_markdown(scaling: Scaling, by_component: bool = False) -> str:
    groups = _shown_groups(scaling)
    out: List[str] = []
    if scaling.kind == "compare":
        out += [f"# Comparing {', '.join(c.label for c in scaling.columns)}", "", "Share of forward FLOPs:", ""]
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
        out += [table(headers, rows, "l" + "r" * len(scaling.columns)), ""]
    else:
        first = scaling.columns[0]
        out += [f"# Sweep over {', '.join(scaling.varied)}", ""]
        headers = [*scaling.varied, "params", "forward FLOPs", "× params", "× FLOPs", *scaling.extra, *groups, BLOCKS]
        rows = []
        for c in scaling.columns:
            rows.append(
                [f"{c.inputs[name]:,}" for name in scaling.varied]
                + [f"{c.params:,}", f"{c.flops:,}", "×" + fixed(share(c.params, first.params), 2),
                   "×" + fixed(share(c.flops, first.flops), 2)]
                + [exact_or_fixed(c.extra[name]) for name in scaling.extra]
                + [percent(c.flops_share(group)) for group in [*groups, BLOCKS]]
            )
        out += [table(headers, rows, "r" * (len(headers))), ""]
        out += ["Group columns are shares of forward FLOPs; × is each total over the first point's.", ""]
    if scaling.summary:
        out += [scaling.summary, ""]
    return "\n".join(out)


def scaling_data(scaling: Scaling) -> Dict:
    def column(c):
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
            data["outputs"] = {name: _number(value) for name, value in c.extra.items()}
        return data

    key = "models" if scaling.kind == "compare" else "points"
    data = {"schema": f"acct.{scaling.kind}/1"}
    if scaling.kind == "sweep":
        data["varied"] = scaling.varied
    data[key] = [column(c) for c in scaling.columns]
    data["summary"] = scaling.summary
    return data


def scaling_csv(scaling: Scaling) -> str:
    """One line per model or point: the varied inputs, exact totals, FLOPs per group."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    first = ["model"] if scaling.kind == "compare" else list(scaling.varied)
    writer.writerow(first + ["params", "flops_forward", "blocks_flops_forward"]
                    + [f"{g} flops_forward" for g in scaling.groups] + list(scaling.extra))
    if scaling.kind == "sweep":  # straight from the results tuples: (params, flops, blocks, group flops...)
        end, extra = 3 + len(scaling.groups), 3 + 2 * len(scaling.groups)
        if scaling.extra:
            writer.writerows((*point, *results[:end], *map(_number, results[extra:])) for point, results in scaling.points)
        else:
            writer.writerows((*point, *results[:end]) for point, results in scaling.points)
    else:
        for c in scaling.columns:
            writer.writerow([c.label, c.params, c.flops, c.blocks_flops] + [c.group_flops.get(g, 0) for g in scaling.groups])
    return buffer.getvalue()


SCALING_RENDERERS: Dict[str, Callable[..., str]] = {
    "markdown": scaling_markdown,
    "json": lambda scaling, by_component=False: json.dumps(scaling_data(scaling), indent=2, ensure_ascii=False) + "\n",
    "csv": lambda scaling, by_component=False: scaling_csv(scaling),
}
