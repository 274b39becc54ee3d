"""The sheet: named cells with formulas, ordered by their dependencies and evaluated exactly.

A sheet knows nothing of presets or plugins: it is given cells, checks that
every name is known, that there is no cycle and that no value can grow past
the size bound, and evaluates them. `evaluate()` walks the cells once;
`function(params)` compiles the cells that depend on `params` into one Python
function (constants folded), for sweeps and goal seeks that evaluate the same
sheet many thousands of times.
"""

from __future__ import annotations

import ast
import graphlib
import re
import types
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from acct.records import fresh, record, replace

from acct.errors import BoundsError, SheetError, suggest
from acct.engine.formula import MAX_VALUE_BITS, RUNTIME, Formula, Number, chain, normalize, operands, parse, to_python

# A varied input (a sweep point, a goal-seek probe) is an int of at most this many bits.
MAX_PARAM_BITS = 64
# A sheet holds at most this many cells (a builtin model has a few hundred).
MAX_CELLS = 20_000
# A staged function's cache of one level's cells holds the values of at most this many arguments.
MAX_CACHED = 4096
# A compiled expression nests inlined cells up to this depth (formulas themselves nest <= 200).
MAX_INLINE_DEPTH = 50


@record
class Cell:
    """One named value: a formula (a plain number is a formula too) and what it must satisfy."""

    name: str
    formula: Formula
    where: str  # names the cell for the user: the preset key, or the plugin and row
    symbol: Optional[str] = None
    description: str = ""
    integer: bool = False  # must come out a whole number (a size, a count)
    minimum: Optional[int] = None  # e.g. 1 for a size, 0 for a count
    # what a value that breaks the cell's checks means, in the user's words: `{name}` stands for
    # that cell's value, `{value}` for this one's (`gpus = {gpus} is not dp·tp·pp·cp = ...`)
    message: Optional[str] = None


def literal(name: str, value: int, where: str, **options) -> Cell:
    """A cell holding a plain whole number."""
    return Cell(name, parse(value, where), where, **options)


def static_order(graph: Mapping[str, Sequence[str]]) -> Optional[List[str]]:
    """`graphlib.TopologicalSorter(graph).static_order()`, the same order, or None for a graph
    with a cycle (graphlib then names it). The same algorithm without graphlib's bookkeeping
    objects, which were a tenth of building a sheet: nodes in the order first seen, each round
    every ready node, in the order it became ready."""
    waiting: Dict[str, int] = {}  # node -> predecessors not yet ordered
    successors: Dict[str, List[str]] = {}
    for node, predecessors in graph.items():
        if node not in waiting:
            waiting[node], successors[node] = 0, []
        waiting[node] += len(predecessors)
        for predecessor in predecessors:
            if predecessor not in waiting:
                waiting[predecessor], successors[predecessor] = 0, []
            successors[predecessor].append(node)
    ready = [node for node, count in waiting.items() if count == 0]
    order: List[str] = []
    while ready:
        order += ready
        now = []
        for node in ready:
            for successor in successors[node]:
                waiting[successor] -= 1
                if not waiting[successor]:
                    now.append(successor)
        ready = now
    return order if len(order) == len(waiting) else None


class _CellFailure(Exception):
    """Raised inside a compiled sheet; carries the index of the failing cell."""

    def __init__(self, index: int):
        super().__init__(index)
        self.index = index


class Sheet:
    """Cells in dependency order, checked once when built."""

    def __init__(self, cells: Iterable[Cell]):
        cells = list(cells)
        if len(cells) > MAX_CELLS:
            raise SheetError(f"{cells[MAX_CELLS].where}: more than {MAX_CELLS:,} cells; a sheet holds at most that many")
        by_name: Dict[str, Cell] = {}
        for cell in cells:
            if cell.name in by_name:
                raise SheetError(f"{cell.where}: the cell {cell.name!r} is already defined by {by_name[cell.name].where}")
            by_name[cell.name] = cell
        for cell in by_name.values():
            for name in cell.formula.names:
                if name not in by_name:
                    known = [n for n in by_name if "." not in n]
                    raise SheetError(
                        f"{cell.where}: unknown name {name!r} in formula {cell.formula.text!r}{suggest(name, known)}"
                    )
        graph = {cell.name: cell.formula.names for cell in by_name.values()}
        order = static_order(graph)
        if order is None:
            try:
                list(graphlib.TopologicalSorter(graph).static_order())
            except graphlib.CycleError as error:
                cycle = error.args[1]
                raise SheetError(
                    f"{by_name[cycle[0]].where}: cycle among cells: {' → '.join(cycle)}"
                ) from None
        self.cells: Tuple[Cell, ...] = tuple(by_name[name] for name in order)
        self.index: Dict[str, int] = {cell.name: i for i, cell in enumerate(self.cells)}
        # the order the cells were given in: of two values that break a check, the error names the
        # one given first (a builder lists the checks that explain most first)
        self.rank: Dict[str, int] = {name: i for i, name in enumerate(by_name)}
        self._check_bounds(())
        self._functions: Dict[Tuple[str, ...], Callable[..., tuple]] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.index

    def __getitem__(self, name: str) -> Cell:
        return self.cells[self.index[name]]

    def replace(self, values: Mapping[str, Number], source: Optional[str] = None) -> "Sheet":
        """A new sheet in which each named cell holds a plain value instead of its formula;
        `source` (e.g. "--vary") names where those values came from, for errors."""
        cells = []
        for cell in sorted(self.cells, key=lambda cell: self.rank[cell.name]):
            if cell.name in values:
                where = f"{source} {cell.name}" if source else cell.where
                cell = replace(cell, formula=parse(values[cell.name], where), where=where)
            cells.append(cell)
        return Sheet(cells)

    # -- evaluation ------------------------------------------------------

    def evaluate(self) -> Dict[str, Number]:
        """Every cell's value, by name. Errors name the cell that failed."""
        values: Dict[str, Number] = {}
        for cell in self.cells:
            try:
                value = cell.formula.evaluate(values)
                self._check_value(cell, value, values)
            except (ZeroDivisionError, SheetError):
                first = self._first_failure()
                if first is None:  # pragma: no cover - the same cells fail the same way twice
                    raise
                raise first from None
            values[cell.name] = value
        return values

    def evaluate_fixed(self, varying: Iterable[str]) -> Dict[str, Number]:
        """The values of the cells that read no `varying` cell, directly or not (a compiled function's
        constants; what a plan's layouts leave unchanged):
        what a varied input's own default would give elsewhere is never evaluated, so `gpus`
        searched from 1 with tp = 2 is not refused for the dp = 1/2 its default implies."""
        varying = set(varying)
        values: Dict[str, Number] = {}
        for cell in self.cells:
            if cell.name in varying or any(name not in values for name in cell.formula.names):
                continue  # varies, or reads what varies
            try:
                value = cell.formula.evaluate(values)
                self._check_value(cell, value, values)
            except (ZeroDivisionError, SheetError):
                first = self._first_failure(varying)
                if first is None:  # pragma: no cover - the same cells fail the same way twice
                    raise
                raise first from None
            values[cell.name] = value
        return values

    def _first_failure(self, skip: Iterable[str] = ()) -> Optional[SheetError]:
        """The error for the sheet's values, after one cell failed: every cell that reads no failed
        cell is evaluated, and of the failures the one given first is named (`gpus = 8 is not
        dp·tp·pp·cp = 3`, rather than what dp = 3 then does to the batch)."""
        values: Dict[str, Number] = {}
        failures: List[Tuple[int, SheetError]] = []
        skip = set(skip)
        for cell in self.cells:
            if cell.name in skip or any(name not in values for name in cell.formula.names):
                continue  # reads a failed cell: its own failure would only repeat the cause
            try:
                value = cell.formula.evaluate(values)
            except ZeroDivisionError:
                failures.append((self.rank[cell.name], SheetError(
                    f"{self._blame(cell)}: division by zero in {cell.name} = {cell.formula.text}"
                    f"{self._inputs_of(cell, values)}")))
                continue
            try:
                self._check_value(cell, value, values)
            except SheetError as error:
                failures.append((self.rank[cell.name], error))
                continue
            values[cell.name] = value
        return min(failures, key=lambda failure: failure[0])[1] if failures else None

    def function(self, params: Sequence[str], outputs: Optional[Sequence[str]] = None,
                 source: Optional[str] = None, bits: int = MAX_PARAM_BITS,
                 stages: Sequence[int] = ()) -> Callable[..., tuple]:
        """A compiled function of the named cells' values that returns the `outputs`
        cells' values (default: every cell, in `self.cells` order). Only what the
        outputs and the inputs' own checks need is computed; cells that do not depend
        on `params` are evaluated once, here, and folded in as constants. `source`
        (e.g. "--vary") is named in an error that a varied value causes. `bits` bounds
        every argument (at most MAX_PARAM_BITS): a caller whose values are small (a plan's
        layout sizes) proves the sheet's bounds with it, and the function refuses larger.

        With `stages` = (k1, k2, ...), the function is also staged: `function.stage(*the first k1
        values)` computes once what depends on those params only and returns a function of the
        next ones, up to k2, which does the same, and so on to the last params, which give the
        outputs; each returns None where a check fails. A plan that tries every recomputation and
        ZeRO stage of one layout computes what they share once.
        """
        if not 1 <= bits <= MAX_PARAM_BITS:
            raise ValueError(f"bits: from 1 to {MAX_PARAM_BITS}, got {bits}")
        stages = tuple(stages)
        if list(stages) != sorted(set(stages)) or any(not 0 < k < len(params) for k in stages):
            raise ValueError(f"stages: increasing counts of params from 1 to {len(params) - 1}, got {stages}")
        key = (tuple(params), None if outputs is None else tuple(outputs), source, bits, stages)
        if key not in self._functions:
            self._functions[key] = self._compile(*key)
        return self._functions[key]

    def evaluate_with(self, params: Sequence[str], args: Sequence[int]) -> Dict[str, Number]:
        """The values with `params` set to `args`, through the compiled function."""
        results = self.function(params)(*args)
        return {cell.name: value for cell, value in zip(self.cells, results)}

    # -- checks ----------------------------------------------------------

    def _inputs_of(self, cell: Cell, values: Mapping[str, Number]) -> str:
        shown = [f"{name} = {_show(values[name])}" for name in cell.formula.names if name in values]
        return f" (with {', '.join(shown)})" if shown else ""

    def _given(self, cell: Cell) -> List[str]:
        """Where the values a cell reads were given on the command line (wheres such as
        `--set num_heads`, `--vary d_model`), in the order the formula reads them."""
        found: List[str] = []
        seen = set()
        pending = [name for name in cell.formula.names if name in self.index]
        while pending:  # breadth first, through derived cells: rotary_fraction → rotary_dims → unrotated_dims
            name = pending.pop(0)
            if name in seen:
                continue
            seen.add(name)
            read = self.cells[self.index[name]]
            if read.where.startswith("--"):
                found.append(read.where)
            else:
                pending.extend(n for n in read.formula.names if n in self.index)
        return list(dict.fromkeys(found))

    def _blame(self, cell: Cell) -> str:
        """What an error about `cell` names first: where the bad value came from. A derived
        cell (d_head) that fails on a value given with --set or --vary blames that option,
        not the file that defines the derived cell."""
        if cell.where.startswith("--"):
            return cell.where
        return ", ".join(self._given(cell)) or cell.where

    def _check_value(self, cell: Cell, value: Number, values: Mapping[str, Number]) -> None:
        broken = (cell.integer and type(value) is not int) or (cell.minimum is not None and value < cell.minimum)
        if broken and cell.message:
            raise SheetError(f"{self._blame(cell)}: {explain(cell.message, value, values)}")
        if cell.integer and type(value) is not int:
            raise SheetError(
                f"{self._blame(cell)}: {cell.name} = {cell.formula.text} gives {_show(value)}, "
                f"not a whole number{self._inputs_of(cell, values)}"
            )
        if cell.minimum is not None and value < cell.minimum:
            least = "positive" if cell.minimum == 1 else f"at least {cell.minimum}"
            raise SheetError(
                f"{self._blame(cell)}: {cell.name} must be {least}, got {_show(value)}"
                + (f" from {cell.formula.text}{self._inputs_of(cell, values)}" if cell.formula.names else "")
            )

    def _check_bounds(self, params: Tuple[str, ...], bits: int = MAX_PARAM_BITS) -> None:
        """Refuse a sheet in which some value could exceed MAX_VALUE_BITS, before
        evaluating anything: a chain of squarings must not exhaust memory."""
        bounds: Dict[str, Tuple[int, int]] = {}
        for cell in self.cells:
            if cell.name in params:
                bounds[cell.name] = (bits, 0)
                continue
            numerator, denominator = cell.formula.bits_bound(bounds)
            if numerator + denominator > MAX_VALUE_BITS:
                raise BoundsError(
                    f"{self._blame(cell)}: {cell.name} = {cell.formula.text} could reach "
                    f"{numerator + denominator:,} bits; values are limited to {MAX_VALUE_BITS:,} bits"
                )
            bounds[cell.name] = (numerator, denominator)

    # -- compilation -----------------------------------------------------

    def _compile(self, params: Tuple[str, ...], outputs: Optional[Tuple[str, ...]],
                 source: Optional[str] = None, bits: int = MAX_PARAM_BITS,
                 stages: Tuple[int, ...] = ()) -> Callable[..., tuple]:
        """A function of `params` returning `outputs`, built once: the stages below run per compile,
        never per evaluation; what runs per evaluation is the generated code alone."""
        self._check_names(params, outputs)
        self._check_bounds(params, bits)
        outputs = tuple(cell.name for cell in self.cells) if outputs is None else outputs
        needed = self._needed(outputs)
        varying = self._varying(params)
        constants = self.evaluate_fixed(varying)  # the cells that do not vary; also checks them

        local = {cell.name: f"_v{i}" for i, cell in enumerate(self.cells)}
        namespace: Dict[str, object] = {"__builtins__": {}, "type": type, "int": int, "len": len, "_fail": _CellFailure,
                                     **RUNTIME}
        body = self._argument_checks(params, bits)
        expressions, checks = self._expressions(params, needed, varying, constants, local)
        result = ast.Return(ast.Tuple([ast.Name(local[name], ast.Load()) for name in outputs], ast.Load()))
        staged = None
        if stages:
            staged = self._staged(params, stages, varying, expressions, checks, outputs, local, constants,
                                  namespace, body, result)
        body += _optimized(expressions, checks, outputs, local, constants, namespace)
        body.append(result)
        compiled = _function("sheet", len(params), body, namespace)
        return self._entry_points(compiled, staged, len(stages), params, source, bits)

    def _check_names(self, params: Tuple[str, ...], outputs: Optional[Tuple[str, ...]]) -> None:
        for name in params:
            if name not in self.index:
                known = [n for n in self.index if "." not in n]
                raise SheetError(f"cannot vary {name!r}: no such cell{suggest(name, known)}")
        for name in outputs or ():
            if name not in self.index:
                raise SheetError(f"no such cell {name!r}{suggest(name, self.index)}")

    def _needed(self, outputs: Tuple[str, ...]) -> set:
        """What to compute: the outputs, and every input (a size that must be positive, a width
        that must divide, a ratio that must not divide by zero), so that a varied value is
        checked as in evaluate() whichever outputs are asked for."""
        needed = set(outputs) | {cell.name for cell in self.cells if "." not in cell.name}
        for cell in reversed(self.cells):
            if cell.name in needed:
                needed.update(cell.formula.names)
        return needed

    def _varying(self, params: Tuple[str, ...]) -> set:
        """The params and every cell that reads one, directly or not."""
        varying = set(params)
        for cell in self.cells:
            if cell.name not in varying and any(name in varying for name in cell.formula.names):
                varying.add(cell.name)
        return varying

    def _argument_checks(self, params: Tuple[str, ...], bits: int) -> List[ast.stmt]:
        """A statement per param: a varied input must be an int of bounded size, as the bounds assumed."""
        body: List[ast.stmt] = []
        for i, name in enumerate(params):
            check = f"type(p{i}) is int and -{1 << bits} < p{i} < {1 << bits}"
            body.append(ast.parse(f"if not ({check}): raise _fail({self.index[name]})").body[0])
        return body

    def _expressions(self, params: Tuple[str, ...], needed: set, varying: set, constants: Mapping[str, Number],
                     local: Mapping[str, str]) -> Tuple[Dict[str, ast.expr], Dict[str, str]]:
        """Each needed varying cell's expression, and the check its value must pass (a whole
        number, a minimum) unless its formula proves it."""
        # a constant that is a Fraction (ffn_ratio = 8/3) makes what reads it a possible Fraction
        fractional = {name for name, value in constants.items() if name not in varying and type(value) is not int}
        nonnegative = {name for name, value in constants.items() if name not in varying and value >= 0}
        expressions: Dict[str, ast.expr] = {}
        checks: Dict[str, str] = {}
        for i, cell in enumerate(self.cells):
            if cell.name not in needed or cell.name not in varying:
                continue
            if cell.name in params:
                expressions[cell.name] = ast.Name(f"p{params.index(cell.name)}", ast.Load())
            else:
                value = to_python(cell.formula.tree, local)
                if cell.formula.may_be_fraction(fractional.__contains__):
                    value = ast.Call(ast.Name("_norm", ast.Load()), [value], [])
                    fractional.add(cell.name)
                expressions[cell.name] = value
            tests = []
            if cell.integer and cell.name in fractional:
                tests.append(f"type({local[cell.name]}) is not int")
            proven = cell.name not in params and cell.formula.nonnegative(nonnegative.__contains__)
            if proven:
                nonnegative.add(cell.name)
            if cell.minimum is not None and not (proven and cell.minimum <= 0):
                tests.append(f"{local[cell.name]} < {cell.minimum}")
                if cell.minimum >= 0:
                    nonnegative.add(cell.name)  # once checked
            if tests:
                checks[cell.name] = f"if {' or '.join(tests)}: raise _fail({i})"
        return expressions, checks

    def _entry_points(self, compiled: Callable, staged: Optional[Callable], stages: int, params: Tuple[str, ...],
                      source: Optional[str], bits: int) -> Callable[..., tuple]:
        """The compiled function wrapped as run (a failure explained by the interpreter), with
        run.valid, run.attempt and, when staged, run.stage."""
        def run(*args: int) -> tuple:
            try:
                return compiled(*args)
            except (_CellFailure, ZeroDivisionError):
                pass
            # attribute the failure to its cell with the reference interpreter
            self._explain(params, args, source, bits)
            raise AssertionError("the compiled sheet failed where the interpreter did not")

        def valid(*args: int) -> bool:
            """Whether every check holds at `args`, without building the error that says why
            not (a goal seek probes many values looking for valid ones)."""
            try:
                compiled(*args)
            except (_CellFailure, ZeroDivisionError):
                return False
            return True

        def attempt(*args: int) -> Optional[tuple]:
            """The outputs at `args`, or None where a check fails (a sweep leaves such points out,
            and asks run() why for the few it names)."""
            try:
                return compiled(*args)
            except (_CellFailure, ZeroDivisionError):
                return None

        def attempting(function: Callable, levels: int) -> Callable:
            """`function`, returning None where a check fails; below the last level, what it
            returns (the next level's function) made attempting too."""
            def attempt_level(*args: int):
                try:
                    result = function(*args)
                except (_CellFailure, ZeroDivisionError):
                    return None
                return attempting(result, levels - 1) if levels else result
            return attempt_level

        stage = attempting(staged, stages) if staged is not None else None

        run.valid = valid  # type: ignore[attr-defined]
        run.attempt = attempt  # type: ignore[attr-defined]
        if staged is not None:
            run.stage = stage  # type: ignore[attr-defined]
        return run

    def _staged(self, params, stages: Tuple[int, ...], varying, expressions, checks, outputs, local, constants,
                namespace, argument_checks: List[ast.stmt], result: ast.stmt) -> Callable:
        """The curried form of a compiled sheet: a function of the first stages[0] params computes
        the cells that read only them (and their checks), and returns a function of the params up
        to stages[1] that computes the cells that read only those, ..., whose last level computes
        the rest and returns the outputs. Each level reads the earlier ones' cells from its closure."""
        bounds = (0, *stages, len(params))
        levels = len(bounds) - 1
        groups, wanted = self._stage_groups(params, bounds, varying, expressions, outputs, local)
        caches = [[] for _ in range(levels)]  # the statements making each level's caches
        body: List[ast.stmt] = []
        for k in reversed(range(levels)):  # the last level first: each earlier one returns the next
            statements = list(argument_checks[bounds[k]:bounds[k + 1]])
            key = ast.Tuple([ast.Name(f"p{i}", ast.Load()) for i in range(bounds[k], bounds[k + 1])], ast.Load())
            for group in sorted((a for a in groups[k] if a is not None)):
                members = groups[k][group]
                handed = list(dict.fromkeys(wanted.get((k, group), [])))
                cache = f"_cache{k}_{group + 1}"
                if group < 0:
                    namespace[cache] = {}  # by this level's values alone: kept with the function
                else:
                    caches[group].append(ast.parse(f"{cache} = {{}}").body[0])
                found = ast.Tuple([ast.Name(local[name], ast.Store()) for name in handed], ast.Store())
                compute = _optimized(members, {n: c for n, c in checks.items() if n in members}, handed, local,
                                     constants, namespace)
                compute.append(ast.Assign([ast.Name("_found", ast.Store())],
                                          ast.Tuple([ast.Name(local[name], ast.Load()) for name in handed], ast.Load())))
                compute.append(ast.parse(f"if len({cache}) < {MAX_CACHED}: {cache}[_key] = _found").body[0])
                statements.append(ast.Assign([ast.Name("_key", ast.Store())], key))
                statements.append(ast.parse(f"_found = {cache}.get(_key)").body[0])
                statements.append(ast.If(ast.parse("_found is None", mode="eval").body, compute, []))
                statements.append(ast.Assign([found], ast.Name("_found", ast.Load())))
            rest = groups[k].get(None, {})
            handed = outputs if k == levels - 1 else list(dict.fromkeys(wanted.get((k, None), [])))
            statements += _optimized(rest, {n: c for n, c in checks.items() if n in rest}, handed, local, constants,
                                     namespace)
            statements = caches[k] + statements
            statements += [result] if k == levels - 1 else [body[0], ast.Return(ast.Name(f"level{k + 1}", ast.Load()))]
            arguments = ast.arguments(posonlyargs=[], args=[ast.arg(f"p{i}") for i in range(bounds[k], bounds[k + 1])],
                                      vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
            body = [ast.FunctionDef(f"level{k}", arguments, statements, [], None)]
        return _function_of(body[0], namespace)

    def _stage_groups(self, params, bounds: Tuple[int, ...], varying, expressions, outputs, local) -> tuple:
        """The staged function's plan: each level's groups of cells (level -> anchor, or None for the
        rest -> {name: tree}), and what each group hands on to readers outside it (group -> names)."""
        cell_of_local = {local[name]: name for name in expressions}
        levels = len(bounds) - 1
        # each varying cell's levels: those of the params it reads, directly or not
        reads: Dict[str, frozenset] = {}
        for i, name in enumerate(params):
            reads[name] = frozenset({next(k for k in range(levels) if i < bounds[k + 1])})
        for cell in self.cells:
            if cell.name in varying and cell.name not in reads:
                reads[cell.name] = frozenset().union(*(reads[n] for n in cell.formula.names if n in reads))
        level = {name: max(found, default=0) for name, found in reads.items()}
        # a cell of level k that reads no level between its own earlier ones and k (the compute time,
        # which reads the recomputation and the GPUs but not the ZeRO stage before it) is cached, by
        # level k's values, in the latest earlier level it reads (its anchor; -1: the function's own)
        anchor = {name: max(reads[name] - {level[name]}, default=-1) for name in expressions}
        cached = {name for name in expressions if level[name] >= 1 and anchor[name] < level[name] - 1}
        groups = [{} for _ in range(levels)]  # level -> (anchor, or None for the rest) -> {name: tree}
        for name, tree in expressions.items():
            groups[level[name]].setdefault(anchor[name] if name in cached else None, {})[name] = tree
        # what a reader outside its group reads is materialized there, never inlined
        group_of = {name: (level[name], anchor[name] if name in cached else None) for name in expressions}
        wanted: Dict[tuple, List[str]] = {}
        for name, tree in expressions.items():
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and node.id in cell_of_local:
                    read = cell_of_local[node.id]
                    if group_of[read] != group_of[name]:
                        wanted.setdefault(group_of[read], []).append(read)
        for name in outputs:
            if name in group_of:
                wanted.setdefault(group_of[name], []).append(name)
        return groups, wanted

    def _explain(self, params: Tuple[str, ...], args: Sequence[object], source: Optional[str] = None,
                 bits: int = MAX_PARAM_BITS) -> None:
        for name, value in zip(params, args):
            if type(value) is not int or value.bit_length() > bits:
                raise SheetError(
                    f"{f'{source} {name}' if source else self[name].where}: a varied value must be a whole "
                    f"number of at most {bits} bits, got {value!r}"
                )
        self.replace(dict(zip(params, args)), source).evaluate()


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def explain(message: str, value: Number, values: Mapping[str, Number]) -> str:
    """A cell's message with `{value}` and each `{name}` replaced by the value (a name without a
    value stays as written): plain substitution, never str.format on a template."""
    def shown(match: "re.Match[str]") -> str:
        name = match.group(1)
        if name == "value":
            return _show(value)
        return _show(values[name]) if name in values else name
    return _PLACEHOLDER.sub(shown, message)


def _function(name: str, arity: int, body: List[ast.stmt], namespace: Dict[str, object]) -> Callable:
    """The function `name(p0, ..., p{arity-1})` with this body."""
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg(f"p{i}") for i in range(arity)], vararg=None,
                              kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    return _function_of(ast.FunctionDef(name, arguments, body, [], None), namespace)


def _function_of(definition: ast.FunctionDef, namespace: Dict[str, object]) -> Callable:
    """The function a definition makes. Its code object is built from the validated trees only,
    and turned into a function without exec: its globals hold the runtime helpers and the folded
    constants, and no builtins."""
    module = ast.fix_missing_locations(ast.Module([definition], []))
    code = next(c for c in compile(module, "<acct sheet>", "exec").co_consts if isinstance(c, types.CodeType))
    return types.FunctionType(code, namespace)


def _show(value: Number) -> str:
    value = normalize(value)
    return f"{value:,}" if type(value) is int else f"{value.numerator:,}/{value.denominator:,}"


def _optimized(
    expressions: Dict[str, ast.expr],
    checks: Dict[str, str],
    outputs: Sequence[str],
    local: Mapping[str, str],
    constants: Mapping[str, Number],
    namespace: Dict[str, object],
) -> List[ast.stmt]:
    """The statements computing the varying cells: a cell read once and not checked is inlined
    into its reader; whole-number constants become literals; products and sums are regrouped so
    their constant factors and terms are folded at compile time (exact for int and Fraction: both
    are associative and commutative); an expression computed before is reused."""
    uses = _uses(expressions, outputs, local)
    for name, value in constants.items():
        if name not in expressions and type(value) is not int:
            namespace[local[name]] = value
    literals = {local[name]: value for name, value in constants.items() if name not in expressions and type(value) is int}
    inlined: Dict[str, ast.expr] = {}
    statements: List[ast.stmt] = []
    seen: Dict[str, str] = {}
    for name, expression in expressions.items():
        expression = _fold(_substitute(expression, literals, inlined))
        target = local[name]
        # inlining a chain of cells each read once nests their trees; past MAX_INLINE_DEPTH the
        # cell is computed on its own line instead, so no tree nears the recursion limit
        if (uses[name] == 1 and name not in checks and not isinstance(expression, ast.Name)
                and _depth(expression) <= MAX_INLINE_DEPTH):
            inlined[target] = expression
            continue
        key = ast.dump(expression)
        value = ast.Name(seen[key], ast.Load()) if key in seen else expression
        seen.setdefault(key, target)
        statements.append(ast.Assign([ast.Name(target, ast.Store())], value))
        if name in checks:
            statements.append(ast.parse(checks[name]).body[0])
    for name in outputs:  # a constant output still needs its value in the function
        if name not in expressions and name in constants:  # (not one an outer stage computes)
            namespace[local[name]] = constants[name]
    return statements


def _uses(expressions: Dict[str, ast.expr], outputs: Sequence[str], local: Mapping[str, str]) -> Dict[str, int]:
    """How many times each varying cell is read by the others; an output counts as read twice
    (it is always materialized)."""
    cell_of = {local[name]: name for name in expressions}
    uses: Dict[str, int] = dict.fromkeys(expressions, 0)
    for expression in expressions.values():
        for node in ast.walk(expression):
            if isinstance(node, ast.Name) and node.id in cell_of:
                uses[cell_of[node.id]] += 1
    for name in outputs:
        if name in uses:
            uses[name] += 2  # an output is always materialized
    return uses


def _substitute(node: ast.expr, literals: Mapping[str, int], inlined: Mapping[str, ast.expr]) -> ast.expr:
    """`node` with whole-number constants as literals and the inlined cells' trees in place of their names."""
    if isinstance(node, ast.Name):
        if node.id in literals:
            return ast.Constant(literals[node.id])
        if node.id in inlined:
            return inlined[node.id]
        return node
    if isinstance(node, ast.BinOp):
        return ast.BinOp(_substitute(node.left, literals, inlined), node.op, _substitute(node.right, literals, inlined))
    if isinstance(node, ast.UnaryOp):
        return ast.UnaryOp(node.op, _substitute(node.operand, literals, inlined))
    if isinstance(node, ast.Call):
        return ast.Call(node.func, [_substitute(argument, literals, inlined) for argument in node.args], [])
    return node


def _fold(node: ast.expr) -> ast.expr:
    """Fold constants bottom-up; products and sums are flattened so their constants meet.
    A product with a zero factor is kept whole: its other factors may still divide by zero."""
    if isinstance(node, ast.UnaryOp):
        operand = _fold(node.operand)
        if isinstance(node.op, ast.USub) and isinstance(operand, ast.Constant):
            return ast.Constant(-operand.value)
        return ast.UnaryOp(node.op, operand)
    if isinstance(node, ast.Call):
        return ast.Call(node.func, [_fold(argument) for argument in node.args], [])
    if not isinstance(node, ast.BinOp):
        return node
    if isinstance(node.op, (ast.Mult, ast.Add)):
        kind = type(node.op)
        terms = [_fold(term) for term in operands(node)]
        numbers = [term.value for term in terms if isinstance(term, ast.Constant)]
        others = [term for term in terms if not isinstance(term, ast.Constant)]
        if kind is ast.Mult:
            constant = 1
            for number in numbers:
                constant *= number
            if constant == 0 and others:
                return _chain(terms, ast.Mult)
            parts = others if constant == 1 and others else [ast.Constant(constant)] + others
        else:
            constant = sum(numbers)
            others = _like_terms(others)
            parts = others + ([ast.Constant(constant)] if constant or not others else [])
        return _chain(parts, kind)
    left, right = _fold(node.left), _fold(node.right)
    if isinstance(node.op, ast.Pow) and isinstance(left, ast.Constant) and isinstance(right, ast.Constant):
        return ast.Constant(left.value ** right.value)  # the exponent is a small non-negative literal
    return ast.BinOp(left, node.op, right)


def _like_terms(terms: List[ast.expr]) -> List[ast.expr]:
    """A sum's terms with like terms collected: 245760000·T + 983040000·T is 1228800000·T, and
    153600·T² + 153600·T² is 307200·T² (exact for int coefficients; the term itself is evaluated
    once, so a division by zero in it still raises). Terms keep the order they first appear in."""
    if len(terms) < 2:
        return terms
    coefficients: Dict[str, int] = {}
    bodies: Dict[str, ast.expr] = {}
    for term in terms:
        coefficient, body = 1, term
        if isinstance(term, ast.BinOp) and isinstance(term.op, ast.Mult):
            factors = operands(term)
            constants = [f for f in factors if isinstance(f, ast.Constant) and type(f.value) is int]
            if len(constants) == 1:
                coefficient = constants[0].value
                rest = [f for f in factors if f is not constants[0]]
                body = rest[0] if len(rest) == 1 else chain(rest, ast.Mult)
        key = ast.dump(body)
        if key not in bodies:
            bodies[key], coefficients[key] = body, 0
        coefficients[key] += coefficient
    if len(bodies) == len(terms):
        return terms  # nothing to collect: the terms as they were
    return [body if coefficients[key] == 1 else ast.BinOp(ast.Constant(coefficients[key]), ast.Mult(), body)
            for key, body in bodies.items()]


def _chain(parts: List[ast.expr], kind: type) -> ast.expr:
    return chain(parts, kind)  # balanced: a sum of 1,200 rows compiles at depth 11


def _depth(node: ast.expr) -> int:
    """The depth of a tree, without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack += [(child, depth + 1) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)]
    return deepest

