"""Text from data is data in every output: names, descriptions and sources from a preset, a hardware
file and a plugin, full of markdown, HTML, LaTeX, wiki and terminal syntax, change no output's structure.

Each command runs twice in one process, on an "evil" preset, hardware file and plugin and on a
"clean" twin that differs only in that text; the structure of the two outputs must match line for
line (as many lines, headings where the clean one has them, the same unescaped `|` per line in a
markdown or wiki table, the same `&` in a LaTeX row, the same tags in HTML). Then the direct
properties: no raw `<script`, no raw `\\input`, no control character but newline and tab, and JSON
returning each string exactly.
"""

import csv
import io
import json
import re

import pytest
from tabulate import tabulate_formats

import acct
from acct.render import escape
from conftest import PRESETS

# Each piece is syntax somewhere: a markdown column and line and heading, a code span, a tag, a
# LaTeX command and its specials, a link (an image would be fetched), an SGR colour, a bell, a
# carriage return, C1's CSI (\x9b: ESC [ in one byte) and the right-to-left override.
EVIL = ("a|b\n# h `t` <script>alert(1)</script> \\input{/etc/passwd} & % $ # _ { } ~ ^ [x](http://e) "
        "\x1b[31mred\x07\rX\x9b\u202e!")
# the same text through escape.markdown, derived by hand: `\ | ` [ ]` backslash-escaped, a `<`
# before a letter or `/` as &lt;, each control character as its visible escape
EVIL_MARKDOWN = ("a\\|b\\n# h \\`t\\` &lt;script>alert(1)&lt;/script> \\\\input{/etc/passwd} & % $ # _ { } ~ ^ "
                 "\\[x\\](http://e) \\x1b\\[31mred\\x07\\rX\\x9b\\u202e!")
# ... and through escape.csv: only the control characters but newline and tab change
EVIL_CSV = ("a|b\n# h `t` <script>alert(1)</script> \\input{/etc/passwd} & % $ # _ { } ~ ^ [x](http://e) "
            "\\x1b[31mred\\x07\\rX\\x9b\\u202e!")

PRESET_NAME, DESCRIPTION, SOURCE = "N" + EVIL, "# D" + EVIL, "S" + EVIL
HARDWARE_NAME, HARDWARE_DESCRIPTION, HARDWARE_SOURCE = "H" + EVIL, "HD" + EVIL, "HS" + EVIL
GROUP, NOTE, ROW_DESCRIPTION = "grp" + EVIL, "note" + EVIL, "desc" + EVIL


def _toml(text: str) -> str:
    """A TOML basic string: the escapes TOML knows, \\u for every other control character."""
    named = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return '"' + "".join(named.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 else c)
                         for c in text) + '"'


PRESET = """name = {name}
description = {description}
source = {source}
[model]
vocab_size = 1000
context_length = 64
num_layers = 2
d_model = 128
num_heads = 4
d_ff = "4 * d_model"
"""
HARDWARE = """name = {name}
description = {description}
source = {source}
memory = "80GB"
bandwidth = "2TB"
link_bandwidth = "450GB"
[flops]
fp32 = "60e12"
bf16 = "900e12"
"""
PLUGIN = '''import acct

@acct.hookimpl
def acct_register_components(register):
    register(acct.Component(name="data_row", slot="extra", variant="on", group={group!r}, params="32 * d_model",
                            flops="2 * context_length * d_model", shape=("context_length", "d_model", "1"),
                            default=True, description={description!r}, note={note!r}))
'''


def _write(folder, evil: bool):
    text = (lambda value: value) if evil else (lambda value: "clean")
    folder.mkdir()
    (folder / "model.toml").write_text(PRESET.format(name=_toml(text(PRESET_NAME)), description=_toml(text(DESCRIPTION)),
                                                     source=_toml(text(SOURCE))), encoding="utf-8")
    (folder / "gpu.toml").write_text(HARDWARE.format(name=_toml(text(HARDWARE_NAME)),
                                                     description=_toml(text(HARDWARE_DESCRIPTION)),
                                                     source=_toml(text(HARDWARE_SOURCE))), encoding="utf-8")
    (folder / "rows.py").write_text(PLUGIN.format(group=text(GROUP), description=text(ROW_DESCRIPTION),
                                                  note=text(NOTE)), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("escaping")
    return {"evil": _write(root / "evil", True), "clean": _write(root / "clean", False)}


SMALL = str(PRESETS / "gpt2-small.toml")
# every command that prints data; {m} the preset, {h} the hardware file, {p} the plugin
COMMANDS = {
    "run": "run {m} --non-matmul",
    "conventions": "conventions {m}",
    "train": "train {m} --hardware {h} --gpus 4 --global-batch 4",
    "infer": "infer {m} --hardware {h}",
    "compare": "compare {m} " + SMALL,
    "sweep": "sweep {m} --vary context_length=32,64",
    "plan": "plan {m} --hardware {h} --gpus 4 --global-batch 8",
}
# the commands whose tables show the plugin's group name (the others show data in prose only)
DATA_IN_CELLS = ("run", "compare", "sweep")


def _argv(command: str, folder) -> list:
    words = COMMANDS[command].format(m=folder / "model.toml", h=folder / "gpu.toml").split()
    # plan finds no valid layout with the plugin's extra row (it states no split over the GPUs),
    # and would draw no table: it runs without it
    return words if command == "plan" else words + ["-p", str(folder / "rows.py")]


_outputs = {}


@pytest.fixture
def output(cli, files):
    """output(which, command, *options) -> (status, stdout, stderr), each run once per module."""

    def run(which: str, command: str, *options: str):
        key = (which, command, options)
        if key not in _outputs:
            _outputs[key] = cli(*_argv(command, files[which]), *options)
        return _outputs[key]

    return run


# -- the properties -------------------------------------------------------------------

OBEYED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _unescaped(character: str) -> re.Pattern:
    """`character` preceded by an even number of backslashes: markup, not text."""
    return re.compile(r"(?<!\\)(?:\\\\)*" + re.escape(character))


PIPE, AMPERSAND, RAW_INPUT = _unescaped("|"), _unescaped("&"), _unescaped("\\input")


def _shape(text: str, tablefmt: str) -> list:
    """What data must not change, line by line: a heading or not, and the format's separators."""
    latex = tablefmt.startswith("latex")
    shape = []
    for line in text.split("\n"):
        if latex:  # a row of a tabular ends in \\; the lines around it are markdown
            separators = len(AMPERSAND.findall(line)) if line.rstrip().endswith("\\\\") else 0
        else:
            separators = line.count("<t") if tablefmt == "html" else len(PIPE.findall(line))
        shape.append((line.startswith("#"), separators))
    return shape


def _assert_terminal_safe(*texts: str) -> None:
    for text in texts:
        assert not OBEYED.search(text), repr(OBEYED.search(text).group())


TEXT_TABLEFMTS = [f for f in tabulate_formats if f not in escape.RAW_TABLEFMTS]


def _result(command: str, folder):
    """The command's report through the Python API (the command line renders the same way), built
    once and drawn in every table format."""
    model, gpu, plugins = folder / "model.toml", str(folder / "gpu.toml"), [folder / "rows.py"]
    if command == "compare":
        return acct.compare(model, SMALL, plugins=plugins)
    if command == "plan":  # without the plugin: see _argv
        return acct.load(model).plan(gpus=4, hardware=gpu, global_batch=8)
    loaded = acct.load(model, plugins=plugins)
    return {"run": lambda: loaded.report(non_matmul=True), "conventions": loaded.conventions,
            "train": lambda: loaded.train(hardware=gpu, gpus=4, global_batch=4), "infer": lambda: loaded.infer(hardware=gpu),
            "sweep": lambda: loaded.sweep({"context_length": [32, 64]})}[command]()


@pytest.fixture(scope="module")
def results(files):
    return {(which, command): _result(command, files[which]) for which in files for command in COMMANDS}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("tablefmt", TEXT_TABLEFMTS)
def test_markdown_in_every_tablefmt_keeps_its_structure(results, command, tablefmt):
    if tablefmt in escape.UNESCAPED_MARKUP_TABLEFMTS and command in DATA_IN_CELLS:
        # the group name reaches a cell, and these formats cannot hold its `|`
        with pytest.raises(acct.AcctError) as refusal:
            results["evil", command].render("markdown", tablefmt)
        assert str(refusal.value) == (f"--tablefmt {tablefmt}: the cell 'grpa|b\\n# h `t` <script>alert(1)</script> "
                                      f"\\\\input{{/etc/pass...' holds '|', which {tablefmt} reads as markup and acct "
                                      "does not escape for it; use github, html or latex")
        return
    out = results["evil", command].render("markdown", tablefmt)
    _assert_terminal_safe(out)
    clean = results["clean", command].render("markdown", tablefmt)
    assert _shape(out, tablefmt) == _shape(clean, tablefmt)
    assert "<script" not in out
    if tablefmt.startswith("latex") or tablefmt not in escape.SELF_ESCAPING_TABLEFMTS + ("mediawiki",):
        assert not RAW_INPUT.search(out)  # (HTML and wiki cells may hold it: it is text there)
    if tablefmt not in escape.SELF_ESCAPING_TABLEFMTS:
        assert "](http://e)" not in out.replace("\\](http://e)", "")  # no link, no image to fetch
    # the heading names the preset as text: the escaped name, then acct's own words
    first = out.split("\n", 1)[0]
    if command == "compare":
        assert first == f"# Comparing N{EVIL_MARKDOWN}, gpt2-small"
    elif command == "sweep":
        assert first == "# Sweep over context_length"
    else:
        assert first.startswith(f"# N{EVIL_MARKDOWN}: " if command != "run" else f"# N{EVIL_MARKDOWN}")


@pytest.mark.parametrize("command", COMMANDS)
def test_the_command_line_prints_markdown_terminal_safe(output, command):
    status, out, err = output("evil", command)
    assert status == 0, err
    _assert_terminal_safe(out, err)
    assert out.startswith(f"# N{EVIL_MARKDOWN}" if command not in ("compare", "sweep") else "# ")


def test_run_markdown_shows_each_text_escaped(output):
    """The lines around the tables, derived by hand: the description begins a line, so its `#` is
    escaped too; the source and the plugin's note follow acct's own words."""
    status, out, _ = output("evil", "run")
    assert status == 0
    lines = out.split("\n")
    assert lines[:6] == [f"# N{EVIL_MARKDOWN}", "", f"\\# D{EVIL_MARKDOWN}", "", f"Source: S{EVIL_MARKDOWN}", ""]
    assert f"Note — data_row: note{EVIL_MARKDOWN}" in lines
    assert f"| grp{EVIL_MARKDOWN} " in out  # the group, a cell of 'Where the FLOPs go'


@pytest.mark.parametrize("command", ["train", "infer", "plan"])
def test_hardware_text_is_escaped(output, command):
    status, out, _ = output("evil", command)
    assert status == 0
    if command == "train":
        assert f"On 4 × H{EVIL_MARKDOWN} (HD{EVIL_MARKDOWN}) at " in out
        assert f"\nSource: HS{EVIL_MARKDOWN}.\n" in out
    elif command == "infer":
        assert f"\n## Time on 1 × H{EVIL_MARKDOWN} (HD{EVIL_MARKDOWN})\n" in out
    else:
        # plan names the hardware as it was given (here the file); its text is in the best layout's time
        assert out.startswith(f"# N{EVIL_MARKDOWN}: layouts of 4 × ")
        assert "\n## Best layout: per GPU (the most loaded)\n" in out


@pytest.mark.parametrize("tablefmt, instead", sorted(escape.RAW_TABLEFMTS.items()))
def test_raw_tablefmts_are_refused_in_one_line(cli, tablefmt, instead):
    """latex_raw and unsafehtml exist to pass text unescaped: refused even for a bundled preset."""
    status, out, err = cli("run", SMALL, "--tablefmt", tablefmt)
    assert (status, out) == (1, "")
    assert err == f"acct: error: --tablefmt {tablefmt}: passes text unescaped; use {instead}\n"


@pytest.mark.parametrize("tablefmt", escape.UNESCAPED_MARKUP_TABLEFMTS)
def test_wiki_markups_refuse_a_cell_with_markup_and_draw_a_plain_one(cli, tmp_path, tablefmt):
    (tmp_path / "x.toml").write_text((PRESETS / "gpt2-small.toml").read_text().replace(
        'name = "gpt2-small"', 'name = "x|y"'), encoding="utf-8")
    status, out, err = cli("compare", str(tmp_path / "x.toml"), SMALL, "--tablefmt", tablefmt)
    assert (status, out) == (1, "")
    assert err == (f"acct: error: --tablefmt {tablefmt}: the cell 'x|y' holds '|', which {tablefmt} reads as markup "
                   "and acct does not escape for it; use github, html or latex\n")
    status, out, err = cli("compare", SMALL, SMALL, "--tablefmt", tablefmt)
    assert status == 0, err
    assert "gpt2-small" in out.split("\n", 3)[3]


@pytest.mark.parametrize("tablefmt", ["mediawiki", "github", "grid", "tsv"])
def test_a_separator_in_a_name_adds_no_column(cli, tmp_path, tablefmt):
    """Compare's header holds the preset's name: `|` (and a tab in tsv) escaped, as many columns."""
    (tmp_path / "x.toml").write_text((PRESETS / "gpt2-small.toml").read_text().replace(
        'name = "gpt2-small"', 'name = "x|y\\tz"'), encoding="utf-8")
    status, out, err = cli("compare", str(tmp_path / "x.toml"), SMALL, "--tablefmt", tablefmt)
    assert status == 0, err
    header = next(line for line in out.split("\n") if "gpt2-small" in line and "Comparing" not in line)
    expected = {"mediawiki": "x&#124;y\\tz", "github": "x\\|y\\tz", "grid": "x\\|y\\tz", "tsv": "x\\|y\\tz"}
    assert expected[tablefmt] in header
    if tablefmt == "tsv":
        assert header.count("\t") == 2  # the row label's column, then the two models
    else:
        # mediawiki: only the `|` of each right-aligned cell's style attribute
        assert len(PIPE.findall(header)) == {"mediawiki": 2, "github": 4, "grid": 4}[tablefmt]


# -- JSON, CSV, HTML, Mermaid -------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_json_returns_every_string_exactly(output, command):
    """JSON is data: the strings come back as written, and the text holds no raw control
    character (json.dumps escapes C0 itself; DEL, C1 and bidi overrides acct writes as \\u)."""
    status, out, err = output("evil", command, "--format", "json")
    assert status == 0, err
    _assert_terminal_safe(out.replace("\n", ""))
    assert "\\u009b" in out and "\\u202e" in out
    data = json.loads(out)
    if command == "run":
        assert data["preset"]["name"] == PRESET_NAME
        assert data["preset"]["description"] == DESCRIPTION and data["preset"]["source"] == SOURCE
        row = next(row for row in data["rows"] if row["name"] == "data_row")
        assert (row["group"], row["description"]) == (GROUP, ROW_DESCRIPTION)
        assert f"data_row: {NOTE}" in data["notes"]
    elif command in ("conventions", "plan"):
        assert data["preset"] == PRESET_NAME
    if command == "train":
        assert data["time"]["hardware"] == HARDWARE_NAME
    elif command == "infer":
        assert data["roofline"]["hardware"] == HARDWARE_NAME
    elif command == "compare":
        assert data["models"][0]["label"] == PRESET_NAME and GROUP in data["models"][0]["groups"]
    elif command == "sweep":
        assert GROUP in data["points"][0]["groups"]


@pytest.mark.parametrize("command", COMMANDS)
def test_csv_keeps_its_rows_and_columns(output, command):
    status, out, err = output("evil", command, "--format", "csv")
    assert status == 0, err
    _assert_terminal_safe(out, err)
    rows = list(csv.reader(io.StringIO(out)))
    clean = list(csv.reader(io.StringIO(output("clean", command, "--format", "csv")[1])))
    assert [len(row) for row in rows] == [len(row) for row in clean]
    cells = {cell for row in rows for cell in row}
    if command == "compare":
        assert rows[1][0] == "N" + EVIL_CSV
    if command in ("compare", "sweep"):
        assert f"grp{EVIL_CSV} flops_forward" in rows[0]
    if command == "run":
        assert "grp" + EVIL_CSV in cells
    # nothing acct writes makes a cell a spreadsheet formula
    assert not any(cell[:1] in ("=", "@") for cell in cells)


@pytest.mark.parametrize("command", ["run", "train", "infer", "compare", "sweep"])
def test_html_page_has_the_clean_pages_tags(output, command):
    status, out, err = output("evil", command, "--format", "html")
    assert status == 0, err
    _assert_terminal_safe(out, err)
    clean = output("clean", command, "--format", "html")[1]
    tags = re.compile(r"<(/?[a-zA-Z][a-zA-Z0-9]*)")
    assert tags.findall(out) == tags.findall(clean)
    assert "<script" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "\\x1b[31mred\\x07\\rX\\x9b\\u202e!" in out  # visible, not obeyed


@pytest.mark.parametrize("command", ["compare", "sweep"])
def test_mermaid_labels_stay_labels(output, command):
    status, out, err = output("evil", command, "--chart", "mermaid")
    assert status == 0, err
    _assert_terminal_safe(out, err)
    clean = output("clean", command, "--chart", "mermaid")[1]
    assert len(out.split("\n")) == len(clean.split("\n"))
    block = out.split("```mermaid\n", 1)[1].split("```", 1)[0]
    for line in block.split("\n")[2:-1]:
        assert re.fullmatch(r'    "[^"]*" : [0-9]+\.[0-9]{2}', line), line
    grp = ("grpa|b\\n#35; h #96;t#96; #lt;script#gt;alert(1)#lt;/script#gt; \\input{/etc/passwd} & #37; $ #35; _ "
           "{ } ~ ^ [x](http://e) \\x1b[31mred\\x07\\rX\\x9b\\u202e!")
    assert f'    "{grp}" : ' in block
    if command == "compare":
        assert block.split("\n")[1] == f"    title N{grp[3:]} — share of forward FLOPs (%)"


def test_an_error_quoting_a_file_name_shows_its_escapes(cli, tmp_path):
    path = tmp_path / "bad\x1b[31m.toml"
    path.write_text("[model\n", encoding="utf-8")
    status, out, err = cli("run", str(path))
    assert (status, out) == (1, "")
    assert err.startswith(f"acct: error: {tmp_path}/bad\\x1b[31m.toml: not valid TOML")
    _assert_terminal_safe(err)


# -- the escaping functions, case by case -----------------------------------------------


@pytest.mark.parametrize("text, line_start, expected", [
    ("a|b", False, "a\\|b"),
    ("`code`", False, "\\`code\\`"),
    ("a\\|b", False, "a\\\\\\|b"),  # the backslash first: the `|` stays escaped
    ("<b>x</b> <0.1%", False, "&lt;b>x&lt;/b> <0.1%"),  # a tag's `<` only; acct's own `<0.1%` stays
    ("![i](http://e)", False, "!\\[i\\](http://e)"),
    ("# heading", False, "# heading"),  # inside a line a `#` is text
    ("# heading", True, "\\# heading"),
    ("> quote", True, "\\> quote"),
    ("- item", True, "\\- item"),
    ("1986. A year", True, "1986\\. A year"),
    ("===", True, "\\==="),
    ("plain", True, "plain"),
    ("two\nlines\r\x1b[0m", False, "two\\nlines\\r\\x1b\\[0m"),
])
def test_markdown(text, line_start, expected):
    assert escape.markdown(text, line_start=line_start) == expected


@pytest.mark.parametrize("function, text, expected", [
    (escape.terminal, "\x1b[31mred\x07\r\n\t\x9b\x7f\u202e\u2028", "\\x1b[31mred\\x07\\r\\n\\t\\x9b\\x7f\\u202e\\u2028"),
    (escape.terminal, "ünïcödé · × — fine", "ünïcödé · × — fine"),
    (escape.mermaid, 'a "b"; #c %%{init}%% <i> `t`', "a #quot;b#quot;#59; #35;c #37;#37;{init}#37;#37; #lt;i#gt; #96;t#96;"),
    (escape.html, "<script>&\"'\x1b", "&lt;script&gt;&amp;&quot;&#x27;\\x1b"),
    (escape.mediawiki, "a|b!![[L]]{{T}}<s>&''b''~~~~__TOC__ d_k", "a&#124;b&#33;&#33;&#91;&#91;L&#93;&#93;&#123;&#123;"
     "T&#125;&#125;&#60;s&#62;&#38;&#39;&#39;b&#39;&#39;&#126;&#126;&#126;&#126;&#95;&#95;TOC&#95;&#95; d_k"),
    (escape.csv, "a\nb\tc\rd\x1b", "a\nb\tc\\rd\\x1b"),
    (escape.plot_label, "$x$ \x1b", "\\$x\\$ \\x1b"),
])
def test_each_format(function, text, expected):
    assert function(text) == expected


def test_csv_passes_numbers_as_they_are():
    assert escape.csv(2_127_057_600) == 2_127_057_600


def test_json_escapes_what_a_terminal_obeys_and_reads_back_the_same():
    text = json.dumps({"name": "a\x9b\x7f\u202e\u2028b"}, ensure_ascii=False)
    escaped = escape.json(text)
    assert escaped == '{"name": "a\\u009b\\u007f\\u202e\\u2028b"}'
    assert json.loads(escaped) == {"name": "a\x9b\x7f\u202e\u2028b"}


def test_every_tabulate_format_has_a_rule():
    """A tabulate release that adds a format must be sorted into one of the rules, not fall
    through to one by accident."""
    sorted_formats = (set(escape.RAW_TABLEFMTS) | set(escape.SELF_ESCAPING_TABLEFMTS)
                      | set(escape.UNESCAPED_MARKUP_TABLEFMTS) | {"mediawiki"} | set(escape.MARKDOWN_TABLEFMTS)
                      | set(escape.PLAIN_TABLEFMTS))
    assert sorted_formats == set(tabulate_formats)
