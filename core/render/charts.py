"""Charts of group shares for compare and sweep: a Mermaid block for markdown, or an SVG/PNG via matplotlib."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List

from acct.errors import AcctError
from acct.render import escape
from acct.engine.numbers import fixed
from acct.reports.scaling import Scaling

MAX_PIES = 8  # Mermaid pies, one per point
MAX_BARS = 40  # bars of a plot: more would be unreadable, and each costs matplotlib memory


def _chart_columns(scaling: Scaling, most: int = MAX_PIES) -> List[int]:
    """Indices of the columns to draw: all, or `most` spread evenly from the first to the last."""
    count = len(scaling)
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def mermaid(scaling: Scaling) -> str:
    """```mermaid blocks, one pie per model or sweep point (a block holds one diagram),
    each of its groups' shares of forward FLOPs in percent."""
    chosen = _chart_columns(scaling)
    lines = []
    if len(chosen) < len(scaling):
        lines += [f"{len(chosen)} of the {len(scaling):,} points, evenly spaced:", ""]
    for i in chosen:
        column = scaling.column(i)
        lines += ["```mermaid", "pie showData", f"    title {escape.mermaid(column.label)} — share of forward FLOPs (%)"]
        for group in scaling.groups:
            value = column.flops_share(group) * 100
            if value:
                lines.append(f'    "{escape.mermaid(group)}" : {fixed(value, 2)}')
        lines += ["```", ""]
    return "\n".join(lines)


def check_plot_path(path: Path, force: bool) -> str:
    """The image format of --plot FILE, or an error: the suffix is .svg or .png; an existing
    path is replaced only with --force, and a symbolic link never (it would write elsewhere)."""
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise AcctError(f"--plot {path}: the file must end in .svg or .png")
    if path.is_symlink():
        raise AcctError(f"--plot {path}: is a symbolic link; acct writes a chart only to a plain file")
    if path.exists():
        if not force:
            raise AcctError(f"--plot {path}: already exists; add --force to replace it")
        if not path.is_file():
            raise AcctError(f"--plot {path}: exists and is not a file")
    return suffix[1:]


def _open_new(path: Path, force: bool) -> int:
    """A descriptor for writing `path`, never through a symbolic link: O_NOFOLLOW, and O_EXCL
    unless --force (then an existing plain file is truncated)."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_TRUNC if force else os.O_EXCL
    try:
        return os.open(path, flags, 0o644)
    except FileExistsError:
        raise AcctError(f"--plot {path}: already exists; add --force to replace it") from None
    except OSError as error:
        raise AcctError(f"--plot {path}: cannot write: {error.strerror or error}") from None


def plot(scaling: Scaling, path: Path, force: bool = False) -> None:
    """A 100%-stacked bar chart of the groups' shares of forward FLOPs, written as SVG or PNG:
    at most MAX_BARS bars, spread evenly over the points."""
    image_format = check_plot_path(path, force)
    try:
        import matplotlib
    except ImportError:
        raise AcctError("--plot needs matplotlib: pip install 'acct-lm[plot]'") from None
    matplotlib.use("Agg")  # no display needed
    from matplotlib import pyplot

    chosen = _chart_columns(scaling, MAX_BARS)
    columns = [scaling.column(i) for i in chosen]
    labels = [escape.plot_label(column.label) for column in columns]
    figure, axes = pyplot.subplots(figsize=(max(6.0, 1.1 * len(labels) + 3), 4.5))
    bottoms = [0.0] * len(labels)
    for group in scaling.groups:
        shares = [float(column.flops_share(group) * 100) for column in columns]  # drawing only
        if any(shares):
            axes.bar(labels, shares, bottom=bottoms, label=escape.plot_label(group))
            bottoms = [b + s for b, s in zip(bottoms, shares)]
    axes.set_ylabel("share of forward FLOPs (%)")
    axes.set_ylim(0, 100)
    title = "Where the forward FLOPs go"
    if len(chosen) < len(scaling):
        title += f" ({len(chosen)} of {len(scaling):,} points, evenly spaced)"
    axes.set_title(title)
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    if len(labels) > 4:
        pyplot.setp(axes.get_xticklabels(), rotation=30, ha="right")
    figure.tight_layout()
    descriptor = _open_new(path, force)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            figure.savefig(handle, format=image_format)
    except OSError as error:
        path.unlink(missing_ok=True)
        raise AcctError(f"--plot {path}: cannot write: {error.strerror or error}") from None
    except BaseException:
        path.unlink(missing_ok=True)  # no half-written chart, whatever stopped it
        raise
    finally:
        pyplot.close(figure)
