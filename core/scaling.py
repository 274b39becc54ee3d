"""Scaling: several models side by side (compare), or one model over a grid of inputs (sweep)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Dict, List, Sequence, Tuple

from .errors import ConfigError
from .model import TOTAL_FLOPS, TOTAL_PARAMS, Model, blocks_cell, cell_name, group_cell
from .numbers import percent
from .report import share

BLOCKS = "Transformer blocks"  # every per-layer row, × num_layers
MAX_POINTS = 10_000_000


@dataclass
class Column:
    """One model, or one point of a sweep: exact totals, and FLOPs and params by group and component."""

    label: str
    params: int
    flops: int
    blocks_flops: int
    group_flops: Dict[str, int]
    group_params: Dict[str, int]
    component_flops: Dict[str, int] = field(default_factory=dict)
    inputs: Dict[str, int] = field(default_factory=dict)  # the varied inputs of a sweep point

    def flops_share(self, group: str) -> Fraction:
        part = self.blocks_flops if group == BLOCKS else self.group_flops.get(group, 0)
        return share(part, self.flops)


@dataclass
class Scaling:
    kind: str  # "compare" or "sweep"
    columns: List[Column]
    groups: List[str]
    components: List[str]
    varied: List[str] = field(default_factory=list)
    summary: str = ""


def compare(models: Sequence[Model], labels: Sequence[str]) -> Scaling:
    """Each model's totals and shares, for a table with the models as columns."""
    columns = []
    for model, label in zip(models, labels):
        values = model.sheet.evaluate()
        columns.append(_column(model, values, label))
    groups = _union(model.groups for model in models)
    components = _union([row.spec.name for row in model.rows] for model in models)
    scaling = Scaling("compare", columns, groups, components)
    scaling.summary = _compare_summary(scaling)
    return scaling


def sweep(model: Model, vary: Sequence[Tuple[str, List[int]]]) -> Scaling:
    """The model at every point of the grid (the cartesian product of the varied values)."""
    names = [name for name, _ in vary]
    if len(set(names)) != len(names):
        raise ConfigError(f"--vary: each input may be varied once, got {', '.join(names)}")
    points = 1
    for _, values in vary:
        points *= len(values)
    if points > MAX_POINTS:
        raise ConfigError(f"--vary: {points:,} points; a sweep is at most {MAX_POINTS:,}")
    groups = model.groups
    outputs = [TOTAL_PARAMS, TOTAL_FLOPS, blocks_cell("flops")]
    outputs += [group_cell(group, "flops") for group in groups] + [group_cell(group, "params") for group in groups]
    evaluate = model.sheet.function(names, outputs)  # only these cells are computed per point
    count = len(groups)
    columns = []
    for point in itertools.product(*(values for _, values in vary)):
        results = evaluate(*point)
        columns.append(
            Column(
                label=", ".join(f"{name}={value:,}" for name, value in zip(names, point)),
                params=results[0],
                flops=results[1],
                blocks_flops=results[2],
                group_flops=dict(zip(groups, results[3:3 + count])),
                group_params=dict(zip(groups, results[3 + count:])),
                inputs=dict(zip(names, point)),
            )
        )
    scaling = Scaling("sweep", columns, list(model.groups), [row.spec.name for row in model.rows], names)
    scaling.summary = _sweep_summary(scaling)
    return scaling


def parse_vary(text: str) -> Tuple[str, List[int]]:
    """`NAME=VALUES`: a list `1024,2048,4096`; an arithmetic range `1024..4096+1024`
    (start..stop+step); a geometric range `1024..16384*2` (start..stop*factor).
    Ranges include stop when a step lands on it."""
    name, sep, spec = text.partition("=")
    name, spec = name.strip(), spec.strip()
    if not sep or not name or not spec:
        raise ConfigError(f"--vary {text!r}: expected NAME=VALUES, e.g. --vary context_length=1024,2048")
    where = f"--vary {name}"
    if ".." not in spec:
        return name, [_whole(part, where) for part in spec.split(",")]
    start_text, _, rest = spec.partition("..")
    start = _whole(start_text, where)
    for operator in ("+", "*"):
        if operator in rest:
            stop_text, _, step_text = rest.partition(operator)
            stop, step = _whole(stop_text, where), _whole(step_text, where)
            break
    else:
        raise ConfigError(f"{where}: a range needs a step, start..stop+step or start..stop*factor, got {spec!r}")
    if operator == "+" and step <= 0 or operator == "*" and step <= 1:
        raise ConfigError(f"{where}: the {'step' if operator == '+' else 'factor'} must be "
                          f"{'positive' if operator == '+' else 'at least 2'}, got {step}")
    if operator == "*" and start <= 0:
        raise ConfigError(f"{where}: a geometric range starts above 0, got {start}")
    if operator == "+":
        if stop >= start and (stop - start) // step >= MAX_POINTS:
            raise ConfigError(f"{where}: more than {MAX_POINTS:,} values")
        values = list(range(start, stop + 1, step))
    else:
        values = []
        value = start
        while value <= stop:  # at most log2(stop) steps
            values.append(value)
            value *= step
    if not values:
        raise ConfigError(f"{where}: the range {spec!r} is empty (start is above stop)")
    return name, values


def _whole(text: str, where: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ConfigError(f"{where}: {text.strip()!r} is not a whole number") from None


def _column(model: Model, values: Dict, label: str) -> Column:
    return Column(
        label=label,
        params=values[TOTAL_PARAMS],
        flops=values[TOTAL_FLOPS],
        blocks_flops=values[blocks_cell("flops")],
        group_flops={group: values[group_cell(group, "flops")] for group in model.groups},
        group_params={group: values[group_cell(group, "params")] for group in model.groups},
        component_flops={row.spec.name: values[cell_name(row, "flops")] for row in model.rows},
    )


def _union(lists) -> List[str]:
    seen: Dict[str, None] = {}
    for names in lists:
        for name in names:
            seen.setdefault(name, None)
    return list(seen)


def _compare_summary(scaling: Scaling) -> str:
    """One sentence, from the numbers: which groups' shares of forward FLOPs grow and which shrink."""
    first, last = scaling.columns[0], scaling.columns[-1]
    if len(scaling.columns) < 2:
        return ""
    changes = []
    for group in scaling.groups:
        before, after = first.flops_share(group), last.flops_share(group)
        if before or after:
            changes.append((after - before, group, before, after))
    grows = [c for c in sorted(changes, reverse=True) if c[0] > 0]
    shrinks = [c for c in sorted(changes) if c[0] < 0]

    def listing(items):
        return ", ".join(f"{group} ({percent(before)} → {percent(after)})" for _, group, before, after in items)

    parts = []
    if grows:
        parts.append(f"grows for {listing(grows)}")
    if shrinks:
        parts.append(f"shrinks for {listing(shrinks)}")
    if not parts:
        return f"From {first.label} to {last.label}, no group's share of forward FLOPs changes."
    return f"From {first.label} to {last.label}, the share of forward FLOPs " + "; it ".join(parts) + "."


def _sweep_summary(scaling: Scaling) -> str:
    """One sentence: the group whose share of forward FLOPs changes most across the points."""
    if len(scaling.columns) < 2:
        return ""
    best = None
    for group in scaling.groups:
        shares = [(column.flops_share(group), i) for i, column in enumerate(scaling.columns)]
        low, high = min(shares), max(shares)
        spread = high[0] - low[0]
        if best is None or spread > best[0]:
            best = (spread, group, low, high)
    spread, group, low, high = best
    if not spread:
        return "No group's share of forward FLOPs changes across the points."
    # say it in the direction of the sweep: from the earlier point to the later one
    a, b = sorted((low, high), key=lambda item: item[1])
    columns = scaling.columns
    return (
        f"The largest change in share is {group}: {percent(a[0])} at {columns[a[1]].label} → "
        f"{percent(b[0])} at {columns[b[1]].label} ({'+' if b[0] > a[0] else '-'}"
        f"{percent(abs(b[0] - a[0]))[:-1]} points)."
    )
