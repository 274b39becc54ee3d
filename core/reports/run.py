"""The report: a model's evaluated sheet as rows, totals, groups and memory, all exact."""

from __future__ import annotations

from fractions import Fraction
from typing import Dict, List, Mapping, Optional, Tuple

from acct.records import fresh, record

from acct.errors import ConfigError, PluginError, suggest
from acct.engine.formula import Number
from acct.model.model import TOTAL_FLOPS, TOTAL_PARAMS, Model, blocks_cell, cell_name, convention_cell, group_cell
from acct.model.registry import LAYERS
from acct.model.registry import RegisteredComponent

# bytes per parameter for the weights' memory table
DTYPES: Tuple[Tuple[str, int], ...] = (("fp32", 4), ("bf16 / fp16", 2), ("int8", 1))

CONVENTIONS = (
    "FLOPs count matrix multiplies only, 2·m·k·n for (m×k)·(k×n) (a multiply and an add per "
    "multiply-accumulate), for the forward pass of one sequence of T tokens; the causal mask is "
    "not halved (QKᵀ and attention·V count all T² scores); lookups, norms, softmax and "
    "activations add no FLOPs here."
)


@record
class InputLine:
    name: str
    symbol: Optional[str]
    value: Number
    formula: Optional[str]  # displayed formula, when the value is derived
    description: str


@record
class Row:
    name: str
    slot: str
    variant: str
    group: str
    description: str
    per_layer: bool  # repeated: its multiplicity is a formula, not 1
    multiplicity: int
    multiplicity_display: str  # `L`, `L − L_moe`, `1`
    shape: Optional[str]
    params_formula: str
    params_display: str
    flops_formula: str
    flops_display: str
    params_each: int
    params: int
    flops_each: int
    flops: int
    params_share: Fraction
    flops_share: Fraction
    note: str = ""
    flops_other: Optional[int] = None  # non-matmul FLOPs, all layers, when asked for
    flops_other_display: str = ""


@record
class ConventionTotal:
    name: str
    description: str
    source: str
    forward: Number
    training: Number


@record
class Group:
    name: str
    params: int
    flops: int
    params_share: Fraction
    flops_share: Fraction


@record
class Report:
    name: str
    path: str
    description: str
    source: str
    inputs: List[InputLine]
    variants: Dict[str, str]
    rows: List[Row]
    groups: List[Group]
    params: int
    flops: int
    params_per_layer: Number  # the blocks' total / L: one block's count when every block is alike
    flops_per_layer: Number
    uniform_layers: bool  # every repeated row is ×L (no MoE layers beside dense ones, no windowed layers)
    blocks_flops: int  # all the per-layer rows, × num_layers
    num_layers: int
    context_length: Optional[int]
    memory: List[Tuple[str, int, int]]  # (dtype, bytes per parameter, bytes)
    conventions: str = CONVENTIONS
    notes: List[str] = fresh(list)
    counting: List[ConventionTotal] = fresh(list)  # every registered convention's totals
    convention: Optional[str] = None  # the one asked for with --convention
    default_convention: Optional[str] = None  # the registered baseline the others are compared with
    params_active: Optional[int] = None  # parameters one token uses, when fewer than params (MoE)
    flops_other: Optional[int] = None  # non-matmul FLOPs in all, when asked for


def share(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(0)


def make_report(model: Model, values: Optional[Mapping[str, Number]] = None, convention: Optional[str] = None) -> Report:
    """Evaluate the model's sheet (unless `values` are given) and lay the results out;
    `convention` names the counting convention to set beside acct's own, if any."""
    values = model.sheet.evaluate() if values is None else values
    symbols = model.symbols
    num_layers = values.get(LAYERS, 0)
    repeated = [row for row in model.rows if row.repeated]
    # every block alike (each repeated row ×L): one block's share is exact; else an average per layer
    uniform = all(values[cell_name(row, "multiplicity")] in (0, num_layers) for row in repeated)

    def per_layer(total: int) -> Number:
        return Fraction(total, num_layers) if num_layers else 0
    total_params, total_flops = values[TOTAL_PARAMS], values[TOTAL_FLOPS]
    rows = _report_rows(model, values, symbols, total_params, total_flops)
    groups = _report_groups(model, values, total_params, total_flops)
    inputs = _input_lines(model, values, symbols)
    notes = [f"{row.name}: {row.note}" for row in rows if row.note]

    return Report(
        name=model.preset.name,
        path=str(model.preset.path),
        description=model.preset.description,
        source=model.preset.source,
        inputs=inputs,
        variants=dict(model.variants),
        rows=rows,
        groups=groups,
        params=total_params,
        flops=total_flops,
        params_per_layer=per_layer(values[blocks_cell("params")]),
        flops_per_layer=per_layer(values[blocks_cell("flops")]),
        uniform_layers=uniform,
        blocks_flops=values[blocks_cell("flops")],
        num_layers=values.get(LAYERS, 0),
        context_length=values.get("context_length"),
        memory=[(dtype, size, size * total_params) for dtype, size in DTYPES],
        notes=notes,
        counting=_convention_totals(model, values),
        convention=_known_convention(model, convention),
        default_convention=model.registry.default_convention,
        params_active=(values["total.params_active"] if values["total.params_active"] != total_params else None),
        flops_other=sum(row.flops_other for row in rows) if model.non_matmul else None,
    )


def _report_rows(model: Model, values: Mapping[str, Number], symbols, total_params: int, total_flops: int) -> List[Row]:
    """A row per component with an instance in this model: its formulas, counts and shares."""
    rows = []
    for component in model.rows:
        if component.repeated and values[cell_name(component, "multiplicity")] == 0:
            continue  # no instance in this model (e.g. dense-layer FFN rows of an all-MoE model)
        _check_shape(component, values, symbols)
        spec = component.spec
        params, flops = values[cell_name(component, "params")], values[cell_name(component, "flops")]
        rows.append(
            Row(
                name=spec.name,
                slot=spec.slot,
                variant=spec.variant,
                group=spec.group,
                description=spec.description,
                per_layer=component.repeated,
                multiplicity=values[cell_name(component, "multiplicity")] if component.repeated else 1,
                multiplicity_display=component.multiplicity.display(symbols),
                shape=shape_text(component, symbols),
                params_formula=component.params.text,
                params_display=component.params.display(symbols),
                flops_formula=component.flops.text,
                flops_display=component.flops.display(symbols),
                params_each=values[cell_name(component, "params_each")],
                params=params,
                flops_each=values[cell_name(component, "flops_each")],
                flops=flops,
                params_share=share(params, total_params),
                flops_share=share(flops, total_flops),
                note=spec.note,
                flops_other=values[cell_name(component, "flops_other")] if model.non_matmul else None,
                flops_other_display=component.flops_other.display(symbols),
            )
        )
    return rows


def _report_groups(model: Model, values: Mapping[str, Number], total_params: int, total_flops: int) -> List[Group]:
    """Each group's parameters and FLOPs, and their shares of the totals."""
    groups = []
    for name in model.groups:
        params, flops = values[group_cell(name, "params")], values[group_cell(name, "flops")]
        groups.append(Group(name, params, flops, share(params, total_params), share(flops, total_flops)))
    return groups


def _input_lines(model: Model, values: Mapping[str, Number], symbols) -> List[InputLine]:
    """The configuration: each input's symbol, value, the formula it is derived by, its meaning."""
    inputs = []
    for name in model.inputs:
        cell = model.sheet[name]
        derived = cell.formula.display(symbols) if cell.formula.names else None
        inputs.append(InputLine(name, cell.symbol, values[name], derived, cell.description))
    return inputs


def _convention_totals(model: Model, values: Mapping[str, Number]) -> List[ConventionTotal]:
    """Every registered convention's forward and training counts, when the sheet has them."""
    if "convention" not in model.outputs:
        return []
    return [
        ConventionTotal(name, c.spec.description, c.spec.source,
                        values[convention_cell(name, "forward")], values[convention_cell(name, "training")])
        for name, c in model.registry.conventions.items()
    ]


def _known_convention(model: Model, name: Optional[str]) -> Optional[str]:
    if name is not None and name not in model.registry.conventions:
        known = model.registry.conventions
        listing = ", ".join(known) or "none (is the plugin that registers them disabled?)"
        raise ConfigError(f"--convention: unknown convention {name!r}{suggest(name, known)}; known: {listing}")
    return name


def shape_text(component: RegisteredComponent, symbols: Mapping[str, str]) -> Optional[str]:
    """`(T×D)·(D×D)`, or `H × (T×d_k)·(d_k×T)` for a product run once per head."""
    if component.shape is None:
        return None
    m, k, n = (side.display(symbols) for side in component.shape)
    text = f"({m}×{k})·({k}×{n})"
    return f"{component.batch.display(symbols)} × {text}" if component.batch else text


def _check_shape(component: RegisteredComponent, values: Mapping[str, Number], symbols: Mapping[str, str]) -> None:
    """A matmul's FLOPs formula must agree with its stated shape: 2·batch·m·k·n."""
    if component.shape is None:
        return
    product = 2
    for formula in component.formulas[2:]:  # the shape's m, k, n and the batch
        product *= formula.evaluate(values)
    stated = values[cell_name(component, "flops_each")]
    if product != stated:
        raise PluginError(
            f"{component.where}: its FLOPs formula {component.flops.text!r} gives {stated:,}, but its shape "
            f"{shape_text(component, symbols)} implies 2·m·k·n = {product:,}"
        )
