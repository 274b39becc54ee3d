"""The adversarial corpus: bad input, as a user gives it, ends in one line naming what to fix.

Each file under tests/corpus/ is one mistake. Every case: exit status 1 (2 for a
usage error), exactly one line on stderr starting `acct: error: ` that names the
file and the key, cell or plugin, no traceback, nothing on stdout, no file written.
"""

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "corpus"


def c(name):
    return str(CORPUS / name)


# file: (what the message names, the message)
PRESETS = {
    "not_toml.toml": ("not_toml.toml", "not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 7)"),
    "not_utf8.toml": ("not_utf8.toml", "is not UTF-8 text"),
    "missing_required.toml": ("[model]", "is missing 'num_heads' (attention heads), needed by d_head"),
    "string_input.toml": ("[model] d_model", "unknown name 'big' in formula 'big'"),
    "float_input.toml": ("[model] d_model", "expected a whole number or a formula string, got a float (128.0)"),
    "bool_input.toml": ("[model] d_model", "got a boolean (true)"),
    "array_input.toml": ("[model] d_model", "got an array"),
    "table_input.toml": ("[model] d_model", "got a table"),
    "zero_size.toml": ("[model] num_layers", "num_layers must be positive, got 0"),
    "negative_size.toml": ("[model] vocab_size", "vocab_size must be positive, got -1,000"),
    "heads_do_not_divide.toml": ("d_head", "d_head = d_model / num_heads gives 128/3, not a whole number (with d_model = 128, num_heads = 3)"),
    "kv_heads_do_not_divide.toml": ("queries_per_kv", "queries_per_kv = num_heads / num_kv_heads gives 4/3, not a whole number"),
    "unknown_slot.toml": ("[variants] fnn", "unknown slot 'fnn' (did you mean ffn?)"),
    "unknown_variant.toml": ("[variants] ffn", "unknown variant 'swishglu' for slot 'ffn' (did you mean swiglu?); known: swiglu, gelu"),
    "top_level_typo.toml": ("top_level_typo.toml", "unknown top-level key 'num_layer' (model inputs go in the [model] table)"),
    "unknown_input.toml": ("[model] num_layer", "unknown input (did you mean num_layers?)"),
    "unused_input.toml": ("[model] num_kv_heads", "no chosen component reads it (it is read by qkv = gqa)"),
    "derived_input_set.toml": ("[model] d_head", "d_head is derived (d_head = d_model / num_heads) and cannot be set"),
    "syntax_error.toml": ("[model] d_ff", "syntax error in formula '4 *': invalid syntax"),
    "empty_formula.toml": ("[model] d_ff", "empty formula"),
    "attribute.toml": ("[model] d_ff", "attribute access in formula 'd_model.real'"),
    "subscript.toml": ("[model] d_ff", "subscripts in formula 'd_model[0]'"),
    "call_outside_list.toml": ("[model] d_ff", "a call to 'open' in formula 'open(1)'"),
    "dunder_import.toml": ("[model] d_ff", "a call to \"__import__('os').system\""),
    "lambda.toml": ("[model] d_ff", "lambda in formula 'lambda: 1'"),
    "comprehension.toml": ("[model] d_ff", "comprehensions in formula '[x for x in (1, 2)]'"),
    "fstring.toml": ("[model] d_ff", "f-strings in formula"),
    "walrus.toml": ("[model] d_ff", "assignment (:=) in formula '(x := 4) * d_model'"),
    "cycle.toml": ("[model] d_model", "cycle among cells: d_model → d_ff → d_model"),
    "division_by_zero.toml": ("[model] d_ff", "division by zero in d_ff = d_model / (num_layers - 2) (with d_model = 128, num_layers = 2)"),
    "zero_to_negative_power.toml": ("[model] d_ff", "division by zero in d_ff = (num_layers - 2) ** -1"),
    "huge_exponent.toml": ("[model] d_ff", "an exponent that is not a whole-number literal in formula '10 ** 10 ** 10'"),
    "large_exponent.toml": ("[model] d_ff", "the exponent 100000 (at most 64 in size)"),
    "enormous_integer.toml": ("[model] d_ff", "bits; values are limited to 4,096 bits"),
    "very_long_formula.toml": ("[model] d_ff", "formula is 1,599 characters long; the limit is 1,000"),
    "deep_nesting.toml": ("[model] d_ff", "nesting deeper than 200 levels"),
    "not_whole.toml": ("[model] d_ff", "d_ff = d_model / 3 gives 128/3, not a whole number (with d_model = 128)"),
    "unknown_training_key.toml": ("[training] precison", "unknown key (did you mean precision?)"),
    "unknown_precision.toml": ("[training] precision", "unknown precision 'fp8'; known: fp32, mixed"),
    "unknown_bias_target.toml": ("biases", "no chosen component or group is named 'q_porj' (did you mean q_proj"),
    "missing_plugin_file.toml": ("plugins/not_there.py", "plugin 'not_there'"),
    "plugin_import_error.toml": ("plugins/import_error.py", "failed to import: ModuleNotFoundError: No module named 'a_module_that_is_not_installed'"),
    "plugin_raises.toml": ("plugins/raises.py", "acct_register_components raised RuntimeError: oops"),
    "plugin_duplicate_variant.toml": ("plugins/duplicate_variant.py", "slot 'ffn' variant 'swiglu' is provided by both plugin 'ffn'"),
    "plugin_missing_field.toml": ("plugins/missing_field.py", "missing 1 required positional argument: 'flops'"),
    "plugin_bad_formula.toml": ("plugins/bad_formula.py", "component 'w' params: syntax error in formula 'd_model *'"),
    "plugin_unknown_hook.toml": ("plugins/unknown_hook.py", "unknown hook 'acct_register_component'"),
}

# command-line mistakes: (argv, exit status, what the message names, the message)
COMMAND_LINE = {
    "missing preset": (["run", c("no_such_preset.toml")], 1, "no_such_preset.toml", "no such preset file"),
    "directory": (["run", str(CORPUS)], 1, "corpus", "is not a file"),
    "--set malformed": (["run", c("valid.toml"), "--set", "d_model"], 1, "--set 'd_model'", "expected NAME=VALUE"),
    "--set unknown name": (["run", c("valid.toml"), "--set", "d_modle=5"], 1, "--set d_modle", "unknown input (did you mean d_model?)"),
    "--set not an integer": (["run", c("valid.toml"), "--set", "d_model=1.5"], 1, "--set d_model", "the float 1.5"),
    "--set a non-name": (["run", c("valid.toml"), "--set", "2x=5"], 1, "--set '2x=5'", "'2x' is not a name"),
    "--variant unknown": (["run", c("valid.toml"), "--variant", "ffn=moe"], 1, "--variant ffn", "unknown variant 'moe'"),
    "solve unknown unit": (["solve", c("valid.toml"), "--largest", "batch_size", "--where", "memory.peak <= 80GX"], 1,
                           "--where", "unknown unit 'GX'"),
    "solve no comparison": (["solve", c("valid.toml"), "--largest", "batch_size", "--where", "memory.peak"], 1,
                            "--where", "expected OUTPUT OP VALUE"),
    "bad hardware file": (["train", c("valid.toml"), "--hardware", c("bad_hardware.toml")], 1, "bad_hardware.toml",
                          "memory: unknown unit 'GX'"),
    "sweep with a bad range": (["sweep", c("valid.toml"), "--vary", "num_layers=4..2+1"], 1, "--vary num_layers", "is empty"),
    "unknown --format": (["run", c("valid.toml"), "--format", "xml"], 2, "--format", "invalid choice: 'xml'"),
    "unknown command": (["frobnicate"], 2, "", "invalid choice: 'frobnicate'"),
}


def check(status, out, err, expected_status, names, message):
    assert status == expected_status, err
    assert out == ""
    assert "Traceback" not in err
    if expected_status == 1:
        assert err.startswith("acct: error: ") and err.count("\n") == 1, err
    else:
        assert "usage: acct" in err
    assert names in err, err
    assert message in err, err


def consent(name):
    """A preset naming plugin files runs them only with --allow-plugins."""
    return ["--allow-plugins"] if "plugin" in name else []


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_bad_preset(cli, name):
    names, message = PRESETS[name]
    check(*cli("run", c(name), *consent(name)), 1, names, message)


@pytest.mark.parametrize("case", COMMAND_LINE)
def test_bad_command_line(cli, case):
    argv, status, names, message = COMMAND_LINE[case]
    check(*cli(*argv), status, names, message)


def test_the_corpus_is_large_and_every_file_is_used():
    files = {path.name for path in CORPUS.glob("*.toml")} - {"valid.toml", "bad_hardware.toml"}
    assert files == set(PRESETS)
    assert len(PRESETS) + len(COMMAND_LINE) >= 40
    plugins = {path.name for path in (CORPUS / "plugins").glob("*.py")}
    used = {name for name in plugins if any(name in (CORPUS / f).read_text() for f in PRESETS if f.startswith("plugin"))}
    assert used == plugins


def test_the_valid_preset_runs(cli):
    status, out, err = cli("run", c("valid.toml"), "-f", "csv")
    assert status == 0, err
    # V·D + L·(4·D² + 3·D·F + 2·D) + D + D·V with V=1,000, D=128, L=2, F=512
    assert out.splitlines()[-1].split(",")[9] == str(1000 * 128 * 2 + 2 * (4 * 128**2 + 3 * 128 * 512 + 2 * 128) + 128)


@pytest.mark.parametrize("name", ["cycle.toml", "plugin_raises.toml"])
def test_nothing_is_written_on_error(cli, tmp_path, name):
    plot = tmp_path / "chart.svg"
    status, out, _ = cli("sweep", c(name), "--vary", "context_length=64,128", "--plot", str(plot))
    assert status == 1 and out == "" and not plot.exists()


def test_the_traceback_switch(cli, monkeypatch):
    status, _, err = cli("--traceback", "run", c("cycle.toml"))
    assert status == 1 and "Traceback (most recent call last)" in err and "SheetError" in err
    status, _, err = cli("run", c("cycle.toml"), "--traceback")  # after the command too
    assert status == 1 and "Traceback (most recent call last)" in err
    status, _, err = cli("run", c("cycle.toml"))
    assert "Traceback" not in err
    monkeypatch.setenv("ACCT_TRACEBACK", "1")
    status, _, err = cli("run", c("plugin_raises.toml"), "--allow-plugins")
    assert status == 1 and err.rstrip().splitlines()[-1].startswith("acct: error: ")
    assert 'raises.py", line 6, in acct_register_components' in err  # the plugin's own frame
