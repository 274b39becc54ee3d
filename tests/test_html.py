"""--format html: the page's numbers are the JSON's numbers, strings are escaped, nothing is fetched or run,
the SVG is well-formed, and a real headless Chromium draws the page (tables and charts), not a blank."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from fractions import Fraction
from html.parser import HTMLParser

import pytest
from conftest import PRESETS

from acct.render.html import PALETTE, page, plain

XL, SMALL = str(PRESETS / "gpt2-xl.toml"), str(PRESETS / "gpt2-small.toml")
FRACTION = re.compile(r"^-?\d+/\d+$")  # how the JSON writes a non-integral number
DURATIONS = {"s": 1, "ms": 1000, "µs": 10**6}  # a page shows seconds in the unit that reads best

# every kind of report with an HTML page, with the options that add sections (fractions, time, outputs)
COMMANDS = {
    "run": ("run", XL, "--non-matmul", "--convention", "megatron"),
    "compare": ("compare", SMALL, XL, str(PRESETS / "llama-2-7b.toml"), "--by", "component"),
    "sweep": ("sweep", SMALL, "--vary", "context_length=1024..8192*2", "--vary", "num_layers=12,24",
              "--output", "memory.peak", "--output", "train.flops_step"),
    "train": ("train", XL, "--hardware", "h100", "--mfu", "0.45", "--gpus", "8", "--steps", "1000",
              "--set", "batch_size=8", "--precision", "mixed"),
    "infer": ("infer", XL, "--set", "batch_size=4"),
    # the sections a layout and a device add: per-GPU memory and collectives; what fits and the roofline
    "train at scale": ("train", str(PRESETS / "llama-3-8b.toml"), "--precision", "mixed", "--hardware", "h100",
                       "--gpus", "16", "--tp", "2", "--pp", "2", "--zero", "1", "--global-batch", "64",
                       "--micro-batch", "1"),
    "infer on hardware": ("infer", str(PRESETS / "llama-3-8b.toml"), "--hardware", "h100", "--batch", "8",
                          "--prompt", "1024", "--generate", "64", "--weights", "int4", "--price-per-hour", "2.5"),
}


def outputs(cli, argv):
    """(the JSON data, the HTML page) that acct prints for one command line."""
    status, out, err = cli(*argv, "--format", "json")
    assert status == 0, err
    status, page_text, err = cli(*argv, "--format", "html")
    assert status == 0, err
    return json.loads(out), page_text


def floats(data, path: str = "") -> list:
    """Where the JSON holds a float (a count divided with / rather than as a Fraction)."""
    if isinstance(data, dict):
        return [found for key, value in data.items() for found in floats(value, f"{path}.{key}")]
    if isinstance(data, list):
        return [found for i, value in enumerate(data) for found in floats(value, f"{path}[{i}]")]
    return [path] if isinstance(data, float) else []


def json_numbers(data) -> set:
    """Every number in the JSON, as the text of its <data value>: integers, and fractions written "p/q"."""
    found = set()
    if isinstance(data, dict):
        for value in data.values():
            found |= json_numbers(value)
    elif isinstance(data, list):
        for value in data:
            found |= json_numbers(value)
    elif isinstance(data, int) and not isinstance(data, bool):
        found.add(str(data))
    elif isinstance(data, str) and FRACTION.match(data):
        found.add(data)
    return found


class Page(HTMLParser):
    """The page's <data> elements (value, shown text), its visible text, and its tags."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.data, self.text, self.tags, self._open = [], [], [], None
        self._skip = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "data":
            self._open = [dict(attrs)["value"], ""]
        if tag in ("style", "title"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "data":
            self.data.append(tuple(self._open))
            self._open = None
        if tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, text):
        if self._open is not None:
            self._open[1] += text
        if not self._skip:
            self.text.append(text)


@pytest.mark.parametrize("kind", COMMANDS)
def test_the_pages_numbers_are_the_jsons_numbers(cli, kind):
    data, text = outputs(cli, COMMANDS[kind])
    parsed = Page(text)
    assert not floats(data), floats(data)  # exact numbers only: ints, and fractions as "p/q"
    # both ways: every JSON number is on the page, and every exact number on the page is the JSON's
    assert {value for value, _ in parsed.data} == json_numbers(data)
    visible = "".join(parsed.text)
    for value, shown in parsed.data:
        unit = next((u for u in DURATIONS if shown.endswith(f" {u}")), None)
        if unit:  # a duration, in s, ms or µs to two decimals, the exact value in seconds kept
            assert abs(Fraction(shown[: -len(unit) - 1].replace(",", "")) / DURATIONS[unit] - Fraction(value)) \
                <= Fraction(1, 200) / DURATIONS[unit]
        elif FRACTION.match(value):  # shown rounded to two decimals (four for an MFU), the exact value kept
            assert shown in (plain(value), plain(value, 1), plain(value, 3), plain(value, 4))
            assert abs(Fraction(shown.replace(",", "")) - Fraction(value)) <= Fraction(1, 20)
        else:  # integers in full, with thousands separators, as in markdown
            assert shown == f"{int(value):,}"
            assert shown in visible


def test_a_run_page_shows_the_reference_counts(cli):
    _, text = outputs(cli, ("run", XL))
    visible = "".join(Page(text).text)
    for count in ("2,127,057,600", "4,513,336,524,800", "90,596,966,400", "164,682,137,600", "20,971,520,000"):
        assert count in visible
    assert "66.9%" in visible  # the FFN's share of forward FLOPs, in the chart and the table


def test_a_page_shows_active_parameters_when_fewer_than_all(cli):
    data, text = outputs(cli, ("run", XL))
    assert "Active per token" not in text  # a dense model: all parameters are active
    data["totals"]["params_active"] = 1_234_567_890  # as a mixture of experts reports it
    text = page(data)
    assert "Active per token: <data value=\"1234567890\">1,234,567,890</data> parameters (58.0% of the total)" in text


def test_only_the_five_report_kinds_take_html(cli):
    for argv in (("conventions", XL), ("solve", XL, "--largest", "batch_size", "--where", "memory.peak <= 80GB")):
        status, _, err = cli(*argv, "--format", "html")
        assert status == 2 and "invalid choice: 'html'" in err


@pytest.mark.parametrize("kind", COMMANDS)
def test_the_page_is_self_contained_and_its_svg_is_xml(cli, kind):
    _, text = outputs(cli, COMMANDS[kind])
    lowered = text.lower()
    for fetches_or_runs in ("<script", "http://", "https://", "src=", "href=", "url(", "@import", "<link",
                            "<img", "<iframe", "<object", "<embed", "javascript:", " on"):
        if fetches_or_runs == " on":  # an event handler attribute, e.g. onload=
            assert not re.search(r"<[^>]*\son[a-z]+\s*=", lowered)
        else:
            assert fetches_or_runs not in lowered, fetches_or_runs
    assert "content-security-policy" in lowered and "default-src 'none'" in text
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    charts = re.findall(r"<svg\b.*?</svg>", text, flags=re.S)
    assert charts, "a chart"
    for chart in charts:
        root = ET.fromstring(chart)  # raises on anything that is not well-formed XML
        assert root.tag == "svg" and root.find("title") is not None
        assert root.findall(".//rect") or root.findall(".//polyline")


HOSTILE = "<script>alert(1)</script> & \"quoted\" 'single' </style><img src=x onerror=alert(2)>"


# the mappings whose keys are names from a preset or plugin (inputs, slots, groups, components, outputs, conventions)
NAMED = {"inputs", "variants", "groups", "components_flops_forward", "outputs", "conventions_totals"}


def hostile(data, named: bool = False):
    """The data with every string from a preset or plugin (names, groups, formulas, descriptions, and the keys
    of the mappings by name) made an attack; numbers and the schema kept, and each string always replaced
    alike, so that names still match."""
    if isinstance(data, dict):
        return {hostile(key) if named else key: value if key == "schema" else hostile(value, key in NAMED)
                for key, value in data.items()}
    if isinstance(data, list):
        return [hostile(value) for value in data]
    if isinstance(data, str) and not FRACTION.match(data) and len(data) > 2:  # a 1-2 character formula stays one
        return data + HOSTILE
    return data


@pytest.mark.parametrize("kind", COMMANDS)
def test_every_string_from_a_preset_or_plugin_is_escaped(cli, kind):
    data, _ = outputs(cli, COMMANDS[kind])
    text = page(hostile(data))
    lowered = text.lower()
    assert "<script" not in lowered and "<img" not in lowered and "</style><" not in lowered
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &#x27;single&#x27;" in text
    # the page still parses: the same numbers, and every chart well-formed XML
    assert {value for value, _ in Page(text).data} == json_numbers(data)
    for chart in re.findall(r"<svg\b.*?</svg>", text, flags=re.S):
        ET.fromstring(chart)
    assert HOSTILE in "".join(Page(text).text)  # shown as the text it is


def test_a_preset_named_script_renders_as_text(cli, tmp_path):
    preset = tmp_path / "evil.toml"
    preset.write_text((PRESETS / "gpt2-small.toml").read_text()
                      .replace('name = "gpt2-small"', 'name = "<script>alert(1)</script>"')
                      .replace('description = "', 'description = "<b>bold</b> & '))
    status, text, err = cli("run", str(preset), "--format", "html")
    assert status == 0, err
    assert "<script" not in text.lower() and "<b>" not in text
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>" in text
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in text
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; " in text


# -- a real browser -------------------------------------------------------------------------


def required(what: str, found) -> None:
    """In CI (the environment variable CI is set, as .ci/run does) a missing browser or image reader fails
    the test, so that the page is really drawn there; on a developer's machine without it, the test skips."""
    if not found:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is required in CI (.ci/run installs it)")
        pytest.skip(f"{what} is not installed (CI installs it and fails without it)")


def screenshots(pages: dict, folder) -> dict:
    """Each page drawn by headless Chromium in a 1200×1600 window, as an array of RGB(A) pixels in 0..1.
    The browsers start together (each about a second), so that the five pages take a few seconds in all."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    required("chromium (Debian's chromium package)", browser)
    try:
        from matplotlib import image
    except ImportError:
        image = None
    required("matplotlib (acct[plot]) to read the screenshots", image)
    running = {}
    for kind, text in pages.items():
        html_file = folder / f"{kind}.html"
        html_file.write_text(text, encoding="utf-8")
        running[kind] = subprocess.Popen(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={folder / kind}",  # a profile each: browsers that share one wait on its lock
             f"--screenshot={folder / kind}.png", "--window-size=1200,1600", html_file.as_uri()],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
    for kind, process in running.items():
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, f"chromium on the {kind} page: {err.decode(errors='replace')[-2000:]}"
    return {kind: image.imread(str(folder / f"{kind}.png")) for kind in pages}


def test_chromium_draws_every_page(cli, tmp_path):
    pages = {kind: outputs(cli, argv)[1] for kind, argv in COMMANDS.items()}
    first = [int(PALETTE[0][i:i + 2], 16) for i in (1, 3, 5)]  # every chart's first bar, line or part
    for kind, pixels in screenshots(pages, tmp_path).items():
        assert pixels.shape[:2] == (1600, 1200), kind
        rgb = (pixels[:, :, :3] * 255 + 0.5).astype("int32")
        colours = len(set((rgb[:, :, 0] << 16 | rgb[:, :, 1] << 8 | rgb[:, :, 2]).ravel().tolist()))
        assert colours > 50, f"{kind}: {colours} colours; text and charts are drawn in many (antialiasing)"
        inked = (rgb.min(axis=2) < 240).mean()
        assert 0.01 < inked < 0.6, f"{kind}: {inked:.1%} of the screenshot is not white"
        # the chart colour as drawn: the SVG is rendered, not only the text
        painted = int((abs(rgb - first).max(axis=2) <= 3).sum())
        assert painted > 300, f"{kind}: only {painted} pixels of the chart colour {PALETTE[0]}"
