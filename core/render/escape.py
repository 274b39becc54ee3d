"""Text from data made safe for each output: one function per format, and the table formats' policy.

A preset's name and description, a hardware file's name, description and source, a config.json's
file name, a plugin's component names and notes: all are data, written by someone who may not be
the reader. Every renderer passes such text through the function of its output format here, so
that it can add no column, line, heading, tag, macro or terminal escape sequence, whatever it holds:

- `terminal`: control characters (C0, DEL, C1), bidirectional overrides and line separators
  become visible escapes (`\\x1b`, `\\n`, `\\u202e`): a terminal shows them, never obeys them.
- `markdown`: terminal, then `\\ | ` [ ]` are backslash-escaped, a `<` that could open a tag
  becomes `&lt;`, and a line's leading block marker (`#`, `>`, `-`, `1.` ...) is escaped.
- `mermaid`: terminal, then the characters Mermaid reads (`" # ; % < > ``) as entity codes.
- `plot_label`: terminal, then `$` (matplotlib's mathtext) escaped.
- `html`: terminal, then `& < > " '` as entities.
- `mediawiki`: terminal, then the characters wiki markup reads as entities.
- `csv`: terminal, keeping newline and tab (the csv module quotes them: a cell stays a cell).
- `json`: JSON stays the data, unescaped; only the characters json.dumps leaves raw that a
  terminal would obey (DEL, C1, bidi overrides, U+2028/9) are written as \\u escapes, which
  decode to the same string.

`table_cell(text, tablefmt)` applies one tabulate format's rule to a table cell: tabulate's own
escaping for html and the latex formats, entities for mediawiki, a refusal for the raw formats
(latex_raw, unsafehtml), for the wiki markups acct has no escaper for (rst, orgtbl, asciidoc,
jira, textile, moinmoin, youtrack) a refusal of a cell holding their markup, and markdown's
escaping for the rest (github, pipe and the plain-text formats): text that would change a
table's structure is never drawn wrong.
"""

from __future__ import annotations

import re

from acct.errors import AcctError

# Characters a terminal (or a bidi-aware viewer) obeys rather than shows: C0 and C1 controls, DEL,
# the bidirectional embeddings, overrides and isolates (the "Trojan Source" characters), the
# Arabic letter mark, and the line and paragraph separators some viewers break lines at. None is
# printable (str.isprintable), which lets the common case, text holding none, skip the pattern.
# The patterns here are strings, compiled (and cached by re) when first needed: a report of
# ordinary names never compiles them, and every command's start-up stays as it was.
_C1_AND_BIDI = "\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
_OBEYED_CHARACTER = f"[\x00-\x1f{_C1_AND_BIDI}]"
_OBEYED_BUT_LINES = f"[\x00-\x08\x0b-\x1f{_C1_AND_BIDI}]"  # newline (0a) and tab (09) left out
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match) -> str:
    character = match.group()
    code = ord(character)
    return _NAMED.get(character) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def terminal(text: object, lines: bool = False) -> str:
    """`text` with every character a terminal would obey written as a visible escape (`\\x1b`,
    `\\n`); with `lines`, newlines and tabs stay (a whole output's own, a CSV cell's)."""
    text = "" if text is None else str(text)
    if text.isprintable() or (lines and text.replace("\n", "").replace("\t", "").isprintable()):
        return text
    return re.sub(_OBEYED_BUT_LINES if lines else _OBEYED_CHARACTER, _visible, text)


# -- markdown ---------------------------------------------------------------------

# Backslash-escaped: the escape character itself first, a cell's `|`, code spans' backticks, the
# brackets of links and images (an image would be fetched when the page is shown).
_MARKDOWN_PUNCTUATION = frozenset("\\|`[]")
# a `<` that CommonMark would read as the start of raw HTML or an autolink; `<0.1%` stays
_MARKDOWN_TAG = r"<(?=[A-Za-z/!?])"
# what makes a line a heading, quote, list item, thematic break, fence or setext underline
_MARKDOWN_BLOCK = r"^(\s*)([#>+*=~_-]|\d+(?=[.)]))"


def markdown(text: object, line_start: bool = False) -> str:
    """`text` as literal markdown: it adds no column, line, heading, code span, link or tag.
    `line_start`: the text begins a line of the document (a description under the title), so a
    leading `#`, `>`, `-`, `1.` is escaped too."""
    text = "" if text is None else str(text)
    if not _MARKDOWN_PUNCTUATION.isdisjoint(text):
        text = "".join("\\" + character if character in _MARKDOWN_PUNCTUATION else character for character in text)
    text = terminal(text)
    if "<" in text:
        text = re.sub(_MARKDOWN_TAG, "&lt;", text)
    if line_start and text.lstrip()[:1] in _BLOCK_STARTS:
        text = re.sub(_MARKDOWN_BLOCK, _escape_block_marker, text, count=1)
    return text


_BLOCK_STARTS = frozenset("#>+*=~_-0123456789")


def _escape_block_marker(match: re.Match) -> str:
    indent, marker = match.groups()
    return indent + (marker + "\\" if marker[0].isdigit() else "\\" + marker)


# -- mermaid, html, mediawiki, csv, json ---------------------------------------------

# Mermaid's entity codes (`#35;`): `#` first, since every other replacement writes one
_MERMAID = {"#": "#35;", '"': "#quot;", ";": "#59;", "%": "#37;", "<": "#lt;", ">": "#gt;", "`": "#96;"}
# patterns a markdown report does not use are strings, compiled (and cached by re) when first
# used: compiling them all would add to every command's start-up
_MERMAID_CHARACTER = "[" + re.escape("".join(_MERMAID)) + "]"


def mermaid(text: object) -> str:
    """`text` inside a Mermaid label or title: no quote ends the label, no `%%` starts a comment or
    a directive, no `;` ends the statement, no tag reaches the SVG."""
    return re.sub(_MERMAID_CHARACTER, lambda match: _MERMAID[match.group()], terminal(text))


def plot_label(text: object) -> str:
    """`text` as a matplotlib label: a `$` would start mathtext (and an unbalanced one stop the plot)."""
    return terminal(text).replace("$", "\\$")


def html(text: object) -> str:
    """`text` as HTML character data or an attribute's value."""
    import html as html_module  # only the HTML format needs it (html.entities is a large table to import)

    return html_module.escape(terminal(text), quote=True)


# single characters and runs that wiki markup reads: tables' `|` and `!`, links `[[`, templates
# `{{`, tags `<`, entities `&`, bold and italics `''`, signatures `~~~`, magic words `__`
_MEDIAWIKI = r"[&<>|!\[\]{}]|'{2,}|~{3,}|_{2,}"


def mediawiki(text: object) -> str:
    """`text` in a MediaWiki table cell, its markup characters as numeric entities."""
    return re.sub(_MEDIAWIKI, lambda match: "".join(f"&#{ord(c)};" for c in match.group()), terminal(text))


def csv(value: object) -> object:
    """A CSV cell: text keeps its newlines and tabs (the csv module quotes them) and loses every
    other character a terminal obeys; numbers pass as they are."""
    return terminal(value, lines=True) if isinstance(value, str) else value


_JSON_RAW = f"[{_C1_AND_BIDI}]"


def json(text: str) -> str:
    """JSON text from json.dumps(ensure_ascii=False) with the characters it leaves raw and a
    terminal obeys written as \\u escapes: outside strings JSON holds none, so only strings change,
    and they decode to the same value."""
    if text.replace("\n", "").isprintable():
        return text
    return re.sub(_JSON_RAW, lambda match: f"\\u{ord(match.group()):04x}", text)


# -- tabulate's formats ------------------------------------------------------------

MARKDOWN_TABLEFMTS = ("github", "pipe")  # formats that read markdown (and its **bold**)
# formats whose whole point is to pass text unescaped: refused, with the escaping one to use
RAW_TABLEFMTS = {"latex_raw": "latex", "unsafehtml": "html"}
# formats tabulate escapes itself: acct makes the text terminal-safe first
SELF_ESCAPING_TABLEFMTS = ("html", "latex", "latex_booktabs", "latex_longtable")
# text for a terminal, inside the markdown document: escaped as markdown
PLAIN_TABLEFMTS = ("plain", "simple", "grid", "simple_grid", "rounded_grid", "heavy_grid", "mixed_grid", "double_grid",
                   "fancy_grid", "colon_grid", "outline", "simple_outline", "rounded_outline", "heavy_outline",
                   "mixed_outline", "double_outline", "fancy_outline", "presto", "psql", "pretty", "tsv")
# wiki markups acct has no escaper for: a cell holding their markup is refused
UNESCAPED_MARKUP_TABLEFMTS = ("asciidoc", "jira", "moinmoin", "orgtbl", "rst", "textile", "youtrack")
# what is markup in at least one of them: cell separators, escapes, code, links, macros and
# templates, images, quotes of links, tags, bold, passthroughs, and a directive's leading `..`
_UNESCAPED_MARKUP = r"[|\\`\[\]{}!\"]|<(?=[A-Za-z/!?])|''|\+\+\+|\$\$|^\s*\.\.|" + _OBEYED_CHARACTER


def check_tablefmt(tablefmt: str) -> None:
    """Refuse a format that would pass text through unescaped, naming the one that escapes."""
    if tablefmt in RAW_TABLEFMTS:
        raise AcctError(f"--tablefmt {tablefmt}: passes text unescaped; use {RAW_TABLEFMTS[tablefmt]}")


def table_cell(text: str, tablefmt: str) -> str:
    """One table cell (or header) as `tablefmt` must receive it. The plain-text formats (plain,
    simple, grid, psql, tsv, ...) are escaped as markdown: their table sits in a markdown document
    (its headings are `#`), and a `|` or a tab in a cell would look like, or be, a column."""
    if tablefmt in SELF_ESCAPING_TABLEFMTS:
        return terminal(text)
    if tablefmt == "mediawiki":
        return mediawiki(text)
    if tablefmt in UNESCAPED_MARKUP_TABLEFMTS:
        markup = re.search(_UNESCAPED_MARKUP, text)
        if markup:
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise AcctError(f"--tablefmt {tablefmt}: the cell {shown!r} holds {markup.group()!r}, which {tablefmt} "
                            "reads as markup and acct does not escape for it; use github, html or latex")
        return text
    if tablefmt in MARKDOWN_TABLEFMTS or tablefmt in PLAIN_TABLEFMTS:
        return markdown(text)
    # a format a newer tabulate added: drawn only once its escaping is decided here
    raise AcctError(f"--tablefmt {tablefmt}: acct does not know how to escape text for it; use github, html or latex")
