"""Charts of group shares for compare and sweep: a Mermaid block for markdown, or an SVG/PNG via matplotlib."""

from __future__ import annotations

from pathlib import Path
from typing import List

from .errors import AcctError
from .numbers import fixed
from .scaling import Scaling

MAX_PIES = 8


def _chart_columns(scaling: Scaling) -> List[int]:
    """Indices of the columns to draw: all, or MAX_PIES spread evenly from the first to the last."""
    count = len(scaling.columns)
    if count <= MAX_PIES:
        return list(range(count))
    return sorted({round(i * (count - 1) / (MAX_PIES - 1)) for i in range(MAX_PIES)})


def mermaid(scaling: Scaling) -> str:
    """```mermaid blocks, one pie per model or sweep point (a block holds one diagram),
    each of its groups' shares of forward FLOPs in percent."""
    chosen = _chart_columns(scaling)
    lines = []
    if len(chosen) < len(scaling.columns):
        lines += [f"{len(chosen)} of the {len(scaling.columns)} points, evenly spaced:", ""]
    for i in chosen:
        column = scaling.columns[i]
        lines += ["```mermaid", "pie showData", f"    title {column.label} — share of forward FLOPs (%)"]
        for group in scaling.groups:
            value = column.flops_share(group) * 100
            if value:
                lines.append(f'    "{group}" : {fixed(value, 2)}')
        lines += ["```", ""]
    return "\n".join(lines)


def plot(scaling: Scaling, path: Path) -> None:
    """A 100%-stacked bar chart of the groups' shares of forward FLOPs, written as SVG or PNG."""
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise AcctError(f"--plot {path}: the file must end in .svg or .png")
    try:
        import matplotlib
    except ImportError:
        raise AcctError("--plot needs matplotlib: pip install 'acct-lm[plot]'") from None
    matplotlib.use("Agg")  # no display needed
    from matplotlib import pyplot

    labels = [column.label for column in scaling.columns]
    figure, axes = pyplot.subplots(figsize=(max(6.0, 1.1 * len(labels) + 3), 4.5))
    bottoms = [0.0] * len(labels)
    for group in scaling.groups:
        shares = [float(column.flops_share(group) * 100) for column in scaling.columns]  # drawing only
        if any(shares):
            axes.bar(labels, shares, bottom=bottoms, label=group)
            bottoms = [b + s for b, s in zip(bottoms, shares)]
    axes.set_ylabel("share of forward FLOPs (%)")
    axes.set_ylim(0, 100)
    axes.set_title("Where the forward FLOPs go")
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    if len(labels) > 4:
        pyplot.setp(axes.get_xticklabels(), rotation=30, ha="right")
    figure.tight_layout()
    try:
        figure.savefig(path, format=suffix[1:])
    except OSError as error:
        raise AcctError(f"--plot {path}: cannot write: {error.strerror or error}") from None
    finally:
        pyplot.close(figure)
