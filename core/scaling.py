"""Scaling: several models side by side (compare), or one model over a grid of inputs (sweep)."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Dict, List, Sequence, Tuple

from .errors import ConfigError
from .formula import Number
from .model import TOTAL_FLOPS, TOTAL_PARAMS, Model, blocks_cell, cell_name, group_cell, output_cell
from .numbers import percent
from .report import share

BLOCKS = "Transformer blocks"  # every per-layer row, × num_layers
MAX_POINTS = 10_000_000


@dataclass(eq=False)
class Column:
    """One model, or one point of a sweep: exact totals, and FLOPs and params by group and component."""

    name: str  # the model's name; empty for a sweep point, whose label comes from its inputs
    params: int
    flops: int
    blocks_flops: int
    group_flops: Dict[str, int]
    group_params: Dict[str, int]
    component_flops: Dict[str, int] = field(default_factory=dict)
    inputs: Dict[str, int] = field(default_factory=dict)  # the varied inputs of a sweep point
    extra: Dict[str, Number] = field(default_factory=dict)  # output cells asked for with --output

    @property
    def label(self) -> str:
        """The model's name, or a sweep point's inputs: `context_length=1,024`."""
        return self.name or point_label(list(self.inputs), list(self.inputs.values()))

    def flops_share(self, group: str) -> Fraction:
        part = self.blocks_flops if group == BLOCKS else self.group_flops.get(group, 0)
        return share(part, self.flops)


@dataclass(eq=False)
class Scaling:
    """Models side by side, or a sweep's points. A sweep keeps each point as the tuple its
    compiled function returned, (params, flops, blocks flops, group flops..., group params...),
    and makes Column objects only when a renderer asks for them: a CSV of 100,000 points
    never needs them."""

    kind: str  # "compare" or "sweep"
    groups: List[str]
    components: List[str]
    varied: List[str] = field(default_factory=list)
    summary: str = ""
    given: List[Column] = field(default_factory=list)  # compare: one column per model
    points: List[Tuple[Tuple[int, ...], tuple]] = field(default_factory=list)  # sweep: (inputs, results)
    extra: List[str] = field(default_factory=list)  # sweep: output cells asked for with --output, last in results

    @functools.cached_property
    def columns(self) -> List[Column]:
        if self.kind == "compare":
            return self.given
        count = len(self.groups)
        return [
            Column(
                name="", params=results[0], flops=results[1], blocks_flops=results[2],
                group_flops=dict(zip(self.groups, results[3:3 + count])),
                group_params=dict(zip(self.groups, results[3 + count:3 + 2 * count])),
                inputs=dict(zip(self.varied, point)),
                extra=dict(zip(self.extra, results[3 + 2 * count:])),
            )
            for point, results in self.points
        ]


def point_label(names: Sequence[str], values: Sequence[int]) -> str:
    return ", ".join(f"{name}={value:,}" for name, value in zip(names, values))


def compare(models: Sequence[Model], labels: Sequence[str]) -> Scaling:
    """Each model's totals and shares, for a table with the models as columns."""
    columns = []
    for model, label in zip(models, labels):
        values = model.sheet.evaluate()
        columns.append(_column(model, values, label))
    groups = _union(model.groups for model in models)
    components = _union([row.spec.name for row in model.rows] for model in models)
    scaling = Scaling("compare", groups, components, given=columns)
    scaling.summary = _compare_summary(scaling)
    return scaling


def sweep(model: Model, vary: Sequence[Tuple[str, List[int]]], extra: Sequence[str] = ()) -> Scaling:
    """The model at every point of the grid (the cartesian product of the varied values), with
    the `extra` output cells (memory.peak, train.flops_step, ...) beside the totals."""
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
    extra = [output_cell(model, name, "--output") for name in dict.fromkeys(extra)]
    evaluate = model.sheet.function(names, outputs + extra)  # only these cells are computed per point
    points = [(point, evaluate(*point)) for point in itertools.product(*(values for _, values in vary))]
    scaling = Scaling("sweep", list(groups), [row.spec.name for row in model.rows], names, points=points,
                      extra=extra)
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
        name=label,
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
    points = scaling.points
    if len(points) < 2:
        return ""
    best = None
    for index, group in enumerate([*scaling.groups, BLOCKS]):
        position = 2 if group == BLOCKS else 3 + index
        low, high = _extremes(points, position)
        spread = _share(points[high][1], position) - _share(points[low][1], position)
        if best is None or spread > best[0]:
            best = (spread, group, low, high, position)
    spread, group, low, high, position = best
    if not spread:
        return "No group's share of forward FLOPs changes across the points."
    # say it in the direction of the sweep: from the earlier point to the later one
    first, last = sorted((low, high))
    before, after = _share(points[first][1], position), _share(points[last][1], position)
    def label(index: int) -> str:
        return point_label(scaling.varied, points[index][0])

    return (
        f"The largest change in share is {group}: {percent(before)} at {label(first)} → "
        f"{percent(after)} at {label(last)} ({'+' if after > before else '-'}"
        f"{percent(abs(after - before))[:-1]} points)."
    )


def _share(results: tuple, position: int) -> Fraction:
    return share(results[position], results[1])


def _extremes(points: Sequence[Tuple[Tuple[int, ...], tuple]], position: int) -> Tuple[int, int]:
    """Indices of the points where results[position]'s share of the FLOPs (results[1]) is least and
    greatest, compared exactly as integers (part·total' against part'·total), no Fraction per point."""
    low = high = 0
    results = points[0][1]
    low_part, low_total = high_part, high_total = (results[position], results[1]) if results[1] else (0, 1)
    for index in range(1, len(points)):
        results = points[index][1]
        part, total = (results[position], results[1]) if results[1] else (0, 1)
        if part * low_total < low_part * total:
            low, low_part, low_total = index, part, total
        elif part * high_total > high_part * total:
            high, high_part, high_total = index, part, total
    return low, high
