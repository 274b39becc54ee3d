"""The run and conventions reports: their data (the JSON record) and their markdown."""

from __future__ import annotations

from fractions import Fraction
from typing import Dict, Iterable, List, Sequence, Tuple

from acct.engine.formula import Number
from acct.render import Kind
from acct.render.escape import markdown as md
from acct.render.formats import DEFAULT_TABLEFMT, number, table
from acct.engine.numbers import exact, fixed, human, percent, significant
from acct.reports.run import Report, share

GiB = 1024**3
GB = 10**9


# -- markdown -------------------------------------------------------------------


def to_markdown(report: Report, tablefmt: str = DEFAULT_TABLEFMT) -> str:
    out: List[str] = [f"# {md(report.name)}", ""]
    if report.description:
        out += [md(report.description, line_start=True), ""]
    if report.source:
        out += [f"Source: {md(report.source)}", ""]
    out += _configuration_markdown(report, tablefmt)
    out += _params_markdown(report, tablefmt)
    out += _flops_markdown(report, tablefmt)
    out += _groups_markdown(report, tablefmt)
    if report.flops_other is not None:
        out += _non_matmul_markdown(report, tablefmt)
    if report.convention:
        out += _convention_markdown(report)
    for note in report.notes:
        out += [f"Note — {md(note)}", ""]
    conventions = report.conventions
    if report.flops_other is not None:
        conventions += " With --non-matmul, the section above counts those non-matmul FLOPs separately."
    out += [f"Conventions: {conventions}", ""]
    return "\n".join(out)


def _configuration_markdown(report: Report, tablefmt: str) -> List[str]:
    """The inputs, their symbols, values and meanings, and the chosen variants."""
    out: List[str] = []
    out += ["## Configuration", ""]
    rows = [
        [line.name, line.symbol or "", exact(line.value), f"= {line.formula}" if line.formula else "", line.description]
        for line in report.inputs
    ]
    out += [table(["input", "symbol", "value", "derived", "meaning"], rows, "llrll", tablefmt), ""]
    out += ["Variants: " + ", ".join(f"{md(slot)} = {md(variant)}" for slot, variant in report.variants.items()) + ".",
            ""]
    return out


def _params_markdown(report: Report, tablefmt: str) -> List[str]:
    """The parameters by component, the total, the active parameters, and the weights' memory by dtype."""
    out: List[str] = []
    out += ["## Parameters", ""]
    rows = [
        [row.name, row.params_display, f"{row.params_each:,}", times(row),
         f"{row.params:,}", percent(row.params_share)]
        for row in report.rows if row.params_formula != "0" or row.note
    ]
    rows.append(["**total**", "", "", "", f"**{report.params:,}**", percent(Fraction(1) if report.params else Fraction(0))])
    out += [table(["component", "formula", "each", "×", "total", "share"], rows, "llrrrr", tablefmt), ""]
    out += [
        f"**{report.params:,} parameters ({human(report.params)})**; {per_block(report, report.params_per_layer)}. "
        "'each' is one instance: per layer for repeated rows, the whole count for ×1 rows.",
        "",
    ]
    if report.params_active is not None:
        out += [f"**{report.params_active:,} active parameters per token ({human(report.params_active)})**: "
                f"{percent(share(report.params_active, report.params))} of the total; a token's forward pass "
                "uses only these (the routed experts it visits, not all of them).", ""]
    out += ["### Memory of the weights", ""]
    rows = [
        [dtype, str(size) if isinstance(size, int) else significant(size, 4), f"{size_bytes:,}",
         fixed(Fraction(size_bytes, GiB), 2), fixed(Fraction(size_bytes, GB), 2)]
        for dtype, size, size_bytes in report.memory
    ]
    out += [table(["dtype", "bytes/param", "bytes", "GiB (1024³ B)", "GB (10⁹ B)"], rows, "lrrrr", tablefmt), ""]
    return out


def _flops_markdown(report: Report, tablefmt: str) -> List[str]:
    """The forward FLOPs of one sequence by component, and the total."""
    out: List[str] = []
    tokens = f"T = {report.context_length:,} tokens" if report.context_length else "one sequence"
    out += [f"## Forward FLOPs (one sequence, {tokens})", ""]
    rows = [
        [row.name, row.shape or "", row.flops_display, f"{row.flops_each:,}", times(row),
         f"{row.flops:,}", percent(row.flops_share)]
        for row in report.rows if row.flops_formula != "0"
    ]
    rows.append(["**total**", "", "", "", "", f"**{report.flops:,}**", percent(Fraction(1) if report.flops else Fraction(0))])
    out += [table(["component", "shape", "formula", "each", "×", "total", "share"], rows, "lllrrrr", tablefmt), ""]
    out += [
        f"**{report.flops:,} FLOPs ({human(report.flops, 'FLOPs')}) per forward pass**; "
        f"{per_block(report, report.flops_per_layer).replace('holds', 'takes')}.",
        "",
    ]
    return out


def _groups_markdown(report: Report, tablefmt: str) -> List[str]:
    """Where the FLOPs go: the groups, largest first, with their parameters."""
    out: List[str] = []
    out += ["## Where the FLOPs go", ""]
    ranked = sorted(report.groups, key=lambda group: -group.flops)
    rows = [
        [group.name, f"{group.flops:,}", percent(group.flops_share), f"{group.params:,}", percent(group.params_share)]
        for group in ranked
    ]
    out += [table(["group", "forward FLOPs", "share", "params", "share"], rows, "lrrrr", tablefmt), ""]
    return out


def _non_matmul_markdown(report: Report, tablefmt: str) -> List[str]:
    """The opt-in non-matmul FLOPs by component (--non-matmul)."""
    out: List[str] = []
    out += ["## Non-matmul FLOPs (opt-in)", ""]
    rows = [[row.name, row.flops_other_display, f"{row.flops_other:,}", percent(share(row.flops_other, report.flops_other))]
            for row in report.rows if row.flops_other]
    rows.append(["**total**", "", f"**{report.flops_other:,}**", "100.0%"])
    out += [table(["component", "formula", "FLOPs (all layers)", "share"], rows, "llrr", tablefmt), ""]
    both = report.flops + report.flops_other
    out += [f"Matmul + non-matmul: **{both:,} FLOPs** per forward pass; the non-matmul part is "
            f"{percent(share(report.flops_other, both), 2)}. Per element: softmax 6 (scale, max, subtract, exp, "
            "sum, divide), RMSNorm 4, LayerNorm 7, SiLU 4 and the gate product 1, GELU 9, residual add 1, "
            "RoPE 3 per rotated value.", ""]
    silent = [row.name for row in report.rows if row.flops_other_display == "0"]
    if silent:
        out += [f"Rows that state no non-matmul FLOPs (a plugin states them as flops_other), counted as 0 here: "
                f"{', '.join(map(md, silent))}.", ""]
    return out


def _convention_markdown(report: Report) -> List[str]:
    """The counts under the chosen --convention, against acct's matmul count."""
    out: List[str] = []
    chosen = next(c for c in report.counting if c.name == report.convention)
    default = next((c for c in report.counting if c.name == report.default_convention), None)
    out += [f"## Under the {md(chosen.name)} convention", ""]
    out += [f"{md(chosen.description, line_start=True)} ({md(chosen.source)}). For {_sequences(report)}: forward **{exact_or_fixed(chosen.forward)}**"
            f", training (forward + backward) **{exact_or_fixed(chosen.training)}** FLOPs"
            + (f" — {fixed(Fraction(chosen.forward) / default.forward, 4)} × and "
               f"{fixed(Fraction(chosen.training) / default.training, 4)} × acct's matmul count."
               if default and default.forward and default.training else "."), ""]
    return out


def per_block(report: Report, value: Number) -> str:
    """`one block holds 40,963,200`, or the average when the layers differ (MoE beside dense layers,
    windowed beside full attention)."""
    if report.uniform_layers:
        return f"one block holds {exact_or_fixed(value)}"
    return f"a block holds {exact_or_fixed(value)} on average (the layers differ: see the × column)"


def times(row) -> str:
    """A row's multiplicity: `×48` for one per layer, `×45 (L − k_d)` for another formula."""
    if not row.per_layer or len(row.multiplicity_display) <= 2:
        return f"×{row.multiplicity:,}"
    return f"×{row.multiplicity:,} ({row.multiplicity_display})"


def _sequences(report: Report, capital: bool = False) -> str:
    """`one step of B = 8 sequences`: the batch a convention's step counts, from its value."""
    # the report's inputs are what the architecture reads; batch_size is the step's, which the
    # command line sets on the report (getattr: a Report built elsewhere may not carry it)
    batch = next((line.value for line in report.inputs if line.name == "batch_size"),
                 getattr(report, "batch_size", None))
    text = "one step" if batch is None else f"one step of B = {exact(batch)} sequence{'' if batch == 1 else 's'}"
    return ("O" + text[1:]) if capital else text


def exact_or_fixed(value: Number) -> str:
    """An exact integer, or a fraction to two decimals (conventions such as Megatron's divide)."""
    value = Fraction(value)
    return f"{value.numerator:,}" if value.denominator == 1 else fixed(value, 2)


def conventions_markdown(report: Report, tablefmt: str = DEFAULT_TABLEFMT) -> str:
    """Every registered convention's forward and training totals for one preset, against the default."""
    if not report.counting:
        from acct.errors import AcctError

        raise AcctError("acct conventions: no counting convention is loaded (is the plugin that registers them "
                        "disabled?)")
    default = next((c for c in report.counting if c.name == report.default_convention), report.counting[0])
    out = [f"# {md(report.name)}: FLOP-counting conventions", "",
           f"{_sequences(report, capital=True)} of T = {report.context_length:,} tokens; "
           "ratios are to acct's default matmul count.", ""]
    rows = [[c.name, exact_or_fixed(c.forward), exact_or_fixed(c.training),
             fixed(Fraction(c.forward) / default.forward, 4), fixed(Fraction(c.training) / default.training, 4)]
            for c in report.counting]
    out += [table(["convention", "forward FLOPs", "training FLOPs", "forward ÷ matmul", "training ÷ matmul"],
                   rows, "lrrrr", tablefmt), ""]
    out += [f"- **{md(c.name)}**: {md(c.description)}. Source: {md(c.source)}." for c in report.counting] + [""]
    return "\n".join(out)


def conventions_data(report: Report) -> Dict:
    return {
        "schema": "acct.conventions/1",
        "preset": report.name,
        "conventions": [{"name": c.name, "description": c.description, "source": c.source,
                         "forward": number(c.forward), "training": number(c.training)} for c in report.counting],
    }


# -- JSON and CSV ---------------------------------------------------------------

JSON_SCHEMA = "acct.report/1"


def to_data(report: Report) -> Dict:
    return {
        "schema": JSON_SCHEMA,
        "preset": {"name": report.name, "path": report.path, "description": report.description, "source": report.source},
        "inputs": {
            line.name: {"value": number(line.value), "symbol": line.symbol, "derived": line.formula,
                        "description": line.description}
            for line in report.inputs
        },
        "variants": report.variants,
        "rows": [
            {
                "name": row.name, "slot": row.slot, "variant": row.variant, "group": row.group,
                "description": row.description, "per_layer": row.per_layer, "multiplicity": row.multiplicity,
                "multiplicity_formula": row.multiplicity_display,
                "shape": row.shape,
                "params_formula": row.params_formula, "params_display": row.params_display,
                "params_each": row.params_each, "params": row.params,
                "flops_formula": row.flops_formula, "flops_display": row.flops_display,
                "flops_forward_each": row.flops_each, "flops_forward": row.flops,
                **({"flops_other": row.flops_other, "flops_other_formula": row.flops_other_display}
                   if row.flops_other is not None else {}),
            }
            for row in report.rows
        ],
        "groups": [{"name": g.name, "params": g.params, "flops_forward": g.flops} for g in report.groups],
        "totals": {
            "params": report.params,
            "params_active": report.params if report.params_active is None else report.params_active,
            "flops_forward": report.flops,
            "params_per_layer": number(report.params_per_layer),
            "flops_forward_per_layer": number(report.flops_per_layer),
            "uniform_layers": report.uniform_layers,
            **({"flops_other": report.flops_other} if report.flops_other is not None else {}),
        },
        "memory": [{"dtype": dtype, "bytes_per_param": number(size), "bytes": total}
                   for dtype, size, total in report.memory],
        "conventions_totals": {c.name: {"forward": number(c.forward), "training": number(c.training)}
                               for c in report.counting},
        "conventions": report.conventions,
        "notes": report.notes,
    }


CSV_COLUMNS = (
    "name", "slot", "variant", "group", "per_layer", "multiplicity", "shape",
    "params_formula", "params_each", "params", "flops_formula", "flops_forward_each", "flops_forward",
)


def run_records(data: Dict) -> Tuple[Sequence[str], Iterable[Sequence]]:
    """One line per component, then the totals: the run report's CSV."""
    rows: List[list] = [[row["name"], row["slot"], row["variant"], row["group"], int(row["per_layer"]),
                         row["multiplicity"], row["shape"] or "", row["params_formula"], row["params_each"],
                         row["params"], row["flops_formula"], row["flops_forward_each"], row["flops_forward"]]
                        for row in data["rows"]]
    totals = data["totals"]
    rows.append(["total", "", "", "", "", "", "", "", "", totals["params"], "", "", totals["flops_forward"]])
    return CSV_COLUMNS, rows


def conventions_records(data: Dict) -> Tuple[Sequence[str], Iterable[Sequence]]:
    return ("convention", "forward", "training"), [[c["name"], c["forward"], c["training"]]
                                                   for c in data["conventions"]]


RUN = Kind("run", to_data, to_markdown, run_records, rows=lambda data: data["rows"])
CONVENTIONS = Kind("conventions", conventions_data, conventions_markdown, conventions_records,
                   rows=lambda data: data["conventions"])
