"""The command line through main([...]): every format, --set, and the exit statuses 0, 1 and 2."""

import csv
import io
import json
import subprocess
import sys

import pytest

from conftest import PRESETS

XL = str(PRESETS / "gpt2-xl.toml")


def test_markdown_report(cli):
    status, out, err = cli("run", XL)
    assert status == 0 and err == ""
    assert "**2,127,057,600 parameters (2.13 B)**" in out
    assert "| fp32        |             4 | 8,508,230,400 |            7.92 |         8.51 |" in out
    assert "**4,513,336,524,800 FLOPs (4.51 TFLOPs) per forward pass**; one block takes 90,596,966,400." in out
    assert "| attn_scores | H × (T×d_k)·(d_k×T) | 2·T²·H·d_k     |   3,355,443,200 | ×48 |" in out
    assert "| d_head          | d_k      |      64 | = D/H     |" in out
    # (c): which parts take the most FLOPs, largest first
    groups = out.split("## Where the FLOPs go")[1]
    assert groups.index("| FFN ") < groups.index("| attention projections ") < groups.index("| LM head ")
    assert "| FFN                         | 3,019,898,880,000 |   66.9% |" in groups
    assert "Conventions: FLOPs count matrix multiplies only, 2·m·k·n" in out
    assert "causal mask is not halved" in out


def test_json_report_is_exact_and_follows_the_schema(cli):
    status, out, _ = cli("run", XL, "--format", "json")
    assert status == 0
    data = json.loads(out)
    assert data["schema"] == "acct.report/1"
    assert data["totals"]["params"] == 2_127_057_600
    assert data["totals"]["flops_forward"] == 4_513_336_524_800
    assert data["totals"]["flops_forward_per_layer"] == 90_596_966_400
    lm_head = next(row for row in data["rows"] if row["name"] == "lm_head")
    assert lm_head == {
        "name": "lm_head", "slot": "lm_head", "variant": "untied", "group": "LM head",
        "description": "LM head (its own D×V weight)", "per_layer": False, "multiplicity": 1,
        "multiplicity_formula": "1", "shape": "(T×D)·(D×V)",
        "params_formula": "d_model * vocab_size", "params_display": "D·V",
        "params_each": 80_411_200, "params": 80_411_200,
        "flops_formula": "2 * context_length * d_model * vocab_size", "flops_display": "2·T·D·V",
        "flops_forward_each": 164_682_137_600, "flops_forward": 164_682_137_600,
    }
    assert sum(row["params"] for row in data["rows"]) == data["totals"]["params"]
    assert data["inputs"]["d_head"] == {"value": 64, "symbol": "d_k", "derived": "D/H",
                                        "description": "width of one attention head"}


def test_csv_report(cli):
    status, out, _ = cli("run", XL, "-f", "csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[-1]["name"] == "total"
    assert int(rows[-1]["params"]) == 2_127_057_600
    assert int(rows[-1]["flops_forward"]) == 4_513_336_524_800
    q_proj = next(row for row in rows if row["name"] == "q_proj")
    assert (q_proj["multiplicity"], q_proj["flops_forward_each"], q_proj["flops_forward"]) == (
        "48", "5242880000", str(48 * 5_242_880_000),
    )


def test_set_overrides_an_input(cli):
    status, out, _ = cli("run", XL, "--set", "context_length=16384", "-f", "json")
    assert status == 0
    assert json.loads(out)["totals"]["flops_forward"] == 149_522_795_724_800


def test_set_accepts_a_formula(cli):
    # d_ff = 8·D/3 rounded up to 64, as LLaMA sizes it: 4,267 -> 4,288
    status, out, _ = cli("run", XL, "--set", "d_ff=round_up(8 * d_model / 3, 64)", "-f", "json")
    assert status == 0
    assert json.loads(out)["inputs"]["d_ff"]["value"] == 4_288


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "missing.toml"], "acct: error: missing.toml: no such preset file"),
        (["run", XL, "--set", "context_length"], "expected NAME=VALUE"),
        (["run", XL, "--set", "context_lenght=5"], "--set context_lenght: unknown input (did you mean context_length?)"),
        (["run", XL, "--set", "context_length=1.5"], "--set context_length: context_length = 1.5 gives 3/2, not a whole number"),
        (["run", XL, "--set", "num_heads=24"], "d_head = d_model / num_heads gives 200/3, not a whole number"),
        (["run", XL, "--set", "d_model=0"], "--set d_model: d_model must be positive, got 0"),
        (["run", XL, "--set", "queries_per_kv=2"], "--set queries_per_kv: queries_per_kv is derived (queries_per_kv = num_heads / num_kv_heads)"),
        (["run", XL, "--set", "d_ff=d_ff * 2"], "cycle among cells: d_ff → d_ff"),
        (["run", XL, "--set", "d_ff=__import__('os')"], "a call to '__import__'"),
    ],
)
def test_errors_are_one_line_with_status_1(cli, argv, message):
    status, out, err = cli(*argv)
    assert status == 1
    assert out == ""
    assert err.startswith("acct: error: ") and err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [[], ["run"], ["run", XL, "--format", "xml"], ["frobnicate"]])
def test_usage_errors_exit_2(cli, argv):
    status, _, err = cli(*argv)
    assert status == 2
    assert "usage: acct" in err


def test_plugins_lists_the_builtins(cli):
    status, out, _ = cli("plugins", "-f", "json")
    assert status == 0
    listing = {plugin["name"]: plugin for plugin in json.loads(out)}
    assert listing["ffn"]["origin"] == "builtin"
    assert "ffn=swiglu" in listing["ffn"]["provides"]
    assert "input d_ff" in listing["ffn"]["provides"]
    status, out, _ = cli("plugins")
    assert "| head " in out and "lm_head=untied" in out


def test_python_dash_m_runs_from_any_directory(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "acct", "run", XL, "-f", "csv"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].endswith(",2127057600,,,4513336524800")


def test_tables_are_drawn_by_tabulate_in_any_of_its_formats(cli):
    """--tablefmt passes any tabulate format to every table of the markdown report; the default is
    github. Bold markers are kept only where the format reads markdown."""
    status, out, err = cli("run", XL)
    assert status == 0, err
    assert "| **total**       |            |            |     | **2,127,057,600** |  100.0% |" in out
    status, rst, err = cli("run", XL, "--tablefmt", "rst")
    assert status == 0, err
    assert "===============  ==========  ==========  ===  =============  =======" in rst
    assert "\ntotal " in rst and "**" not in rst.split("## Parameters")[1].split("\n\n", 2)[1]
    status, org, _ = cli("run", XL, "--tablefmt", "orgtbl")
    assert "|-----------------+------------+------------+-----+---------------+---------|" in org
    status, out, err = cli("run", XL, "--tablefmt", "githubb")
    assert (status, out) == (1, "")
    assert err.startswith("acct: error: --tablefmt: unknown table format 'githubb' (did you mean github")


def test_latex_booktabs_tables_are_well_formed(cli):
    """No TeX here: a structure check. Every tabular opens and closes, has the booktabs rules, as many
    cells per row as columns, and LaTeX's special characters escaped."""
    import re

    status, out, err = cli("run", XL, "--tablefmt", "latex_booktabs")
    assert status == 0, err
    tables = re.findall(r"\\begin\{tabular\}\{([lrc]+)\}\n(.*?)\\end\{tabular\}", out, re.S)
    assert len(tables) == 5
    for columns, body in tables:
        lines = body.strip().splitlines()
        assert lines[0] == "\\toprule" and lines[2] == "\\midrule" and lines[-1] == "\\bottomrule"
        for line in [lines[1], *lines[3:-1]]:
            assert line.endswith("\\\\")
            assert len(re.split(r"(?<!\\)&", line)) == len(columns)
            assert not re.search(r"(?<!\\)[%_#]", line)  # escaped
    assert "token\\_embedding & V·D" in out and "2,127,057,600 &  100.0\\% \\\\" in out
