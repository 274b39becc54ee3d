"""Presets that are broken in the ways people break them: each a one-line error naming file and key."""

import pytest

from conftest import PRESETS

XL = (PRESETS / "gpt2-xl.toml").read_text()


def preset(tmp_path, text, name="model.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def edited(old, new):
    assert old in XL
    return XL.replace(old, new)


CASES = {
    "not TOML": ("[model\nd_model = 1", "not valid TOML: "),
    "unknown top-level key": ("num_layer = 48\n" + XL, "unknown top-level key 'num_layer' (model inputs go in the [model] table)"),
    "top-level typo": ("varients = {}\n", "unknown top-level key 'varients' (did you mean variants?)"),
    "string input": (edited("d_model = 1600", 'd_model = "big"'), "unknown name 'big' in formula 'big'"),
    "float input": (edited("d_model = 1600", "d_model = 1600.0"), "[model] d_model: expected a whole number or a formula string, got a float (1600.0)"),
    "bool input": (edited("d_model = 1600", "d_model = true"), "got a boolean (true)"),
    "array input": (edited("d_model = 1600", "d_model = [1600]"), "got an array"),
    "table input": (edited("d_model = 1600", "d_model = {a = 1}"), "got a table"),
    "zero size": (edited("num_layers = 48", "num_layers = 0"), "[model] num_layers: num_layers must be positive, got 0"),
    "negative size": (edited("vocab_size = 50257", "vocab_size = -5"), "vocab_size must be positive, got -5"),
    "heads do not divide": (edited("num_heads = 25", "num_heads = 24"), "d_head = d_model / num_heads gives 200/3, not a whole number (with d_model = 1,600, num_heads = 24)"),
    "missing input": (edited("num_heads = 25\n", ""), "[model] is missing 'num_heads' (attention heads), needed by plugin 'qkv'"),
    "unknown input": (edited("num_layers = 48", "num_layer = 48"), "[model] num_layer: unknown input (did you mean num_layers, moe_layers, dense_layers?)"),
    "unknown slot": (edited('ffn = "swiglu"', 'fnn = "swiglu"'), "[variants] fnn: unknown slot 'fnn' (did you mean ffn?)"),
    "unknown variant": (edited('ffn = "swiglu"', 'ffn = "swishglu"'), "[variants] ffn: unknown variant 'swishglu' for slot 'ffn' (did you mean swiglu?); known: swiglu"),
    "variant not a string": (edited('ffn = "swiglu"', "ffn = 3"), "[variants] ffn: expected a variant name, got int"),
    "model not a table": ('model = 3\n', "[model] must be a table, got int"),
    "cycle": (edited('d_ff = "4 * d_model"', 'd_ff = "4 * d_head"\n').replace("num_heads = 25", 'num_heads = "d_ff / 256"'), "cycle among cells:"),
    "division by zero": (edited('d_ff = "4 * d_model"', 'd_ff = "d_model / (num_layers - 48)"'), "division by zero in d_ff = d_model / (num_layers - 48) (with d_model = 1,600, num_layers = 48)"),
    "derived input set": (edited("num_heads = 25", "num_heads = 25\nqueries_per_kv = 1"), "[model] queries_per_kv: queries_per_kv is derived (queries_per_kv = num_heads / num_kv_heads) and cannot be set"),
    "plugins not a list": ('plugins = "x.py"\n', "'plugins' must be a list of file paths, got a string ('x.py')"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_preset(cli, tmp_path, case):
    text, message = CASES[case]
    path = preset(tmp_path, text)
    status, out, err = cli("run", path)
    assert (status, out) == (1, "")
    assert err.startswith(f"acct: error: {path}") and err.count("\n") == 1, err
    assert message in err, err


def test_missing_file_and_directory(cli, tmp_path):
    assert cli("run", str(tmp_path / "nope.toml"))[2] == f"acct: error: {tmp_path / 'nope.toml'}: no such preset file\n"
    assert cli("run", str(tmp_path))[2] == f"acct: error: {tmp_path}: is not a file\n"


def test_not_utf8(cli, tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    assert cli("run", str(path))[2] == f"acct: error: {path}: is not UTF-8 text\n"


def test_traceback_switch_shows_the_traceback(cli, tmp_path):
    path = preset(tmp_path, "[model\n")
    status, _, err = cli("--traceback", "run", path)
    assert status == 1
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().splitlines()[-1].startswith("acct: error: ")


def test_internal_errors_are_one_line_too(cli, monkeypatch):
    import acct.cli

    def broken(args):
        raise KeyError("boom")

    monkeypatch.setitem(acct.cli.COMMANDS, "run", broken)
    status, _, err = cli("run", str(PRESETS / "gpt2-xl.toml"))
    assert status == 1
    assert err == "acct: error: internal error KeyError: 'boom' (rerun with --traceback and report it)\n"
