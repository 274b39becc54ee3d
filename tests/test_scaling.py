"""acct compare and acct sweep: (d) shares across GPT-2 sizes, (e) GPT-2 XL at 16,384 tokens, grids, charts."""

import csv
import io
import json
import sys
import xml.etree.ElementTree as ElementTree

import pytest

from acct.errors import ConfigError
from acct.reports.scaling import parse_vary
from conftest import PRESETS
from test_presets import FLOPS, SHAPES, hand_flops, hand_params

GPT2 = [str(PRESETS / f"{name}.toml") for name in SHAPES]
XL = str(PRESETS / "gpt2-xl.toml")


def test_compare_gives_exact_totals_and_groups(cli):
    status, out, err = cli("compare", *GPT2, "-f", "json")
    assert status == 0, err
    models = json.loads(out)["models"]
    assert [m["label"] for m in models] == list(SHAPES)
    assert [m["flops_forward"] for m in models] == [FLOPS[name] for name in SHAPES]
    for model, (L, D, _) in zip(models, SHAPES.values()):
        T, F = 1024, 4 * D
        # blocks: L·(8·T·D² + 4·T²·D + 6·T·D·F); LM head: 2·T·D·V
        assert model["blocks_flops_forward"] == L * (8 * T * D * D + 4 * T * T * D + 6 * T * D * F)
        assert model["groups"]["LM head"]["flops_forward"] == 2 * T * D * 50_257
        assert model["params"] == hand_params(L, D)


def test_compare_markdown_answers_d(cli):
    status, out, _ = cli("compare", *GPT2)
    assert status == 0
    table = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
             for line in out.splitlines() if line.startswith("| ")}
    assert table["**Transformer blocks**"] == ["77.4%", "89.8%", "94.2%", "96.4%"]
    assert table["LM head"] == ["22.6%", "10.2%", "5.8%", "3.6%"]
    assert table["FFN"][0] == "49.8%" and table["FFN"][-1] == "66.9%"
    assert table["attention scores and values"][0] == "11.1%" and table["attention scores and values"][-1] == "7.1%"
    assert table["forward FLOPs"] == ["349,630,365,696", "1,033,109,504,000", "2,257,754,521,600", "4,513,336,524,800"]
    assert (
        "From gpt2-small to gpt2-xl, the share of forward FLOPs grows for FFN (49.8% → 66.9%), "
        "attention projections (16.6% → 22.3%); it shrinks for LM head (22.6% → 3.6%), "
        "attention scores and values (11.1% → 7.1%)." in out
    )


def test_compare_by_component_and_set(cli):
    status, out, _ = cli("compare", *GPT2[:2], "--by", "component", "--set", "context_length=2048")
    assert status == 0
    assert "| attn_scores " in out and "| ffn_w2 " in out
    assert f"{hand_flops(12, 768, context=2048):,}" in out  # --set applies to every preset


def test_sweep_answers_e(cli):
    status, out, _ = cli("sweep", XL, "--vary", "context_length=1024,16384")
    assert status == 0
    assert "|            1,024 | 2,127,057,600 |   4,513,336,524,800 |      ×1.00 |     ×1.00 |" in out
    assert "|           16,384 | 2,127,057,600 | 149,522,795,724,800 |      ×1.00 |    ×33.13 |" in out
    assert (
        "The largest change in share is attention scores and values: 7.1% at context_length=1,024 → "
        "55.2% at context_length=16,384 (+48.0 points)." in out
    )
    status, out, _ = cli("sweep", XL, "--vary", "context_length=1024,16384", "-f", "json")
    points = json.loads(out)["points"]
    attention = [p["groups"]["attention scores and values"]["flops_forward"] for p in points]
    assert attention == [48 * 4 * 1024**2 * 1600, 48 * 4 * 16384**2 * 1600]
    assert [p["flops_forward"] for p in points] == [4_513_336_524_800, 149_522_795_724_800]


def test_grid_sweep_has_a_row_per_point_with_exact_totals(cli):
    status, out, _ = cli("sweep", XL, "--vary", "context_length=1024..2048*2",
                         "--vary", "num_layers=12..48+18", "-f", "csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 6
    for row in rows:
        T, L = int(row["context_length"]), int(row["num_layers"])
        assert int(row["flops_forward"]) == hand_flops(L, 1600, context=T)
        assert int(row["params"]) == hand_params(L, 1600)
    assert [(r["context_length"], r["num_layers"]) for r in rows] == [
        ("1024", "12"), ("1024", "30"), ("1024", "48"), ("2048", "12"), ("2048", "30"), ("2048", "48")]


@pytest.mark.parametrize(
    "text, values",
    [
        ("context_length=1024,2048,4096", [1024, 2048, 4096]),
        ("context_length=1024..16384*2", [1024, 2048, 4096, 8192, 16384]),
        ("context_length=1000..10000*10", [1000, 10000]),
        ("num_layers=12..48+12", [12, 24, 36, 48]),
        ("num_layers=12..50+12", [12, 24, 36, 48]),
        ("num_layers=5..5+1", [5]),
    ],
)
def test_vary_syntax(text, values):
    name, parsed = parse_vary(text)
    assert (name, list(parsed)) == (text.split("=")[0], values)


@pytest.mark.parametrize(
    "text, message",
    [
        ("context_length", "expected NAME=VALUES"),
        ("context_length=1024,abc", "'abc' is not a whole number"),
        ("context_length=1024..2048", "a range needs a step"),
        ("context_length=1024..2048*1", "the factor must be at least 2, got 1"),
        ("num_layers=12..48+0", "the step must be positive, got 0"),
        ("num_layers=48..12+1", "is empty"),
        ("num_layers=0..8*2", "a geometric range starts above 0"),
        ("num_layers=1..100000000000+1", "more than 10,000,000 values"),
    ],
)
def test_vary_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_vary(text)


def test_sweep_errors_exit_1(cli):
    status, _, err = cli("sweep", XL, "--vary", "context_lenght=1,2")
    assert status == 1 and "--vary context_lenght: unknown input (did you mean context_length?)" in err
    status, _, err = cli("sweep", XL, "--vary", "num_heads=24,48")
    assert status == 1 and "sweep: the model refuses every point; at num_heads=24: --vary num_heads: " \
        "d_head = d_model / num_heads gives 200/3" in err
    status, _, err = cli("sweep", XL, "--vary", "num_layers=1,2", "--vary", "num_layers=3")
    assert status == 1 and "each input may be varied once" in err


def test_mermaid_chart(cli):
    status, out, _ = cli("compare", *GPT2[::3], "--chart", "mermaid")
    assert status == 0
    blocks = out.split("```mermaid\n")[1:]
    assert len(blocks) == 2  # one diagram per block, one block per model
    assert blocks[0].split("```")[0] == (
        "pie showData\n"
        "    title gpt2-small — share of forward FLOPs (%)\n"
        '    "attention projections" : 16.58\n'
        '    "attention scores and values" : 11.06\n'
        '    "FFN" : 49.75\n'
        '    "LM head" : 22.61\n'
    )
    status, out, _ = cli("sweep", XL, "--vary", "context_length=1..100+1", "--chart", "mermaid")
    assert out.count("```mermaid") == 8 and "8 of the 100 points, evenly spaced" in out
    status, _, err = cli("sweep", XL, "--vary", "context_length=1,2", "--chart", "mermaid", "-f", "json")
    assert status == 1 and "--chart mermaid goes with --format markdown" in err


@pytest.mark.parametrize("suffix", ["svg", "png"])
def test_plot_writes_a_valid_image(cli, tmp_path, suffix):
    pytest.importorskip("matplotlib")  # the [plot] extra: without it this test skips, it does not fail
    path = tmp_path / f"shares.{suffix}"
    status, _, err = cli("sweep", XL, "--vary", "context_length=1024..16384*2", "--plot", str(path))
    assert status == 0, err
    data = path.read_bytes()
    assert len(data) > 1000
    if suffix == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width > 100 and height > 100
    else:
        root = ElementTree.fromstring(data)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert b"attention scores and values" in data  # the legend


def test_plot_errors(cli, tmp_path, monkeypatch):
    status, _, err = cli("compare", *GPT2[:2], "--plot", str(tmp_path / "x.gif"))
    assert status == 1 and "the file must end in .svg or .png" in err
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the extra were not installed
    status, _, err = cli("compare", *GPT2[:2], "--plot", str(tmp_path / "x.svg"))
    assert status == 1 and err == "acct: error: --plot needs matplotlib: pip install 'acct-lm[plot]'\n"


def test_sweep_with_output_columns(cli):
    # fp32 cs336 GPT-2 XL: peak = 15,517,753,344·B + 34,032,921,600 bytes; step = (3·4,513,336,524,800)·B + 14·N
    status, out, err = cli("sweep", XL, "--vary", "batch_size=1..8*2", "--output", "memory.peak",
                           "--output", "train.flops_step", "-f", "csv")
    assert status == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    for row in rows:
        batch = int(row["batch_size"])
        assert int(row["memory.peak"]) == 15_517_753_344 * batch + 34_032_921_600
        assert int(row["train.flops_step"]) == 3 * 4_513_336_524_800 * batch + 14 * 2_127_057_600
    assert [row["batch_size"] for row in rows] == ["1", "2", "4", "8"]
    status, out, _ = cli("sweep", XL, "--vary", "batch_size=1,2", "--output", "memory.peak", "-f", "json")
    assert [p["outputs"]["memory.peak"] for p in json.loads(out)["points"]] == [49_550_674_944, 65_068_428_288]
    status, out, _ = cli("sweep", XL, "--vary", "batch_size=1,2", "--output", "memory.peak")
    assert "| 49,550,674,944 |" in out
    status, _, err = cli("sweep", XL, "--vary", "batch_size=1,2", "--output", "memory.peek")
    assert status == 1 and "--output: unknown output 'memory.peek' (did you mean memory.peak" in err
