"""What every renderer shares: tables through tabulate, exact JSON numbers, CSV text."""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from typing import Iterable, List, Sequence

from acct.engine.formula import Number
from acct.errors import AcctError
from acct.render import escape
from acct.render.escape import MARKDOWN_TABLEFMTS  # formats that read markdown's **bold**

DEFAULT_TABLEFMT = "github"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], align: str, tablefmt: str = DEFAULT_TABLEFMT) -> str:
    """`rows` of already formatted cells as a tabulate table: `align` gives "l" or "r" per column;
    numbers are never re-parsed (they are exact text already). Every cell and header passes
    through the format's escaping (render/escape.py): a name from a preset adds no column or row.
    tabulate is imported here, when a table is drawn, and only then."""
    from tabulate import tabulate, tabulate_formats

    if not isinstance(tablefmt, str):
        raise AcctError(f"--tablefmt: a tabulate format's name, got {tablefmt!r}")
    if tablefmt not in tabulate_formats:
        from acct.errors import suggest

        raise AcctError(f"--tablefmt: unknown table format {tablefmt!r}{suggest(tablefmt, tabulate_formats)}; "
                        f"known: {', '.join(tabulate_formats)}")
    escape.check_tablefmt(tablefmt)
    rows = [list(row) for row in rows]
    if tablefmt not in MARKDOWN_TABLEFMTS:
        rows = [[_plain(cell) for cell in row] for row in rows]
    # acct's own bold markers are kept as they are; everything else in a cell is text
    rows = [[_bold(escape.table_cell, cell, tablefmt) for cell in row] for row in rows]
    headers = [escape.table_cell(header, tablefmt) for header in headers]
    colalign = ["right" if side == "r" else "left" for side in align]
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True, colalign=colalign)


def _bold(cell_escape, cell: str, tablefmt: str) -> str:
    if tablefmt in MARKDOWN_TABLEFMTS and _is_bold(cell):
        return f"**{cell_escape(cell[2:-2], tablefmt)}**"
    return cell_escape(cell, tablefmt)


def _is_bold(cell: str) -> bool:
    return cell.startswith("**") and cell.endswith("**") and len(cell) > 4


def _plain(cell: str) -> str:
    return cell[2:-2] if _is_bold(cell) else cell


def number(value: Number):
    """JSON keeps integers exact; a non-integral value becomes the string 'p/q'."""
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    return value


def dumps(data) -> str:
    import json  # only the JSON formats need it

    return escape.json(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([escape.csv(cell) for cell in header])
    writer.writerows([escape.csv(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def long_records(records: Iterable[Sequence]) -> List[list]:
    """Long format for a nested record: section, name, quantity, value (fractions as 'p/q')."""
    return [[section, name, quantity, number(value) if isinstance(value, Fraction) else value]
            for section, name, quantity, value in records]


LONG_HEADER = ("section", "name", "quantity", "value")
