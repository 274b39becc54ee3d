"""Build a model's sheet: the preset's inputs and choices, joined with the chosen components' formulas."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import Dict, List, Mapping, Optional, Tuple

from .config import Preset, Value
from .errors import ConfigError, PluginError, SheetError, suggest
from .formula import Formula, from_tree, parse
from .registry import RegisteredComponent, Registry, unknown_variant
from .sheet import Cell, Sheet
from .training import (
    ACTIVATION_OUTPUTS,
    DEFAULT_ACTIVATIONS,
    OUTPUTS,
    PRECISIONS,
    activation_formula,
    known_conventions,
    output_formula,
)

LAYERS = "num_layers"
TOTAL_PARAMS = "total.params"
TOTAL_FLOPS = "total.flops_forward"


def cell_name(row: RegisteredComponent, column: str) -> str:
    """The sheet cell of a row's column: `q_proj.params`, `q_proj.flops_each`."""
    return f"{row.spec.name}.{column}"


def group_cell(group: str, column: str) -> str:
    """The sheet cell summing a group's column: `groups.FFN.flops`."""
    return f"groups.{group}.{column}"


# cells a convention's formulas may read besides the inputs
AGGREGATES = {
    "flops_matmul": "matmul FLOPs of one forward pass of one sequence",
    "flops_attention": "the QKᵀ and attention·V part of flops_matmul",
    "params_total": "all parameters",
    "params_nonembedding": "parameters without the token and position tables",
}


OUTPUT_PREFIXES = ("train.", "memory.", "kv_cache.", "infer.", "total.", "convention.")


def output_cell(model: "Model", name: str, option: str) -> str:
    """`name` if it is an output cell of the model's sheet (train.flops_step, memory.peak, ...),
    else an error for `option` that suggests the nearest and lists them."""
    if name in model.sheet and name.startswith(OUTPUT_PREFIXES):
        return name
    outputs = sorted(cell.name for cell in model.sheet.cells if cell.name.startswith(OUTPUT_PREFIXES))
    hint = f"; {model.activation_problem}" if name.startswith("memory.") and model.activation_problem else ""
    raise ConfigError(f"{option}: unknown output {name!r}{suggest(name, outputs)}{hint}; known: {', '.join(outputs)}")


def convention_cell(name: str, column: str) -> str:
    """The sheet cell of a convention's total: `convention.kaplan.forward`."""
    return f"convention.{name}.{column}"


def blocks_cell(column: str) -> str:
    """The sheet cell summing the per-layer rows (the Transformer blocks) over all layers."""
    return f"blocks.{column}"


@dataclass(eq=False)
class Model:
    """A preset made concrete: the variant chosen per slot, the rows, and the sheet of cells."""

    preset: Preset
    registry: Registry
    variants: Dict[str, str]
    rows: List[RegisteredComponent]
    sheet: Sheet
    inputs: List[str]  # the input cells, in registration order
    overrides: Dict[str, Value]
    groups: List[str]  # the rows' groups, in row order
    activation_convention: str = DEFAULT_ACTIVATIONS
    activation_problem: str = ""  # why memory.activations and memory.peak are not in the sheet, if they are not
    non_matmul: bool = False  # whether the rows' flops_other column is in the sheet

    @property
    def symbols(self) -> Dict[str, str]:
        return {cell.name: cell.symbol for cell in self.sheet.cells if cell.symbol}

    def multiplicity(self, row: RegisteredComponent) -> str:
        return LAYERS if row.spec.per_layer else "1"


def build_model(
    preset: Preset,
    registry: Registry,
    overrides: Optional[Mapping[str, Value]] = None,
    non_matmul: bool = False,
) -> Model:
    """The model's sheet: inputs, every chosen row's columns, sums, training and inference outputs,
    and the conventions' totals. `non_matmul` adds the rows' opt-in non-matmul FLOPs column."""
    overrides = dict(overrides or {})
    variants = _choose_variants(preset, registry)
    rows: List[RegisteredComponent] = []
    seen: Dict[str, RegisteredComponent] = {}
    for key, components in registry.variants.items():
        if variants.get(key[0]) != key[1]:
            continue
        for row in components:
            if row.spec.name in seen:
                raise PluginError(
                    f"{row.where}: a row named {row.spec.name!r} is also contributed by {seen[row.spec.name].where}"
                )
            seen[row.spec.name] = row
            rows.append(row)
    rows = _apply_biases(preset, rows)

    for source, names in (("--set", overrides), (preset.where("model"), preset.inputs)):
        for name in names:
            if name not in registry.inputs:
                raise ConfigError(
                    f"{source} {name}: unknown input{suggest(name, registry.inputs)}; "
                    f"known: {', '.join(registry.inputs)}"
                )

    cells: Dict[str, Cell] = {}
    implied = _precision_inputs(preset)

    def need(name: str, reader: str, formula: Optional[Formula] = None) -> None:
        if name in cells:
            return
        if name not in registry.inputs:
            where = f" in formula {formula.text!r}" if formula else ""
            raise SheetError(f"{reader}: unknown name {name!r}{where}{suggest(name, registry.inputs)}")
        entry = registry.inputs[name]
        spec = entry.spec
        if not spec.settable and (name in overrides or name in preset.inputs):
            source = f"--set {name}" if name in overrides else preset.where("model", name)
            raise ConfigError(
                f"{source}: {name} is derived ({name} = {entry.default.text}) and cannot be set; "
                f"set {' or '.join(entry.default.names)} instead"
            )
        if name in overrides:
            where = f"--set {name}"
            formula = parse(overrides[name], where)
        elif name in preset.inputs:
            where = preset.where("model", name)
            formula = parse(preset.inputs[name], where)
        elif name in implied:
            where, value = implied[name]
            formula = parse(value, where)
        elif entry.default is not None:
            where = f"{preset.path}: {name} (the default of {entry.plugin})"
            formula = entry.default
        else:
            needed_by = reader.replace(f"{preset.path}: ", "", 1)
            raise ConfigError(f"{preset.where('model')} is missing {name!r} ({spec.description}), needed by {needed_by}")
        cells[name] = Cell(name, formula, where, spec.symbol, spec.description, spec.integer, spec.minimum)
        for read in formula.names:
            need(read, where, formula)

    convention = preset.training.get("activations", DEFAULT_ACTIVATIONS)
    known = known_conventions(row for rows_ in registry.variants.values() for row in rows_)
    if convention not in known:
        source = preset.chosen_by.get("activations") or preset.where("training", "activations")
        raise ConfigError(f"{source}: unknown activation convention {convention!r}{suggest(convention, known)}; "
                          f"known: {', '.join(known)}")
    missing = [row for row in rows if activation_formula(row.activations, convention) is None]

    for row in rows:
        for formula in row.formulas:
            for name in formula.names:
                need(name, row.where, formula)
        for name in (*row.spec.requires, *([LAYERS] if row.spec.per_layer else [])):
            need(name, row.where)
    inputs = [name for name in registry.inputs if name in cells]  # what the architecture reads

    columns = ["params", "flops", "flops_backward", "flops_decode", "kv_cache"]
    if non_matmul:
        columns.append("flops_other")
    if not missing:
        columns.append("activations")
    outputs = [(name, output_formula(text)) for name, text in OUTPUTS + (() if missing else ACTIVATION_OUTPUTS)]
    for row in rows:
        for column in columns[2:]:  # params and flops were read above
            for name in _row_formula(row, column, convention).names:
                need(name, f"{row.where} {column}")
    for name, formula in outputs:
        for read in formula.names:
            if "." not in read:
                need(read, f"the output {name}", formula)
    for counting in registry.conventions.values():
        for formula in (counting.forward, counting.training):
            for read in formula.names:
                if read not in AGGREGATES:
                    need(read, f"{counting.plugin}: convention {counting.spec.name!r}", formula)

    for source, names in (("--set", overrides), (preset.where("model"), preset.inputs)):
        for name in names:
            if name not in cells:  # a value the user gave that would silently change nothing
                raise ConfigError(f"{source} {name}: no chosen component reads it{_readers(name, registry)}")

    sheet_cells = list(cells.values())
    for row in rows:
        for column in columns:
            formula = _row_formula(row, column, convention)
            each = cell_name(row, f"{column}_each")
            sheet_cells.append(Cell(each, formula, f"{row.where} {column}", integer=True, minimum=0))
            total = from_tree(_product(each, LAYERS if row.spec.per_layer else None), f"{each} × layers")
            sheet_cells.append(Cell(cell_name(row, column), total, f"{row.where} {column}"))
    groups = list(dict.fromkeys(row.spec.group for row in rows))
    for column in columns:
        parts = [cell_name(row, column) for row in rows]
        if column in ("params", "flops"):
            sums = {group_cell(group, column): [r for r in rows if r.spec.group == group] for group in groups}
            sums[blocks_cell(column)] = [row for row in rows if row.spec.per_layer]
            for name, members in sums.items():
                sheet_cells.append(Cell(name, from_tree(_sum([cell_name(r, column) for r in members]), name),
                                        f"the sum {name}"))
            parts = [group_cell(group, column) for group in groups]
        total = TOTAL_FLOPS if column == "flops" else f"total.{column}"
        sheet_cells.append(Cell(total, from_tree(_sum(parts), total), f"the model's {column} total"))
    for name, formula in outputs:
        sheet_cells.append(Cell(name, formula, f"the output {name}"))
    attention = [cell_name(row, "flops") for row in rows if row.spec.slot == "attention"]
    embedding = group_cell("embedding", "params") if "embedding" in groups else None
    aggregates = {
        "flops_matmul": _name(TOTAL_FLOPS),
        "flops_attention": _sum(attention),
        "params_total": _name(TOTAL_PARAMS),
        "params_nonembedding": ast.BinOp(_name(TOTAL_PARAMS), ast.Sub(), _name(embedding)) if embedding
        else _name(TOTAL_PARAMS),
    }
    for name, tree in aggregates.items():
        sheet_cells.append(Cell(name, from_tree(tree, name), f"the aggregate {name}", description=AGGREGATES[name]))
    for counting in registry.conventions.values():
        where = f"{counting.plugin}: convention {counting.spec.name!r}"
        sheet_cells.append(Cell(convention_cell(counting.spec.name, "forward"), counting.forward, f"{where} forward"))
        sheet_cells.append(Cell(convention_cell(counting.spec.name, "training"), counting.training,
                                f"{where} training"))
    problem = ""
    if missing:
        problem = (f"{missing[0].where} gives no activations formula for the convention {convention!r}"
                   f"{' (nor do ' + str(len(missing) - 1) + ' more rows)' if len(missing) > 1 else ''}")
    return Model(preset, registry, variants, rows, Sheet(sheet_cells), inputs, overrides, groups,
                 convention, problem, non_matmul)


def _row_formula(row: RegisteredComponent, column: str, convention: str) -> Formula:
    if column == "activations":
        return activation_formula(row.activations, convention)
    return getattr(row, column)


def _precision_inputs(preset: Preset) -> Dict[str, Tuple[str, int]]:
    """The bytes-per-value inputs a precision sets: name -> (where, value)."""
    precision = preset.training.get("precision", "fp32")
    where = preset.chosen_by.get("precision") or preset.where("training", "precision")
    if precision not in PRECISIONS:
        raise ConfigError(f"{where}: unknown precision {precision!r}{suggest(precision, PRECISIONS)}; "
                          f"known: {', '.join(PRECISIONS)}")
    return {name: (f"{where} = {precision}", value) for name, value in PRECISIONS[precision].items()}


def _apply_biases(preset: Preset, rows: List[RegisteredComponent]) -> List[RegisteredComponent]:
    """Add each chosen layer's bias to its params: `biases` names rows or groups."""
    if not preset.biases:
        return rows
    names = {row.spec.name for row in rows} | {row.spec.group for row in rows}
    for target in preset.biases:
        if target not in names:
            raise ConfigError(
                f"{preset.path}: biases: no chosen component or group is named {target!r}{suggest(target, names)}"
            )
        if any(row.spec.name == target and row.bias is None for row in rows):
            raise ConfigError(f"{preset.path}: biases: the component {target!r} has no bias")
    biased = []
    for row in rows:
        if row.bias is not None and (row.spec.name in preset.biases or row.spec.group in preset.biases):
            tree = ast.BinOp(row.params.tree, ast.Add(), row.bias.tree)
            row = replace(row, params=from_tree(tree, f"{row.params.text} + {row.bias.text}"))
        biased.append(row)
    return biased


def _readers(name: str, registry: Registry) -> str:
    """' (read by qkv = gqa)': the variants that would read an input nobody chosen reads."""
    readers = []
    for (slot, variant), components in registry.variants.items():
        for row in components:
            if any(name in formula.names for formula in row.formulas) or name in row.spec.requires:
                readers.append(f"{slot} = {variant}")
                break
    return f" (it is read by {', '.join(readers)})" if readers else ""


def _choose_variants(preset: Preset, registry: Registry) -> Dict[str, str]:
    slots = registry.slots()
    for slot, variant in preset.variants.items():
        where = preset.chosen_by.get(slot) or preset.where("variants", slot)
        if slot not in slots:
            raise ConfigError(f"{where}: unknown slot {slot!r}{suggest(slot, slots)}; known: {', '.join(slots)}")
        if variant not in slots[slot]:
            raise ConfigError(f"{where}: {unknown_variant(slot, variant, registry)}")
    chosen = {}
    for slot in slots:
        variant = preset.variants.get(slot) or registry.defaults.get(slot)
        if variant:
            chosen[slot] = variant
    return chosen


def _name(name: str) -> ast.expr:
    return ast.Name(name, ast.Load())


def _product(name: str, factor: Optional[str]) -> ast.expr:
    return ast.BinOp(_name(name), ast.Mult(), _name(factor)) if factor else _name(name)


def _sum(names: List[str]) -> ast.expr:
    if not names:
        return ast.Constant(0)
    tree = _name(names[0])
    for name in names[1:]:
        tree = ast.BinOp(tree, ast.Add(), _name(name))
    return tree
