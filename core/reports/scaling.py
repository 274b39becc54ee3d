"""Scaling: several models side by side (compare), or one model over a grid of inputs (sweep)."""

from __future__ import annotations

import bisect
import functools
import re
from array import array
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Dict, List, Sequence, Tuple

from acct.errors import AcctError, ConfigError
from acct.engine.formula import Number
from acct.model.model import TOTAL_FLOPS, TOTAL_PARAMS, Model, blocks_cell, cell_name, group_cell, output_cell
from acct.engine.numbers import percent
from acct.model.inputs import settable_input
from acct.reports.run import share

BLOCKS = "Transformer blocks"  # every per-layer row, × num_layers
MAX_POINTS = 10_000_000
# A sweep of up to this many points keeps its results; a larger one is evaluated again
# whenever it is read (once to check every point and find the summary, once to write it),
# so that its memory stays bounded whatever its size.
KEEP_POINTS = 200_000
MAX_TABLE_POINTS = 100_000  # rows of a markdown table; CSV and JSON are streamed up to MAX_POINTS
MAX_VALUE_BITS = 64  # a varied value, as the compiled sheet accepts it (sheet.MAX_PARAM_BITS)


class Grid:
    """The points of a sweep, evaluated on demand: iterable as often as needed, each pass
    recomputing the results, with len() and indexing (mixed-radix, last axis fastest)."""

    def __init__(self, axes: Sequence[Sequence[int]], evaluate):
        self.axes = axes
        self.evaluate = evaluate
        self.count = 1
        for axis in axes:
            self.count *= len(axis)

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        evaluate = self.evaluate
        for point in _product(self.axes):
            yield point, evaluate(*point)

    def __getitem__(self, index: int):
        if index < 0:
            index += self.count
        if not 0 <= index < self.count:
            raise IndexError(f"point {index} of a grid of {self.count}")
        point = []
        for axis in reversed(self.axes):
            index, position = divmod(index, len(axis))
            point.append(axis[position])
        point = tuple(reversed(point))
        return point, self.evaluate(*point)


def _product(axes: Sequence[Sequence[int]]):
    """itertools.product without its copy of every axis (a tuple of 10,000,000 ints is 360 MB):
    each axis is iterated again for each point of the axes before it, and a range stays lazy."""
    if not axes:
        yield ()
        return
    last = axes[-1]
    for head in _product(axes[:-1]):
        for value in last:
            yield (*head, value)


def count_points(vary: Sequence[Tuple[str, Sequence[int]]]) -> int:
    """The number of points of a grid, refused over MAX_POINTS before anything is built."""
    names = [name for name, _ in vary]
    if len(set(names)) != len(names):
        raise ConfigError(f"--vary: each input may be varied once, got {', '.join(names)}")
    points = 1
    for _, values in vary:
        points *= len(values)
        if points > MAX_POINTS:
            break
    if points > MAX_POINTS:
        sizes = " × ".join(f"{len(values):,}" for _, values in vary)
        raise ConfigError(f"--vary: {sizes} points; a sweep is at most {MAX_POINTS:,}")
    return points


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
    points: Sequence[Tuple[Tuple[int, ...], tuple]] = field(default_factory=list)  # sweep: (inputs, results)
    extra: List[str] = field(default_factory=list)  # sweep: output cells asked for with --output, last in results
    # sweep: the points left out because the model refuses them there (a layout that does not
    # divide, a ZeRO stage of 4): how many, and the first few with the reason
    refused: int = 0
    refusals: List[Tuple[Tuple[int, ...], str]] = field(default_factory=list)

    @functools.cached_property
    def columns(self) -> List[Column]:
        """Every column (a model, or a point of a kept sweep); a large sweep is read a point
        at a time with iter_columns()."""
        if self.kind == "compare":
            return self.given
        return list(self.iter_columns())

    def iter_columns(self):
        if self.kind == "compare":
            yield from self.given
            return
        for point, results in self.points:
            yield self.column_of(point, results)

    def __len__(self) -> int:
        return len(self.given) if self.kind == "compare" else len(self.points)

    def column(self, index: int) -> Column:
        if self.kind == "compare":
            return self.given[index]
        return self.column_of(*self.points[index])

    def column_of(self, point: Tuple[int, ...], results: tuple) -> Column:
        count = len(self.groups)
        return Column(
            name="", params=results[0], flops=results[1], blocks_flops=results[2],
            group_flops=dict(zip(self.groups, results[3:3 + count])),
            group_params=dict(zip(self.groups, results[3 + count:3 + 2 * count])),
            inputs=dict(zip(self.varied, point)),
            extra=dict(zip(self.extra, results[3 + 2 * count:])),
        )


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


def sweep(model: Model, vary: Sequence[Tuple[str, Sequence[int]]], extra: Sequence[str] = ()) -> Scaling:
    """The model at every point of the grid (the cartesian product of the varied values), with
    the `extra` output cells (memory.peak, train.flops_step, ...) beside the totals. The points
    are counted before anything is built; every point is evaluated (and so checked) here, and
    a sweep larger than KEEP_POINTS is evaluated again, a point at a time, when it is written."""
    names = [name for name, _ in vary]
    count = count_points(vary)
    for name in names:
        settable_input(model.registry, name, "--vary")
    groups = model.groups
    outputs = [TOTAL_PARAMS, TOTAL_FLOPS, blocks_cell("flops")]
    outputs += [group_cell(group, "flops") for group in groups] + [group_cell(group, "params") for group in groups]
    extra = [output_cell(model, name, "--output") for name in dict.fromkeys(extra)]
    # the varied values bound the sheet's values: a bound of their own size, not any 64-bit value's,
    # keeps a sweep over two layout sizes (gpus and tp: dp = gpus / (tp·pp·cp)) within the limit
    bits = max((abs(value).bit_length() for _, values in vary for value in _ends(values)), default=1) or 1
    evaluate = model.sheet.function(names, outputs + extra, "--vary", min(bits, MAX_VALUE_BITS))
    grid = Grid([values for _, values in vary], evaluate.attempt)  # None where the model refuses the point
    refusals: List[Tuple[Tuple[int, ...], str]] = []
    refused = array("q")  # the grid's indices of the points the model refuses
    kept: List = []

    def checked():
        """Every point, evaluated and checked once: the refused ones counted (the first few with
        their reason), the others kept when the sweep is small, and passed on for the summary."""
        for index, (point, results) in enumerate(grid):
            if results is None:
                refused.append(index)
                if len(refusals) < MAX_REFUSALS_NAMED:
                    refusals.append((point, _refusal(evaluate, point)))
                continue
            if count <= KEEP_POINTS:
                kept.append((point, results))
            yield point, results

    summary = _sweep_summary(checked(), groups, names)
    if len(refused) == count:
        point, reason = refusals[0]
        raise ConfigError(f"sweep: the model refuses every point; at {point_label(names, point)}: {reason}")
    points: Sequence = kept if count <= KEEP_POINTS else Kept(grid, refused) if refused else grid
    scaling = Scaling("sweep", list(groups), [row.spec.name for row in model.rows], names, points=points,
                      extra=extra, refused=len(refused), refusals=refusals, summary=summary)
    return scaling


def _reason(error: str) -> str:
    """An error without the options it names first (`--global-batch, --vary gpus: `), which a point's
    own label says better beside it."""
    blame, found, reason = error.partition(": ")
    return reason if found and blame.startswith("--") else error


def refusal_text(scaling: Scaling) -> str:
    """The sentence under a sweep that left points out: how many, and why for the first few."""
    if not scaling.refused:
        return ""
    total = len(scaling) + scaling.refused
    named = "; ".join(f"{point_label(scaling.varied, point)}: {_reason(reason)}" for point, reason in scaling.refusals)
    more = f"; and {scaling.refused - len(scaling.refusals):,} more" if scaling.refused > len(scaling.refusals) else ""
    verb, them = ("is", "it") if scaling.refused == 1 else ("are", "them")
    return (f"{scaling.refused:,} of the {total:,} points {verb} left out: the model refuses {them}, as acct train "
            f"would ({named}{more}).")


def _ends(values: Sequence[int]) -> Sequence[int]:
    """The values whose sizes bound every value of the axis: a range's first and last, else all."""
    if isinstance(values, range):
        return [values[0], values[-1]] if len(values) else []
    return values


MAX_REFUSALS_NAMED = 5  # refused points a sweep names with their reason; the rest are counted


def _refusal(evaluate, point: Tuple[int, ...]) -> str:
    """Why the model refuses a point: the error its evaluation gives."""
    try:
        evaluate(*point)
    except AcctError as error:
        return str(error)
    return "refused"  # pragma: no cover - attempt() and the function agree


class Kept:
    """A lazy grid's points less those the model refuses (their indices, sorted): len() and
    indexing (a chart's evenly spaced points) count the others only."""

    def __init__(self, grid: Grid, refused: Sequence[int]):
        self.grid, self.refused = grid, refused

    def __len__(self) -> int:
        return len(self.grid) - len(self.refused)

    def __iter__(self):
        refused, next_refused = iter(self.refused), -1
        for index, point in enumerate(self.grid):
            while next_refused < index:
                next_refused = next(refused, len(self.grid))
            if index != next_refused:
                yield point

    def __getitem__(self, index: int):
        """The index-th kept point: the least grid index j with j + 1 - (refused up to j) > index."""
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"point {index} of {len(self)}")
        low, high = index, index + len(self.refused)
        while low < high:
            middle = (low + high) // 2
            if middle + 1 - bisect.bisect_right(self.refused, middle) > index:
                high = middle
            else:
                low = middle + 1
        return self.grid[low]


def parse_vary(text: str) -> Tuple[str, Sequence[int]]:
    """`NAME=VALUES`: a list `1024,2048,4096`; an arithmetic range `1024..4096+1024`
    (start..stop+step); a geometric range `1024..16384*2` (start..stop*factor).
    Ranges include stop when a step lands on it. An arithmetic range stays a `range`:
    its values are made one at a time, and only after the grid's size is checked."""
    name, sep, spec = text.partition("=")
    name, spec = name.strip(), spec.strip()
    if not sep or not name or not spec:
        raise ConfigError(f"--vary {text!r}: expected NAME=VALUES, e.g. --vary context_length=1024,2048")
    where = f"--vary {name}"
    if ".." not in spec:
        parts = spec.split(",")
        if len(parts) > MAX_POINTS:
            raise ConfigError(f"{where}: more than {MAX_POINTS:,} values")
        return name, [_whole(part, where) for part in parts]
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
        values: Sequence[int] = range(start, stop + 1, step)
        if len(values) > MAX_POINTS:
            raise ConfigError(f"{where}: more than {MAX_POINTS:,} values ({len(values):,})")
    else:
        values = []
        value = start
        while value <= stop:  # at most 64 steps: stop is a 64-bit number
            values.append(value)
            value *= step
    if not values:
        raise ConfigError(f"{where}: the range {spec!r} is empty (start is above stop)")
    return name, values


def _whole(text: str, where: str) -> int:
    """A whole number of at most MAX_VALUE_BITS bits, its length checked before int() reads it."""
    text = text.strip()
    shown = text if len(text) <= 40 else text[:37] + "..."
    if len(text.replace("_", "").lstrip("+-")) > 20:  # 2**64 has 20 digits
        raise ConfigError(f"{where}: {shown!r} is too large; a varied value has at most {MAX_VALUE_BITS} bits")
    try:
        value = int(text)
    except ValueError:
        # whole numbers by design: a range is a range() of ints, made a point at a time
        hint = f"; --vary takes whole numbers only: run a fraction as {where.replace('--vary', '--set')}={shown}" \
            if re.match(r"^[0-9_]*\.[0-9_]*(?:[eE][+-]?[0-9]+)?$", text) else ""
        raise ConfigError(f"{where}: {shown!r} is not a whole number{hint}") from None
    if value.bit_length() > MAX_VALUE_BITS:
        raise ConfigError(f"{where}: {value:,} is too large; a varied value has at most {MAX_VALUE_BITS} bits")
    return value


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


def _sweep_summary(points, groups: Sequence[str], varied: Sequence[str]) -> str:
    """One sentence: the group whose share of forward FLOPs changes most across the points.
    One pass over the points, keeping only the extremes of each group's share."""
    positions = [3 + index for index in range(len(groups))] + [2]
    labels = [*groups, BLOCKS]
    # per group: [low index, low point, low results, high index, high point, high results]
    extremes: List[list] = []
    count = 0
    for index, (point, results) in enumerate(points):
        count += 1
        if index == 0:
            extremes = [[0, point, results, 0, point, results] for _ in positions]
            continue
        total = results[1]
        for slot, position in zip(extremes, positions):
            part = results[position] if total else 0
            total_ = total if total else 1
            low, high = slot[2], slot[5]
            low_part, low_total = (low[position], low[1]) if low[1] else (0, 1)
            high_part, high_total = (high[position], high[1]) if high[1] else (0, 1)
            # compared exactly as integers: part·total' against part'·total, no Fraction per point
            if part * low_total < low_part * total_:
                slot[0:3] = [index, point, results]
            elif part * high_total > high_part * total_:
                slot[3:6] = [index, point, results]
    if count < 2:
        return ""
    best = None
    for label, position, slot in zip(labels, positions, extremes):
        spread = _share(slot[5], position) - _share(slot[2], position)
        if best is None or spread > best[0]:
            best = (spread, label, position, slot)
    spread, group, position, slot = best
    if not spread:
        return "No group's share of forward FLOPs changes across the points."
    # say it in the direction of the sweep: from the earlier point to the later one
    low, high = (slot[0], slot[1], slot[2]), (slot[3], slot[4], slot[5])
    first, last = sorted((low, high), key=lambda item: item[0])
    before, after = _share(first[2], position), _share(last[2], position)
    return (
        f"The largest change in share is {group}: {percent(before)} at {point_label(varied, first[1])} → "
        f"{percent(after)} at {point_label(varied, last[1])} ({'+' if after > before else '-'}"
        f"{percent(abs(after - before))[:-1]} points)."
    )


def _share(results: tuple, position: int) -> Fraction:
    return share(results[position], results[1])
