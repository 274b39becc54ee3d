"""Records to text, by one protocol: each report kind gives its data (the record `--format json`
prints) and its markdown (tables in any tabulate format); JSON, CSV and HTML derive from the data.

A `Kind` names the three functions; `render(kind, report, format)` is the one way any report
becomes text, for the command line and for the Python API alike.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from acct.records import record

FORMATS = ("markdown", "json", "csv", "html")

# where each kind is defined: imported when asked for, so `acct run` loads no training renderer
KINDS = {
    "run": "acct.render.markdown:RUN",
    "conventions": "acct.render.markdown:CONVENTIONS",
    "compare": "acct.render.scaling:COMPARE",
    "sweep": "acct.render.scaling:SWEEP",
    "train": "acct.render.training:TRAIN",
    "infer": "acct.render.inference:INFER",
    "solve": "acct.render.training:SOLVE",
    "plan": "acct.render.plan:PLAN",
}
HTML_KINDS = ("run", "compare", "sweep", "train", "infer")  # the kinds render.html draws a page for


@record
class Kind:
    """A report kind: `data(report)` is its record (exact numbers; fractions as 'p/q'),
    `markdown(report, tablefmt, **options)` its text, and `records(data)` the data's main table
    as (header, rows), which CSV is. `rows(data)` is the API's `.rows` (and DataFrame): by default
    the records as dicts. A kind whose data can be too large to hold (a sweep of millions of
    points) also gives `stream(report, format)`, the JSON or CSV text a piece at a time."""

    name: str
    data: Callable[[Any], Dict]
    markdown: Callable[..., str]
    records: Callable[[Dict], Tuple[Sequence[str], Iterable[Sequence]]]
    stream: Optional[Callable[[Any, str], Iterator[str]]] = None
    rows: Optional[Callable[[Dict], List[Dict]]] = None


def kind(name: str) -> Kind:
    module, _, attribute = KINDS[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def render(name: str, report: Any, format: str = "markdown", tablefmt: str = "github",
           **options: Any) -> Union[str, Iterator[str]]:
    """The report as text in `format`; a streamed kind gives JSON and CSV as an iterator of pieces.

    Each renderer escapes the text it takes from data (render/escape.py); the whole output then
    passes the terminal's step once more, so that no control character a renderer missed reaches
    the screen."""
    from acct.render import escape
    from acct.render.formats import csv_text, dumps

    spec = kind(name)
    if format == "markdown":
        return _terminal(spec.markdown(report, tablefmt=tablefmt, **options))
    if format in ("json", "csv") and spec.stream is not None:
        pieces = spec.stream(report, format)
        return map(escape.json, pieces) if format == "json" else map(_terminal, pieces)
    data = spec.data(report)
    if format == "json":
        return dumps(data)
    if format == "csv":
        return _terminal(csv_text(*spec.records(data)))
    if format == "html":
        if name not in HTML_KINDS:
            from acct.errors import AcctError

            raise AcctError(f"--format html: a page is drawn for {', '.join(HTML_KINDS)}, not {name}")
        from acct.render.html import page

        return _terminal(page(data))
    raise ValueError(f"unknown format {format!r}")


def _terminal(text: str) -> str:
    """The output's own newlines and tabs kept, any other control character made visible."""
    from acct.render.escape import terminal

    return terminal(text, lines=True)


def rows_of(name: str, data: Dict) -> List[Dict]:
    """The data's main table as a list of dicts, one per row (the API's `.rows`)."""
    spec = kind(name)
    if spec.rows is not None:
        return spec.rows(data)
    header, rows = spec.records(data)
    return [dict(zip(header, row)) for row in rows]
