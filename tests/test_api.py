"""The Python API: acct.load and acct.compare, Models and Results, as a notebook uses them; the same
numbers and the same JSON as the command line, which is a thin layer over it."""

import json

import pytest

import acct
from conftest import PRESETS

XL = str(PRESETS / "gpt2-xl.toml")


def test_a_notebook_cell_shows_the_report_as_markdown():
    """What Jupyter calls to display a Result: _repr_markdown_ (and _repr_html_ where a page exists)."""
    result = acct.load("gpt2-xl").report()
    shown = result._repr_markdown_()
    assert shown.startswith("# gpt2-xl\n")
    assert "**2,127,057,600 parameters (2.13 B)**" in shown
    assert "| **total**       |            |            |     | **2,127,057,600** |  100.0% |" in shown
    page = result._repr_html_()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert acct.load("gpt2-xl").conventions()._repr_html_() is None  # no page for this kind: markdown shows


@pytest.mark.parametrize("argv, method", [
    (["run", XL], lambda m: m.report()),
    (["conventions", XL], lambda m: m.conventions()),
    (["train", XL, "--hardware", "h100", "--mfu", "0.4"], lambda m: m.train(hardware="h100", mfu="0.4")),
    (["infer", XL], lambda m: m.infer()),
    (["solve", XL, "--largest", "batch_size", "--where", "memory.peak <= 80GB"],
     lambda m: m.solve("memory.peak <= 80GB", largest="batch_size")),
    (["sweep", XL, "--vary", "context_length=1024,2048"], lambda m: m.sweep({"context_length": [1024, 2048]})),
])
def test_the_api_and_the_command_line_print_the_same_json(cli, argv, method):
    status, out, err = cli(*argv, "-f", "json")
    assert status == 0, err
    result = method(acct.load(XL))
    assert result.to_dict() == json.loads(out)
    assert result.to_json() == out
    status, csv, _ = cli(*argv, "-f", "csv")
    assert result.to_csv() == csv


def test_compare_and_its_rows():
    result = acct.compare("gpt2-small", "gpt2-xl", by="component")
    rows = result.rows
    assert [(row["model"], row["params"]) for row in rows] == [("gpt2-small", 190_460_160), ("gpt2-xl", 2_127_057_600)]
    assert "| ffn_w1 " in result.to_markdown()  # a row per component


def test_rows_as_a_dataframe():
    pytest.importorskip("pandas")  # the [pandas] extra; CI installs it and fails without it (conftest.py)
    frame = acct.load("gpt2-xl").report().to_pandas()
    assert list(frame["name"])[:3] == ["token_embedding", "rope", "q_proj"]
    assert int(frame["params"].sum()) == 2_127_057_600


def test_options_and_cells():
    model = acct.load("gpt2-xl", set={"context_length": "2 * 1024"}, precision="mixed")
    assert model.value("context_length") == 2048
    assert model.value("memory.weights") == 2 * 2_127_057_600
    assert model.with_(set={"batch_size": 8}).value("train.tokens_per_step") == 8 * 2048
    assert acct.load("deepseek-v2-lite").params_active == 2_661_150_208
    assert repr(model) == "<acct.Model gpt2-xl: 2,127,057,600 parameters>"


@pytest.mark.parametrize("call, message", [
    (lambda: acct.load("no-such-model"), "no-such-model"),
    (lambda: acct.load("gpt2-xl", set={"d_modle": 5}), "--set d_modle: unknown input (did you mean d_model?)"),
    (lambda: acct.load("gpt2-xl").value("memory.peek"), "unknown cell 'memory.peek' (did you mean memory.peak"),
    (lambda: acct.load("gpt2-xl").report().to_markdown(tablefmt="latexx"), "unknown table format 'latexx'"),
    (lambda: acct.load("gpt2-xl").solve("memory.peak <= 80GB"), "give the input to maximize"),
    (lambda: acct.compare(), "compare: name at least one model"),
])
def test_errors_are_acct_errors_with_the_command_lines_messages(call, message):
    with pytest.raises(acct.AcctError) as error:
        call()
    assert message in str(error.value)


def test_a_preset_names_plugin_files_only_with_consent(tmp_path):
    plugin = tmp_path / "extra.py"
    plugin.write_text("import acct\n")
    preset = tmp_path / "m.toml"
    preset.write_text('plugins = ["extra.py"]\n' + (PRESETS / "gpt2-xl.toml").read_text())
    with pytest.raises(acct.AcctError, match="add --allow-plugins"):
        acct.load(preset)
    result = acct.load(preset, allow_plugins=True).report()
    assert result.to_dict()["plugin_files"] == [str(plugin)]


def test_a_method_may_read_an_input_another_does_not():
    """The API builds one whole sheet: steps, set for train, is no error for the other methods."""
    model = acct.load("gpt2-small")
    assert model.train(steps=5).to_dict()["steps"] == 5
    assert model.with_(set={"steps": 5}).params == 190_460_160


@pytest.mark.parametrize("call, message", [
    (lambda m: m.sweep({"num_layers": range(1, 10**9)}), "more than 10,000,000 points"),
    (lambda m: m.sweep({"num_layers": [1.5]}), "the values of num_layers must be whole numbers"),
    (lambda m: m.sweep({"num_layers": 12}), "must be a list, a range or a --vary text, got int"),
    (lambda m: m.sweep({"queries_per_kv": [2]}), "--vary queries_per_kv"),
    (lambda m: m.train(hardware="a100", gpus=1.5), "--gpus: a whole number of devices, got 1.5"),
    (lambda m: m.with_(set=[("num_layers", 2)]), "set maps names to int or str values"),
    (lambda m: m.with_(foo=1), "with_: unknown option 'foo'"),
    (lambda m: acct.load(5), "a model is named by a preset path"),
    (lambda m: acct.compare(m), "a model is named by a preset path"),
    (lambda m: m.report().to_markdown(tablefmt=None), "--tablefmt: a tabulate format's name, got None"),
])
def test_wrong_arguments_are_acct_errors(call, message):
    with pytest.raises(acct.AcctError) as error:
        call(acct.load("gpt2-small"))
    assert message in str(error.value)


def test_a_sweep_text_is_read_as_vary_reads_it():
    rows = acct.load("gpt2-small").sweep({"num_layers": "12"}).rows
    assert [(row["num_layers"], row["params"]) for row in rows] == [(12, 190_460_160)]


@pytest.mark.parametrize("method, kwargs, message", [
    # each was a TypeError or AttributeError from deep inside, not a one-line AcctError
    ("train", {"lora_rank": 16, "lora_targets": 5}, "--lora-targets: row names, got 5"),
    ("train", {"lora_rank": 16, "lora_targets": []},
     "--lora-targets: no row named; give one or more, e.g. q_proj,v_proj"),  # was every default row, silently
    ("train", {"hardware": 5}, "--hardware: a name or a FILE.toml, got 5"),
    ("infer", {"hardware": "h100", "weights": 4}, "--weights: a dtype name, got 4"),
    ("infer", {"hardware": "h100", "kv_dtype": 1}, "--kv-dtype: a dtype name, got 1"),
    ("solve", {"where": 5, "largest": "batch_size"},
     "solve: the input (largest) and the condition (where) are texts, got 'batch_size' and 5"),
])
def test_wrong_types_of_the_new_keywords_are_one_line_errors(method, kwargs, message):
    model = acct.load("llama-3-8b")
    with pytest.raises(acct.AcctError) as error:
        getattr(model, method)(**kwargs)
    assert str(error.value) == message


def test_empty_lora_targets_on_the_command_line_are_refused(cli):
    status, out, err = cli("train", "llama-3-8b", "--lora-rank", "4", "--lora-targets", "")
    assert (status, out) == (1, "")
    assert err == "acct: error: --lora-targets: no row named; give one or more, e.g. q_proj,v_proj\n"
