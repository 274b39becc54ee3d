"""The HTML format: one self-contained page per report, built from the JSON format's data, charts as inline SVG.

A page fetches nothing and runs nothing: no script, no link, no image, no font, and a
Content-Security-Policy that forbids them, so it reads the same offline, attached to a mail
or opened years later. Every number of the JSON appears on the page exactly, with thousands
separators as in markdown, inside `<data value="...">` holding the JSON's own value (an
integer, or "p/q" for a fraction, which is shown rounded); percentages and ratios are derived
for reading and are never wrapped in `<data>`. Every string from a preset or a plugin is escaped.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from acct.render.escape import html as escape  # the one escaping of text for HTML: terminal-safe, then entities
from acct.engine.numbers import fixed, human, percent

GiB = 1024**3
GB = 10**9
# Okabe & Ito's palette, distinguishable with the common colour-vision deficiencies
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999", "#F0E442")
CHART_WIDTH = 760
LABEL_WIDTH = 230
BAR_WIDTH = 400
ROW_HEIGHT = 24
STACK_WIDTH = 500  # a stacked bar's length: every bar is 100%

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1a1a1a; background: #fff;
       margin: 0 auto; max-width: 1100px; padding: 1.5rem 2rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .4rem; } h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { padding: .25rem .7rem; border-bottom: 1px solid #e4e4e4; vertical-align: top; white-space: nowrap; }
th { background: #f3f5f7; text-align: left; } td.r, th.r { text-align: right; } .scroll { overflow-x: auto; }
small { color: #666; font-size: .85em; }
tfoot td { font-weight: 700; border-top: 2px solid #999; }
.muted { color: #666; } .lead { font-size: 1.05rem; } figure { margin: .8rem 0 1.2rem; }
figcaption { color: #555; font-size: .9rem; } svg text { font: 12px system-ui, sans-serif; fill: #1a1a1a; }
"""


class Html(str):
    """Markup, already escaped: the one kind of string the page writes as it is."""


def _text(value: object) -> str:
    """A table cell or a paragraph part: markup as it is, anything else escaped."""
    if isinstance(value, Html):
        return value
    return escape("" if value is None else str(value))


def _join(*parts: object) -> Html:
    return Html("".join(_text(part) for part in parts))


# -- numbers --------------------------------------------------------------------

JsonNumber = Union[int, str]  # the JSON keeps integers exact and writes a fraction as "p/q"


def number(value: Optional[JsonNumber], digits: int = 2) -> Html:
    """A number of the JSON as people read it, its exact value kept in `<data value>`: an
    integer in full with thousands separators, a fraction "p/q" rounded to `digits` decimals."""
    if value is None:
        return Html('<span class="muted">—</span>')
    if isinstance(value, str):
        exact = escape(value)
        return Html(f'<data value="{exact}" title="exactly {exact}">{plain(value, digits)}</data>')
    return Html(f'<data value="{value}">{plain(value)}</data>')


def plain(value: JsonNumber, digits: int = 2) -> str:
    """The text of number(value): `1,024`, or a fraction "p/q" to `digits` decimals."""
    return fixed(Fraction(value), digits) if isinstance(value, str) else f"{value:,}"


def _ratio(part: Union[JsonNumber, Fraction], whole: Union[JsonNumber, Fraction]) -> Fraction:
    return Fraction(part) / Fraction(whole) if whole else Fraction(0)


def _share(part: Union[JsonNumber, Fraction], whole: Union[JsonNumber, Fraction]) -> str:
    """A share for reading, `16.6%`: derived, so never inside <data>."""
    return percent(_ratio(part, whole))


def _sizes(size: int) -> Tuple[str, str]:
    """GiB (1024³ B) and GB (10⁹ B), to two decimals."""
    return fixed(Fraction(size, GiB), 2), fixed(Fraction(size, GB), 2)


# -- page, sections, tables -----------------------------------------------------


def _document(title: str, lead: Iterable[object], sections: Iterable[Html]) -> str:
    """The one page template: a title, a lead paragraph, then the sections, and nothing to fetch."""
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        # a page that can fetch nothing and run nothing, even if a string slipped through unescaped
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        f"<meta name=\"generator\" content=\"acct\">\n<title>{escape(title)}</title>\n<style>{STYLE}</style>\n",
        f"</head>\n<body>\n<h1>{escape(title)}</h1>\n",
        f"<p class=\"lead\">{_join(*lead)}</p>\n" if lead else "",
        *sections,
        "</body>\n</html>\n",
    ])


def _section(heading: str, *parts: object) -> Html:
    return Html(f"<section>\n<h2>{escape(heading)}</h2>\n" + "".join(_text(part) + "\n" for part in parts) + "</section>\n")


def _paragraph(*parts: object) -> Html:
    return Html(f"<p>{_join(*parts)}</p>")


def _list(items: Iterable[object]) -> Html:
    return Html("<ul>" + "".join(f"<li>{_text(item)}</li>" for item in items) + "</ul>")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], align: str,
          total: Optional[Sequence[object]] = None, caption: Optional[str] = None) -> Html:
    """An HTML table: `align` gives "l" or "r" per column as the markdown tables do; `total`
    is a last row set apart in <tfoot>. Cells are escaped unless they are Html."""

    def line(cells: Sequence[object], tag: str) -> str:
        return "<tr>" + "".join(
            f"<{tag}{' class=r' if side == 'r' else ''}>{_text(cell)}</{tag}>" for cell, side in zip(cells, align)
        ) + "</tr>\n"

    parts = ['<div class="scroll"><table>\n']
    if caption:
        parts.append(f"<caption>{escape(caption)}</caption>\n")
    parts += ["<thead>", line(headers, "th"), "</thead>\n<tbody>\n", *(line(row, "td") for row in rows), "</tbody>\n"]
    if total is not None:
        parts += ["<tfoot>", line(total, "td"), "</tfoot>\n"]
    return Html("".join(parts) + "</table></div>")


# -- charts (inline SVG, valid XML) -------------------------------------------------


def _svg(height: int, label: str, body: Iterable[str]) -> Html:
    """An SVG element with no namespace URI: the HTML parser places <svg> in the SVG namespace by
    itself, and the page then names no address at all."""
    return Html(
        f'<svg width="{CHART_WIDTH}" height="{height}" viewBox="0 0 {CHART_WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}">\n<title>{escape(label)}</title>\n' + "".join(body) + "</svg>"
    )


def _figure(svg: Html, caption: str) -> Html:
    return Html(f"<figure>\n{svg}\n<figcaption>{escape(caption)}</figcaption>\n</figure>")


def _colours(names: Iterable[str]) -> Dict[str, str]:
    """A colour per name, in order of first appearance, the same in every chart of a page."""
    colours: Dict[str, str] = {}
    for name in names:
        colours.setdefault(name, PALETTE[len(colours) % len(PALETTE)])
    return colours


def bar_chart(items: Sequence[Tuple[str, JsonNumber, str]], caption: str) -> Html:
    """Horizontal bars, one per (label, value, text), as long as value over the largest value, all in one
    colour (the labels say what each bar is)."""
    largest = max((Fraction(value) for _, value, _ in items), default=Fraction(0)) or Fraction(1)
    body = []
    for index, (label, value, text) in enumerate(items):
        y = 8 + index * ROW_HEIGHT
        width = float(Fraction(value) / largest * BAR_WIDTH)
        body.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.2f}" height="{ROW_HEIGHT - 6}" fill="{PALETTE[0]}">'
            f'<title>{escape(label)}: {escape(text)}</title></rect>'
            f'<text x="{LABEL_WIDTH + width + 6:.2f}" y="{y + 15}">{escape(text)}</text>\n'
        )
    return _figure(_svg(16 + len(items) * ROW_HEIGHT, caption, body), caption)


def _legend(colours: Dict[str, str], y: int) -> List[str]:
    """Swatches and names, in rows of three."""
    return [
        f'<rect x="{10 + (index % 3) * 250}" y="{y + (index // 3) * 20}" width="12" height="12" fill="{colour}"/>'
        f'<text x="{28 + (index % 3) * 250}" y="{y + 10 + (index // 3) * 20}">{escape(name)}</text>\n'
        for index, (name, colour) in enumerate(colours.items())
    ]


def _legend_height(colours: Dict[str, str]) -> int:
    return 20 * ((len(colours) + 2) // 3)


def stacked_bars(bars: Sequence[Tuple[str, Sequence[Tuple[str, JsonNumber]]]], caption: str) -> Html:
    """One horizontal bar per (label, parts), each part's length its share of the bar's total
    (all bars the same length: 100%), parts coloured alike across bars, a legend below."""
    colours = _colours(name for _, parts in bars for name, value in parts if Fraction(value))
    body = []
    for index, (label, parts) in enumerate(bars):
        y = 8 + index * ROW_HEIGHT
        whole = sum((Fraction(value) for _, value in parts), Fraction(0)) or Fraction(1)
        body.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        x = Fraction(0)
        for name, value in parts:
            if not Fraction(value):
                continue
            width = Fraction(value) / whole * STACK_WIDTH
            body.append(
                f'<rect x="{float(LABEL_WIDTH + x):.2f}" y="{y + 3}" width="{float(width):.2f}" height="{ROW_HEIGHT - 6}" '
                f'fill="{colours[name]}"><title>{escape(label)}, {escape(name)}: {_share(value, whole)}</title></rect>'
            )
            x += width
        body.append("\n")
    top = 16 + len(bars) * ROW_HEIGHT
    body += _legend(colours, top)
    return _figure(_svg(top + _legend_height(colours), caption, body), caption)


def line_chart(x_labels: Sequence[str], series: Sequence[Tuple[str, Sequence[Fraction]]], caption: str) -> Html:
    """Shares (0 to 1) against evenly spaced points: one line per series, the y axis 0–100%."""
    left, top, plot_width, plot_height = 60, 12, CHART_WIDTH - 90, 240
    colours = _colours(name for name, _ in series)
    step = plot_width / max(len(x_labels) - 1, 1)

    def y_of(value: Fraction) -> float:
        return top + plot_height * (1 - float(value))

    body = []
    for tick in range(0, 101, 25):
        y = y_of(Fraction(tick, 100))
        body.append(f'<line x1="{left}" y1="{y:.2f}" x2="{left + plot_width}" y2="{y:.2f}" stroke="#ddd"/>'
                    f'<text x="{left - 6}" y="{y + 4:.2f}" text-anchor="end">{tick}%</text>\n')
    # as many x labels as fit side by side (about 7 px a character), the first and last always
    label_width = 7 * max((len(label) for label in x_labels), default=0) + 16
    every = max(1, -(-label_width * len(x_labels) // plot_width))
    last = len(x_labels) - 1
    for index, label in enumerate(x_labels):
        if index == last or (index % every == 0 and last - index >= every):
            anchor = "start" if index == 0 else "end" if index == last else "middle"
            body.append(f'<text x="{left + index * step:.2f}" y="{top + plot_height + 18}" '
                        f'text-anchor="{anchor}">{escape(label)}</text>\n')
    for name, values in series:
        points = " ".join(f"{left + index * step:.2f},{y_of(value):.2f}" for index, value in enumerate(values))
        body.append(f'<polyline points="{points}" fill="none" stroke="{colours[name]}" stroke-width="2.5"/>')
        body += [f'<circle cx="{left + index * step:.2f}" cy="{y_of(value):.2f}" r="3.5" fill="{colours[name]}">'
                 f'<title>{escape(name)} at {escape(x_labels[index])}: {percent(value)}</title></circle>'
                 for index, value in enumerate(values)]
        body.append("\n")
    legend_top = top + plot_height + 34
    body += _legend(colours, legend_top)
    return _figure(_svg(legend_top + _legend_height(colours), caption, body), caption)


# -- run --------------------------------------------------------------------------


def _times(row: Dict) -> str:
    """A row's multiplicity: `×48` for one per layer, `×45 (L − k_d)` for another formula."""
    formula = row.get("multiplicity_formula") or ""
    if not row["per_layer"] or len(formula) <= 2:
        return _join("×", number(row["multiplicity"]))
    return _join("×", number(row["multiplicity"]), f" ({formula})")


def run_html(data: Dict) -> str:
    """The page of `acct run`, from acct.render.to_data(report) (schema acct.report/1)."""
    preset, totals = data["preset"], data["totals"]
    lead: List[object] = [preset.get("description") or ""]
    if preset.get("source"):
        lead += [Html("<br>"), "Source: ", preset["source"]]
    sections = [_run_groups_section(data), _run_configuration_section(data), _run_params_section(data),
                _run_flops_section(data)]
    if "flops_other" in totals:
        sections.append(_run_non_matmul_section(data))
    sections.append(_run_conventions_section(data))
    return _document(preset["name"], lead, sections)


def _run_groups_section(data: Dict) -> Html:
    """Where the FLOPs go: the totals, a chart of the groups' shares, the groups' table."""
    totals = data["totals"]
    groups = sorted(data["groups"], key=lambda group: -group["flops_forward"])
    summary = [
        number(totals["params"]), f" parameters ({human(totals['params'])}); ",
        number(totals["flops_forward"]), f" forward FLOPs ({human(totals['flops_forward'], 'FLOPs')}) per sequence.",
    ]
    if totals["params_active"] != totals["params"]:
        summary += [" Active per token: ", number(totals["params_active"]),
                    f" parameters ({_share(totals['params_active'], totals['params'])} of the total)."]
    chart = bar_chart([(g["name"], g["flops_forward"], _share(g["flops_forward"], totals["flops_forward"]))
                       for g in groups if g["flops_forward"]], "Share of forward FLOPs by group")
    return _section("Where the FLOPs go", _paragraph(*summary), chart, table(
        ["group", "forward FLOPs", "share", "params", "share"],
        ([g["name"], number(g["flops_forward"]), _share(g["flops_forward"], totals["flops_forward"]),
          number(g["params"]), _share(g["params"], totals["params"])] for g in groups), "lrrrr"))


def _run_configuration_section(data: Dict) -> Html:
    """The inputs and the chosen variants."""
    inputs = [[name, line["symbol"] or "", number(line["value"]), f"= {line['derived']}" if line["derived"] else "",
               line["description"]] for name, line in data["inputs"].items()]
    variants = ", ".join(f"{slot} = {variant}" for slot, variant in data["variants"].items())
    return _section("Configuration", table(["input", "symbol", "value", "derived", "meaning"], inputs, "llrll"),
                    _paragraph(f"Variants: {variants}."))


def _run_params_section(data: Dict) -> Html:
    """The parameters by component, per block, and the weights' memory by dtype."""
    totals, rows = data["totals"], data["rows"]
    return _section(
        "Parameters",
        table(["component", "formula", "each", "×", "total", "share"],
              ([row["name"], row["params_display"], number(row["params_each"]), _times(row), number(row["params"]),
                _share(row["params"], totals["params"])] for row in rows if row["params_formula"] != "0"),
              "llrrrr", total=["total", "", "", "", number(totals["params"]), "100.0%"]),
        _paragraph("One block holds " if totals.get("uniform_layers", True) else "A block holds on average ",
                   number(totals["params_per_layer"]),
                   " parameters. 'each' is one instance: per layer for repeated rows, the whole count for ×1 rows."),
        table(["dtype", "bytes/param", "bytes", "GiB (1024³ B)", "GB (10⁹ B)"],
              ([m["dtype"], number(m["bytes_per_param"]), number(m["bytes"]), *_sizes(m["bytes"])] for m in data["memory"]),
              "lrrrr", caption="Memory of the weights"),
    )


def _run_flops_section(data: Dict) -> Html:
    """The forward FLOPs of one sequence by component."""
    totals, rows = data["totals"], data["rows"]
    return _section(
        "Forward FLOPs (one sequence)",
        table(["component", "shape", "formula", "each", "×", "total", "share"],
              ([row["name"], row["shape"] or "", row["flops_display"], number(row["flops_forward_each"]), _times(row),
                number(row["flops_forward"]), _share(row["flops_forward"], totals["flops_forward"])]
               for row in rows if row["flops_formula"] != "0"),
              "lllrrrr", total=["total", "", "", "", "", number(totals["flops_forward"]), "100.0%"]),
        _paragraph("One block takes ", number(totals["flops_forward_per_layer"]), " FLOPs."),
    )


def _run_non_matmul_section(data: Dict) -> Html:
    """The opt-in non-matmul FLOPs by component (--non-matmul)."""
    totals, rows = data["totals"], data["rows"]
    return _section(
        "Non-matmul FLOPs (opt-in)",
        table(["component", "formula", "FLOPs (all layers)", "share"],
              ([row["name"], row["flops_other_formula"], number(row["flops_other"]),
                _share(row["flops_other"], totals["flops_other"])] for row in rows if row.get("flops_other")),
              "llrr", total=["total", "", number(totals["flops_other"]), "100.0%"]),
    )


def _run_conventions_section(data: Dict) -> Html:
    """Every convention's totals, the notes and the conventions."""
    return _section(
        "FLOP-counting conventions",
        table(["convention", "forward FLOPs", "training FLOPs"],
              ([name, number(c["forward"]), number(c["training"])] for name, c in data["conventions_totals"].items()),
              "lrr", caption="For batch_size sequences"),
        *(_paragraph("Note — ", note) for note in data["notes"]),
        _paragraph("Conventions: ", data["conventions"]),
    )


# -- compare and sweep ----------------------------------------------------------


def _keys(mappings: Iterable[Dict]) -> List[str]:
    """Every key of the mappings, in order of first appearance."""
    keys: Dict[str, None] = {}
    for mapping in mappings:
        keys.update(dict.fromkeys(mapping))
    return list(keys)


def _with_share(part: Optional[JsonNumber], whole: JsonNumber) -> Html:
    """An exact count, then its share of `whole` in grey."""
    return _join(number(part), Html("<br><small>"), _share(part or 0, whole), Html("</small>"))


def _by_group(columns: Sequence[Dict], groups: Sequence[str], key: str, caption: str) -> Html:
    """One row per model or point, one column per group: the exact count and its share of the row's total."""
    total_key = key if key == "params" else "flops_forward"
    rows = [[column["label"], number(column[total_key])]
            + [_with_share(column["groups"][g][key], column[total_key]) for g in groups]
            for column in columns]
    return table(["", "total", *groups], rows, "l" + "r" * (len(groups) + 1), caption=caption)


def scaling_html(data: Dict) -> str:
    """The page of `acct compare` (acct.compare/1) or `acct sweep` (acct.sweep/1), from
    acct.render.scaling.scaling_data(scaling)."""
    columns = data.get("models") or data.get("points") or []
    groups = _keys(c["groups"] for c in columns)
    shown = [g for g in groups if any(c["groups"][g]["flops_forward"] for c in columns)]
    labels = [column["label"] for column in columns]
    sections = []
    if "models" in data:
        title = f"Comparing {', '.join(labels)}"
        chart = stacked_bars([(c["label"], [(g, c["groups"][g]["flops_forward"]) for g in shown]) for c in columns],
                             "Share of forward FLOPs by group, per model")
        totals = table(["model", "params", "forward FLOPs", "Transformer blocks", "share"],
                       ([c["label"], number(c["params"]), number(c["flops_forward"]), number(c["blocks_flops_forward"]),
                         _share(c["blocks_flops_forward"], c["flops_forward"])] for c in columns), "lrrrr")
    else:
        title = f"Sweep over {', '.join(data['varied'])}"
        first = columns[0]
        outputs = _keys(c.get("outputs", {}) for c in columns)
        # x labels: the varied inputs' values alone (`1,024 · 12`), named once in the caption
        chart = line_chart([" · ".join(plain(c["inputs"][name]) for name in data["varied"]) for c in columns],
                           [(g, [_ratio(c["groups"][g]["flops_forward"], c["flops_forward"]) for c in columns])
                            for g in shown],
                           f"Share of forward FLOPs by group, against {' · '.join(data['varied'])}")
        totals = table(
            [*data["varied"], "params", "forward FLOPs", "× params", "× FLOPs", "Transformer blocks", "share", *outputs],
            ([*(number(c["inputs"][name]) for name in data["varied"]), number(c["params"]), number(c["flops_forward"]),
              "×" + fixed(Fraction(c["params"], first["params"] or 1), 2),
              "×" + fixed(Fraction(c["flops_forward"], first["flops_forward"] or 1), 2),
              number(c["blocks_flops_forward"]), _share(c["blocks_flops_forward"], c["flops_forward"]),
              *(number(c.get("outputs", {}).get(name)) for name in outputs)] for c in columns),
            "r" * (len(data["varied"]) + 6 + len(outputs)))
    parts: List[object] = [chart, totals]
    if data.get("summary"):
        parts.insert(0, _paragraph(data["summary"]))
    if "points" in data:
        parts.append(_paragraph("× is each total over the first point's."))
    sections.append(_section("Totals and shares", *parts))
    sections.append(_section(
        "By group",
        _by_group(columns, groups, "flops_forward", "Forward FLOPs by group (share of the forward FLOPs)"),
        _by_group(columns, groups, "params", "Parameters by group (share of the parameters)"),
    ))
    components = _keys(c.get("components_flops_forward", {}) for c in columns)
    if components:
        sections.append(_section("Forward FLOPs by component", table(
            ["component", *labels],
            ([name, *(_with_share(c.get("components_flops_forward", {}).get(name), c["flops_forward"]) for c in columns)]
             for name in components),
            "l" + "r" * len(columns))))
    return _document(title, [], sections)


# -- train and infer --------------------------------------------------------------

MEMORY_PARTS = {"weights": "weights", "master": "fp32 master weights", "gradients": "gradients",
                "optimizer": "optimizer state (AdamW m, v)", "activations": "activations"}


def training_html(data: Dict) -> str:
    """The page of `acct train`, from acct.render.training.training_data(report) (schema acct.train/1)."""
    flops, rows = data["flops"], data["rows"]
    expression = data.get("memory_expression")
    sections = [_training_memory_section(data)]

    model_flops, activations = flops["forward_backward"], expression and expression["per_sequence"]
    sections.append(_section(
        "Per component",
        table(["component", "group", "forward FLOPs (× B)", "backward FLOPs (× B)", "share",
               "activations", "bytes per sequence", "share"],
              ([row["name"], row["group"], number(row["flops_forward"]), number(row["flops_backward"]),
                _share(row["flops_forward"] + row["flops_backward"], model_flops),
                row["activations_display"] or "", number(row["activations_bytes"]),
                _share(row["activations_bytes"], activations) if expression else ""] for row in rows),
              "llrrrlrr", total=["total", "", number(flops["forward"]), number(flops["backward"]), "100.0%", "",
                                 number(expression["per_sequence"]) if expression else "", "100.0%" if expression else ""]),
        _paragraph(f"Activations are those kept for the backward pass ({data['activations_convention']})."),
    ))
    sections.append(_section(
        "FLOPs of one step",
        table(["", "FLOPs"], [
            ["forward", number(flops["forward"])], ["backward (2 × forward)", number(flops["backward"])],
            ["forward + backward", number(model_flops)], ["optimizer (AdamW)", number(flops["optimizer"])],
            ["one step", number(flops["step"])], ["per token", number(flops["per_token"])],
        ], "lr"),
    ))

    if "time" in data:
        time = data["time"]
        sections.append(_section("Time", table(["", "value"], [
            ["hardware", time["hardware"]], ["dtype", time["dtype"]],
            ["peak FLOP/s", number(time["peak_flops_per_s"])], ["MFU", number(time["mfu"], 4)],
            ["GPUs", number(time["gpus"])], ["steps", number(time["steps"])],
            ["seconds (forward + backward)", number(time["seconds"])],
            ["seconds with the optimizer", number(time["seconds_with_optimizer"])],
        ], "lr")))

    if "per_gpu" in data:
        sections.append(_per_gpu_section(data["per_gpu"]))

    chinchilla = data["chinchilla"]
    sections.append(_section(
        "Against Chinchilla's 6·N·D",
        table(["", "value"], [
            ["tokens D", number(chinchilla["tokens"])], ["6·N·D FLOPs", number(chinchilla["six_n_d"])],
            ["acct's exact count (forward + backward)", number(chinchilla["exact_forward_backward"])],
            ["compute-optimal tokens (20 per parameter)", number(chinchilla["optimal_tokens"])],
        ], "lr"),
        _paragraph("Conventions:"), _list(data["conventions"]),
    ))
    return _document(f"{data['preset']}: one training step", _training_lead(data), sections)


def _training_lead(data: Dict) -> List[object]:
    """The batch, the precision, the activation convention, the steps and the parameters."""
    lead = ["B = ", number(data["batch_size"]), " sequences of T = ", number(data["context_length"]),
            f" tokens; precision {data['precision']}; activations counted as {data['activations_convention']}; ",
            number(data["steps"]), " steps. Parameters: ", number(data["params"]["total"]), " (",
            number(data["params"]["active"]), " used by a token)"]
    if "trainable" in data["params"]:
        lead += [", ", number(data["params"]["trainable"]), " trainable"]
    if "lora" in data["params"]:
        lead += [" (", number(data["params"]["lora"]), " LoRA adapters)"]
    lead.append(".")
    return lead


def _training_memory_section(data: Dict) -> Html:
    """The memory of one step by part: a chart, the table, the peak as a·B + b."""
    memory = data["memory_bytes"]
    parts = [(key, size) for key, size in memory.items() if key != "peak"]
    whole = sum(size for _, size in parts)  # the peak, when activations are counted
    memory_parts: List[object] = [
        bar_chart([(MEMORY_PARTS.get(key, key), size, f"{_sizes(size)[0]} GiB ({_share(size, whole)})")
                   for key, size in parts if size], "Memory of one step, by part (GiB = 1024³ bytes)"),
        table(["", "bytes", "GiB (1024³ B)", "GB (10⁹ B)"],
              ([MEMORY_PARTS.get(key, key), number(size), *_sizes(size)] for key, size in parts), "lrrr",
              total=["peak (the sum)", number(memory["peak"]), *_sizes(memory["peak"])] if "peak" in memory else None),
    ]
    expression = data.get("memory_expression")
    if expression:
        memory_parts.append(_paragraph(
            "Peak memory = ", number(expression["per_sequence"]), "·B + ", number(expression["fixed"]),
            " bytes: activations per sequence times the batch, plus weights, master weights, gradients and "
            "optimizer state."))
    return _section("Memory", *memory_parts)


def _per_gpu_section(scale: Dict) -> Html:
    """Training at scale: the most loaded GPU's memory after sharding, and each collective."""
    layout: List[object] = []
    for key, value in scale["layout"].items():
        layout += [", " if layout else "", f"{key} = ", number(value)]
    memory = scale["memory_bytes"]
    rows = []
    for key, stages in memory.items():
        rows.append([key, number(stages["first_stage"]), _sizes(stages["first_stage"])[1],
                     number(stages["last_stage"]), _sizes(stages["last_stage"])[1]])
    parts: List[object] = [
        _paragraph("Layout: ", *layout, f"; recomputation {scale['recompute']}; ", number(scale["micro_batches"]),
                   " micro-batches per step, ", number(scale["in_flight"]), " in flight on the first stage; "
                   "parameters on the most loaded GPU before ZeRO: ", number(scale["params"]),
                   "; peak ", number(scale["peak_bytes"]), " bytes."),
        table(["", "first stage, bytes", "GB", "last stage, bytes", "GB"], rows, "lrrrr"),
    ]
    if scale.get("time_seconds"):
        parts.append(table(["time per step", "value"],
                           ([key, _seconds(value)] for key, value in scale["time_seconds"].items()), "lr"))
    if scale.get("communication"):
        parts.append(table(["collective", "formula", "bytes per step", "link", "seconds"], (
            [c["label"], c["formula"], number(c["bytes"]), c.get("link") or "",
             _seconds(c["seconds"]) if c.get("seconds") is not None else number(None)]
            for c in scale["communication"]), "llrlr"))
    return _section("Per GPU (the most loaded)", *parts)


def inference_html(data: Dict) -> str:
    """The page of `acct infer`, from acct.render.training.inference_data(report) (schema acct.infer/1)."""
    kv, flops, rows = data["kv_cache"], data["flops"], data["rows"]
    lead = ["B = ", number(data["batch_size"]), " sequences of T = ", number(data["context_length"]),
            " tokens; decode at position t = ", number(data["decode_position"]), "."]
    if "generate" in data:
        lead[-1:] = ["; G = ", number(data["generate"]), " tokens generated per sequence."]
    decoding = [row for row in rows if row["flops_decode"]]
    sections = [
        _section("KV cache", table(["", "bytes"], [
            ["per value", number(kv["bytes_per_value"])], ["per token", number(kv["bytes_per_token"])],
            ["per sequence", number(kv["bytes_per_sequence"])], ["for the batch", number(kv["bytes"])],
        ], "lr")),
        _section(
            "FLOPs",
            table(["", "FLOPs"], [["prefill (the forward pass of B prompts)", number(flops["prefill"])],
                                  ["decode (one new token per sequence)", number(flops["decode_per_token"])]], "lr"),
            bar_chart([(row["name"], row["flops_decode"], _share(row["flops_decode"], flops["decode_per_token"]))
                       for row in decoding], "Decode FLOPs by component"),
            table(["component", "decode FLOPs (all layers, × B)", "share", "KV cache elements per sequence"],
                  ([row["name"], number(row["flops_decode"]), _share(row["flops_decode"], flops["decode_per_token"]),
                    number(row["kv_cache_elements_per_sequence"])] for row in rows), "lrrr"),
        ),
    ]
    if "memory" in data:
        memory = data["memory"]
        sections.append(_section(
            "What fits",
            _paragraph(f"Weights {memory['weights_scheme']} (", number(memory["bits_per_weight"], 3),
                       f" bits per weight); quantized rows: {', '.join(memory['quantized_rows'])}."),
            table(["", "bytes", "GiB (1024³ B)", "GB (10⁹ B)"], (
                [label, number(memory[key]), *_sizes(memory[key])]
                for key, label in (("weights", "weights"), ("kv_cache", "KV cache after P + G tokens"),
                                   ("workspace", "activation workspace"), ("total", "total"),
                                   ("per_device", f"per device (of {memory['gpus']:,})"))), "lrrr"),
        ))
    if "roofline" in data:
        sections.append(_roofline_section(data["roofline"]))
    return _document(f"{data['preset']}: inference", lead, sections)


PHASES = {"prefill": "prefill (P tokens)", "decode_first": "decode, first step (t = P + 1)",
          "decode_last": "decode, last step (t = P + G)", "decode": "decode, all G steps"}


def _seconds(value: Optional[JsonNumber]) -> Html:
    """A duration in s, ms or µs, its exact value kept in `<data value>`."""
    if value is None:
        return number(None)
    exact = Fraction(value)
    shown = (f"{fixed(exact, 2)} s" if exact >= 1 else f"{fixed(exact * 1000, 2)} ms" if exact >= Fraction(1, 1000)
             else f"{fixed(exact * 10**6, 2)} µs")
    return Html(f'<data value="{escape(str(value))}">{escape(shown)}</data>')


def _section_table(caption: str, phase: str, rows: Sequence[Dict]) -> Html:
    return _join(_paragraph(caption), table(
        ["component", "FLOPs", "bytes moved", "of which KV cache", "FLOPs/byte", "bound", "time"],
        ([row["name"], number(row[phase]["flops"]), number(row[phase]["bytes"]), number(row[phase]["kv_cache_bytes"]),
          number(row[phase]["intensity"], 1), row[phase]["bound"] or "", _seconds(row[phase]["seconds"])]
         for row in rows), "lrrrrlr"))


def _roofline_section(roofline: Dict) -> Html:
    """The roofline of `acct infer --hardware`: the headline figures, each phase and each component."""
    seconds, rates = roofline["seconds"], roofline["tokens_per_s"]
    headline = [
        ["time to first token", _seconds(seconds["time_to_first_token"])],
        ["time per output token", _seconds(seconds["time_per_output_token"])],
        ["end-to-end latency", _seconds(seconds["latency"])],
        ["tokens/s per sequence", number(rates["per_sequence"], 1)],
        ["tokens/s, all sequences", number(rates["all"], 1)],
        ["reading every weight once", _seconds(seconds["weight_floor"])],
    ]
    if roofline.get("usd_per_million_tokens") is not None:
        headline.append(["$ per million output tokens", number(roofline["usd_per_million_tokens"], 4)])
    if roofline.get("memory_free") is not None:
        headline.append(["memory left free on a device (bytes)", number(roofline["memory_free"])])
    phases = roofline["phases"]
    return _section(
        f"Roofline on {roofline['hardware']} ({roofline['dtype']})",
        _paragraph("Peak ", number(roofline["peak_flops_per_s"]), " FLOP/s × MFU ", number(roofline["mfu"], 4),
                   "; memory bandwidth ", number(roofline["memory_bandwidth"]), " B/s × efficiency ",
                   number(roofline["bandwidth_efficiency"], 4), "; ridge point ", number(roofline["ridge"], 1),
                   " FLOPs per byte."),
        table(["", "value"], headline, "lr"),
        table(["phase", "FLOPs", "bytes moved", "of which KV cache", "FLOPs/byte", "bound", "time"], (
            [PHASES.get(key, key), number(phase["flops"]), number(phase["bytes"]), number(phase["kv_cache_bytes"]),
             number(phase["intensity"], 1), phase["bound"] or "", _seconds(phase["seconds"])]
            for key, phase in phases.items()), "lrrrrlr"),
        *(_section_table(f"By component: {PHASES.get(key, key)}", key, roofline["rows"]) for key in phases),
    )


PAGES = {
    "acct.report/1": run_html, "acct.compare/1": scaling_html, "acct.sweep/1": scaling_html,
    "acct.train/1": training_html, "acct.infer/1": inference_html,
}


def page(data: Dict) -> str:
    """The page of any report kind with an HTML format, chosen by the data's "schema"."""
    return PAGES[data["schema"]](data)
