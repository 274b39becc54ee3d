"""The adversarial corpus: bad input, as a user gives it, ends in one line naming what to fix.

Each file under tests/corpus/ is one mistake. Every case: exit status 1 (2 for a
usage error), exactly one line on stderr starting `acct: error: ` that names the
file and the key, cell or plugin, no traceback, nothing on stdout, no file written.
"""

import os
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "corpus"
XL = str(Path(__file__).resolve().parent.parent / "presets" / "gpt2-xl.toml")


def c(name):
    return str(CORPUS / name)


# file: (what the message names, the message)
PRESETS = {
    "not_toml.toml": ("not_toml.toml", "not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 7)"),
    "not_utf8.toml": ("not_utf8.toml", "is not UTF-8 text"),
    "missing_required.toml": ("[model]", "is missing 'num_heads' (attention heads), needed by plugin 'qkv'"),
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
    "unknown_variant.toml": ("[variants] ffn", "unknown variant 'swishglu' for slot 'ffn' (did you mean swiglu?); known: swiglu, geglu, gelu, relu, moe"),
    "top_level_typo.toml": ("top_level_typo.toml", "unknown top-level key 'num_layer' (model inputs go in the [model] table)"),
    "unknown_input.toml": ("[model] num_layer", "unknown input (did you mean num_layers, moe_layers, dense_layers?)"),
    "unused_input.toml": ("[model] sliding_window", "no chosen component reads it (it is read by attention = sliding_window)"),
    "derived_input_set.toml": ("[model] queries_per_kv", "queries_per_kv is derived (queries_per_kv = num_heads / num_kv_heads) and cannot be set"),
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
    # issue #11: bounded parsing, and no code from a data file outside its folder
    "deep_name.toml": ("deep_name.toml", "not valid TOML for acct: arrays or tables nested too deep"),
    "deep_inline_table.toml": ("deep_inline_table.toml", "nested too deep"),
    "plugin_absolute_path.toml": ("plugins: '/tmp/acct_plugin.py'", "is not relative to the preset's folder"),
    "plugin_home.toml": ("plugins: '~/plugin.py'", "is not relative to the preset's folder"),
    "plugin_parent_escape.toml": ("plugins: '../test_corpus.py'", "outside the preset's folder"),
    "plugin_symlink_escape.toml": ("plugins: 'plugins/escape.py'", "resolves to"),
    "plugin_dotdot_inside.toml": ("plugins: 'plugins/../plugins/escape.py'", "outside the preset's folder"),
    "plugin_pyc.toml": ("plugins: 'plugins/raises.pyc'", "is not a .py file"),
    "plugin_not_py.toml": ("plugins: 'plugins/notes.txt'", "is not a .py file"),
}

# hardware files, through `acct train valid.toml --hardware FILE`: (what the message names, the message)
HARDWARE = {
    "bad_hardware.toml": ("bad_hardware.toml", "memory: unknown unit 'GX'"),
    "hardware_deep.toml": ("hardware_deep.toml", "nested too deep"),
    "hardware_fractional_memory.toml": ("hardware 'gpu' memory", "'0.5' is 1/2 bytes; a byte count is a whole number"),
    # issue #20: a TOML float is read from its text, exactly; 80.5 is read, and is not whole
    "hardware_float_memory.toml": ("hardware 'gpu' memory", "80.5 is 161/2 bytes; a byte count is a whole number"),
    "hardware_float_infinite.toml": ("hardware 'gpu' bandwidth", "'inf' is not a number (e.g. 80GB, 19.5e12, 0.5)"),
    "hardware_float_gpus_per_node.toml": ("hardware 'gpu'", "gpus_per_node must be a whole number from 1 to "
                                                             "1,048,576, got 7.5"),
    "hardware_float_too_long.toml": ("hardware 'gpu' flops.fp32", "'1.00000000000000000000000000000000000000000001e12' "
                                                                  "is too long a number"),
    "hardware_float_huge_exponent.toml": ("hardware 'gpu' bandwidth", "the exponent in '1e400' is too large; at most "
                                                                      "40 in size"),
    "hardware_float_name.toml": ("hardware_float_name.toml", "'name' must be a string, got a float (1.5)"),
    "hardware_zero_memory.toml": ("hardware 'gpu' memory", "must be positive, got 0"),
    "hardware_empty_name.toml": ("hardware_empty_name.toml", "'name' is empty"),
    "hardware_whitespace_name.toml": ("hardware_whitespace_name.toml", "'name' is empty"),
    "hardware_huge_exponent.toml": ("flops.fp32", "the exponent in '1e99999999' is too large; at most 40 in size"),
    "hardware_tiny_exponent.toml": ("flops.fp32", "the exponent in '1e-5000' is too large"),
    "hardware_huge_integer.toml": ("hardware 'gpu' memory", "1,329-bit number; at most 160 bits"),
    "hardware_not_toml.toml": ("hardware_not_toml.toml", "not valid TOML"),
    "hardware_unknown_key.toml": ("hardware_unknown_key.toml", "unknown key 'memroy' (did you mean memory?)"),
    # the fields collectives and cost read: link and network bandwidth, devices per node, price
    "hardware_bad_link.toml": ("hardware 'gpu' link_bandwidth", "'fast' is not a number"),
    "hardware_negative_network.toml": ("hardware 'gpu'", "network_bandwidth must be positive, got -5"),
    "hardware_zero_gpus_per_node.toml": ("hardware 'gpu'", "gpus_per_node must be a whole number from 1 to "
                                                            "1,048,576, got 0"),
    "hardware_text_gpus_per_node.toml": ("hardware 'gpu'", "gpus_per_node must be a whole number from 1 to "
                                                            "1,048,576, got '8'"),
    "hardware_price_with_unit.toml": ("hardware 'gpu' price_per_hour", "unknown unit 'GB' in '2 GB'"),
}

# command-line mistakes: (argv, exit status, what the message names, the message)
COMMAND_LINE = {
    "missing preset": (["run", c("no_such_preset.toml")], 1, "no_such_preset.toml", "no such preset file"),
    "directory": (["run", str(CORPUS)], 1, "corpus", "is not a file"),
    "--set malformed": (["run", c("valid.toml"), "--set", "d_model"], 1, "--set 'd_model'", "expected NAME=VALUE"),
    "--set unknown name": (["run", c("valid.toml"), "--set", "d_modle=5"], 1, "--set d_modle", "unknown input (did you mean d_model?)"),
    "--set not an integer": (["run", c("valid.toml"), "--set", "d_model=1.5"], 1, "--set d_model",
                             "d_model = 1.5 gives 3/2, not a whole number"),
    # issue #20: one number syntax; a decimal is exact and bounded, and --vary says it takes whole numbers
    "--set a decimal of too many digits": (["run", c("valid.toml"), "--set", "d_model=0." + "1" * 41], 1, "--set d_model",
                                           "the number '0.111111111111111111...' is too long (at most 40 digits)"),
    "--set a decimal's huge exponent": (["run", c("valid.toml"), "--set", "d_model=1e999999"], 1, "--set d_model",
                                        "the exponent in '1e999999' is too large (at most 40 in size)"),
    "--vary a decimal": (["sweep", c("valid.toml"), "--vary", "d_model=0.5,1"], 1, "--vary d_model",
                         "'0.5' is not a whole number; --vary takes whole numbers only: run a fraction as "
                         "--set d_model=0.5"),
    "--set a non-name": (["run", c("valid.toml"), "--set", "2x=5"], 1, "--set '2x=5'", "'2x' is not a name"),
    "--variant unknown": (["run", c("valid.toml"), "--variant", "ffn=bilinear"], 1, "--variant ffn", "unknown variant 'bilinear'"),
    "solve unknown unit": (["solve", c("valid.toml"), "--largest", "batch_size", "--where", "memory.peak <= 80GX"], 1,
                           "--where", "unknown unit 'GX'"),
    "solve no comparison": (["solve", c("valid.toml"), "--largest", "batch_size", "--where", "memory.peak"], 1,
                            "--where", "expected OUTPUT OP VALUE"),
    "sweep with a bad range": (["sweep", c("valid.toml"), "--vary", "num_layers=4..2+1"], 1, "--vary num_layers", "is empty"),
    "unknown --format": (["run", c("valid.toml"), "--format", "xml"], 2, "--format", "invalid choice: 'xml'"),
    # issue #22: the phase model's inputs take only the values they name
    "--optimizer-impl unknown": (["train", c("valid.toml"), "--optimizer-impl", "cuda"], 2, "--optimizer-impl",
                                 "invalid choice: 'cuda'"),
    "--set optimizer_impl out of range": (["train", c("valid.toml"), "--activations", "sdpa", "--set", "optimizer_impl=7"],
                                          1, "--set optimizer_impl", "the optimizer implementation is 0 (forloop), "
                                          "1 (foreach) or 2 (fused), got 7"),
    "--set autocast out of range": (["train", c("valid.toml"), "--activations", "sdpa", "--set", "autocast=2"], 1,
                                    "--set autocast", "autocast is 0 (off) or 1 (on: --precision amp), got 2"),
    "unknown command": (["frobnicate"], 2, "", "invalid choice: 'frobnicate'"),
}

# issue #11, from the command line: (argv, exit status, what the message names, the message)
A_PRESET = c("valid.toml")
SOLVE = ["solve", A_PRESET]
TRUST = {
    # 1. only settable inputs are inputs
    "--vary an output": (["sweep", A_PRESET, "--vary", "total.params=1,2"], 1, "--vary total.params",
                         "total.params is an output, computed from the inputs, and cannot be set"),
    "--vary memory.peak": (["sweep", A_PRESET, "--vary", "memory.peak=1,2", "--output", "memory.peak"], 1,
                           "--vary memory.peak", "is an output"),
    "--vary train.flops_step": (["sweep", A_PRESET, "--vary", "train.flops_step=5"], 1, "--vary train.flops_step",
                                "is an output"),
    "--vary a derived input": (["sweep", A_PRESET, "--vary", "queries_per_kv=1,2"], 1, "--vary queries_per_kv",
                               "queries_per_kv is derived (queries_per_kv = num_heads / num_kv_heads) and cannot be "
                               "set; set num_heads or num_kv_heads"),
    "--vary an aggregate": (["sweep", A_PRESET, "--vary", "flops_matmul=1,2"], 1, "--vary flops_matmul", "is an output"),
    "--vary an unknown input": (["sweep", A_PRESET, "--vary", "d_modle=1,2"], 1, "--vary d_modle",
                                "unknown input (did you mean d_model?)"),
    "--set an output": (["run", A_PRESET, "--set", "total.params=5"], 1, "--set total.params", "is an output"),
    # a derived cell two steps away (rotary_dims, then unrotated_dims) breaks: the --set is blamed, not the preset
    "--set breaking a derived cell": (["run", "llama-3.2-1b", "--set", "rotary_fraction=2"], 1,
                                      "--set rotary_fraction", "unrotated_dims must be at least 0, got -64"),
    "--set an aggregate": (["run", A_PRESET, "--set", "flops_matmul=5"], 1, "--set flops_matmul", "is an output"),
    "--set a derived input": (["run", A_PRESET, "--set", "queries_per_kv=2"], 1, "--set queries_per_kv",
                              "queries_per_kv is derived (queries_per_kv = num_heads / num_kv_heads) and cannot be set"),
    "--set spare_positions": (["run", A_PRESET, "--set", "spare_positions=0"], 1, "--set spare_positions", "is derived"),
    "solve an output": (SOLVE + ["--largest", "total.params", "--where", "total.params <= 1000"], 1,
                        "--largest total.params", "is an output"),
    "solve memory.peak": (SOLVE + ["--smallest", "memory.peak", "--where", "memory.peak >= 1000"], 1,
                          "--smallest memory.peak", "is an output"),
    "solve a derived input": (SOLVE + ["--largest", "queries_per_kv", "--where", "total.params <= 1000"], 1,
                              "--largest queries_per_kv", "queries_per_kv is derived"),
    "solve an unknown input": (SOLVE + ["--largest", "batch_sise", "--where", "total.params <= 1000"], 1,
                               "--largest batch_sise", "unknown input (did you mean batch_size?)"),
    # a sweep leaves out the points the model refuses, and says so; when it refuses every point, one line
    "sweep a fractional default, csv": (["sweep", c("fraction_default.toml"), "--allow-plugins", "--vary",
                                         "d_model=100,104", "-f", "csv"], 1, "--vary d_model",
                                        "d_ff = ffn_ratio * d_model gives 800/3, not a whole number"),
    "sweep a fractional default, markdown": (["sweep", c("fraction_default.toml"), "--allow-plugins", "--vary",
                                              "d_model=100,104"], 1, "--vary d_model", "gives 800/3, not a whole number"),
    "sweep a fractional default, json": (["sweep", c("fraction_default.toml"), "--allow-plugins", "--vary",
                                          "d_model=100", "-f", "json"], 1, "--vary d_model", "not a whole number"),
    "a fractional default at run": (["run", c("fraction_default.toml"), "--allow-plugins", "--set", "d_model=100"], 1,
                                    "--set d_model", "d_ff = ffn_ratio * d_model gives 800/3, not a whole number"),
    # 2. bounded work
    "--mfu 1e-99999999": (["train", A_PRESET, "--hardware", "a100", "--mfu", "1e-99999999"], 1, "--mfu",
                          "the exponent in '1e-99999999' is too large"),
    "--mfu 1e-5000": (["train", A_PRESET, "--hardware", "a100", "--mfu", "1e-5000"], 1, "--mfu", "is too large"),
    "--mfu 1e99999999": (["train", A_PRESET, "--hardware", "a100", "--mfu", "1e99999999"], 1, "--mfu", "is too large"),
    "--where 1e99999999": (SOLVE + ["--largest", "batch_size", "--where", "memory.peak <= 1e99999999"], 1,
                           "--where", "the exponent in '1e99999999' is too large"),
    "--where 1e-5000": (SOLVE + ["--largest", "batch_size", "--where", "memory.peak <= 1e-5000"], 1,
                        "--where", "is too large"),
    "--where many digits": (SOLVE + ["--largest", "batch_size", "--where", "memory.peak <= " + "9" * 60], 1,
                            "--where", "is too long a number"),
    "--vary a value over 64 bits": (["sweep", A_PRESET, "--vary", "context_length=1..99999999999999999999999+1"], 1,
                                    "--vary context_length", "is too large; a varied value has at most 64 bits"),
    "--vary 10^30": (["sweep", A_PRESET, "--vary", "context_length=1," + "1" + "0" * 30], 1,
                     "--vary context_length", "is too large"),
    "--vary too long a range": (["sweep", A_PRESET, "--vary", "context_length=1..20000000+1"], 1,
                                "--vary context_length", "more than 10,000,000 values"),
    "--vary a grid too large": (["sweep", A_PRESET, "-f", "csv"] + [arg for name in ("context_length", "num_layers",
                                "d_model", "vocab_size") for arg in ("--vary", f"{name}=1..10000000+1")], 1,
                                "--vary", "10,000,000 × 10,000,000 points; a sweep is at most 10,000,000"),
    "--vary a markdown table too long": (["sweep", A_PRESET, "--vary", "context_length=1..1000+1",
                                          "--vary", "num_layers=1..1000+1"], 1, "--vary",
                                         "1,000,000 points is too long a markdown table"),
    # 3. acct's own words, naming where the value came from
    "--set 2,048": (["run", A_PRESET, "--set", "context_length=2,048"], 1, "--set context_length",
                    "2,048 is not a number: write 2048 or 2_048"),
    "--set 1,000,000": (["run", A_PRESET, "--set", "vocab_size=1,000,000"], 1, "--set vocab_size",
                        "write 1000000 or 1_000_000"),
    "--set 5,000 digits": (["run", A_PRESET, "--set", "d_model=" + "9" * 5000], 1, "--set d_model",
                           "formula is 5,000 characters long; the limit is 1,000"),
    "--set a 999-digit size": (["run", A_PRESET, "--set", "d_model=" + "9" * 999], 1, "--set d_model",
                               "bits; values are limited to 4,096 bits"),
    "--set heads that do not divide": (["run", XL, "--set", "num_heads=24"], 1, "--set num_heads",
                                       "d_head = d_model / num_heads gives 200/3, not a whole number"),
    "--set zero heads": (["run", XL, "--set", "num_heads=0"], 1, "--set num_heads", "num_heads must be positive, got 0"),
    "--set d_model that does not divide": (["run", XL, "--set", "d_model=1601"], 1, "--set d_model",
                                           "d_head = d_model / num_heads gives 1,601/25"),
    "--vary heads that do not divide": (["sweep", XL, "--vary", "num_heads=24,48"], 1, "--vary num_heads",
                                        "gives 200/3, not a whole number"),
    "--vary zero layers": (["sweep", A_PRESET, "--vary", "num_layers=0"], 1, "--vary num_layers",
                           "num_layers must be positive, got 0"),
    "--set from a formula": (["run", A_PRESET, "--set", "d_ff=d_model / 3"], 1, "--set d_ff",
                             "d_ff = d_model / 3 gives 128/3"),
    # 4. no code from a data file without consent; nothing written where not asked
    "a preset's plugin without consent": (["run", c("plugin_raises.toml")], 1, "plugin_raises.toml",
                                          "names Python code to run: " + c("plugins/raises.py")
                                          + "; run it only if you trust this preset: add --allow-plugins, or name "
                                          "each file with -p FILE"),
    "consent for another file is not consent": (["run", c("plugin_raises.toml"), "-p", c("plugins/ratio.py")], 1,
                                                "plugin_raises.toml", "add --allow-plugins"),
    "compare: each preset's consent": (["compare", A_PRESET, c("with_new_slot.toml")], 1, "with_new_slot.toml",
                                       "add --allow-plugins"),
    "sweep: a preset's plugin without consent": (["sweep", c("plugin_raises.toml"), "--vary", "d_model=128"], 1,
                                                 "plugin_raises.toml", "add --allow-plugins"),
    "a .pyc with -p": (["run", A_PRESET, "-p", c("plugins/raises.pyc")], 1, "raises.pyc",
                       "not a .py file; a plugin file is Python source"),
    "a directory with -p": (["run", A_PRESET, "-p", c("plugins")], 1, "plugins", "not a .py file"),
    "a component name that cannot name a cell": (["train", A_PRESET, "-p", c("plugins/name_with_markup.py")], 1,
                                                 "name_with_markup.py", "component 'bad|row x': a component's name "
                                                 "is a name its cells can carry"),
    "--plot a file that is not an image": (["sweep", A_PRESET, "--vary", "d_model=128", "--plot", c("chart.pdf")], 1,
                                     "--plot", "the file must end in .svg or .png"),
    # issue #20: an output is checked before any work, and is never one of the command's inputs
    "--plot over its own input": (["sweep", A_PRESET, "--vary", "d_model=128", "--plot", c("valid.toml"), "--force"],
                                  1, "--plot", "valid.toml: is the command's own input; acct never writes over what "
                                  "it reads: name another file"),
    "--plot in a missing folder": (["compare", A_PRESET, "--plot", c("no_folder/chart.svg")], 1,
                                   "--plot", "the folder " + c("no_folder") + " does not exist; create it first"),
    "--plot a folder": (["compare", A_PRESET, "--plot", c("plugins"), "--force"], 1, "--plot",
                        "plugins: is a folder; name the file to write"),
    "--plot under a file": (["compare", A_PRESET, "--plot", c("valid.toml/chart.svg")], 1, "--plot",
                            "a part of the path is a file, not a folder"),
    "--disable an unknown plugin": (["run", A_PRESET, "--disable", "nroms"], 1, "--disable nroms",
                                    "no plugin is named 'nroms' (did you mean norms?)"),
    "--disable on acct plugins": (["plugins", "--disable", "nonexistent"], 1, "--disable nonexistent",
                                  "no plugin is named 'nonexistent'"),
    # 5. a usage mistake is argparse's exit 2
    "--allow-plugins on plugins": (["plugins", "--allow-plugins"], 2, "", "unrecognized arguments: --allow-plugins"),
    "--force on run, which draws nothing": (["run", A_PRESET, "--force"], 2, "", "unrecognized arguments: --force"),
    "--vary missing": (["sweep", A_PRESET], 2, "", "the following arguments are required: --vary"),
}
COMMAND_LINE.update(TRUST)


def tree(folder=CORPUS):
    """Every path under the corpus, to check that a failing command wrote nothing (no
    __pycache__ beside a plugin, no chart)."""
    return sorted(os.path.relpath(os.path.join(root, name), folder)
                  for root, dirs, files in os.walk(folder) for name in dirs + files)


@pytest.fixture(autouse=True)
def nothing_written():
    before = tree()
    yield
    assert tree() == before


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


@pytest.mark.parametrize("name", sorted(HARDWARE))
def test_bad_hardware_file(cli, name):
    names, message = HARDWARE[name]
    check(*cli("train", c("valid.toml"), "--hardware", c(name)), 1, names, message)


@pytest.mark.parametrize("case", COMMAND_LINE)
def test_bad_command_line(cli, case):
    argv, status, names, message = COMMAND_LINE[case]
    check(*cli(*argv), status, names, message)


def test_the_corpus_is_large_and_every_file_is_used():
    named = {Path(arg).name for argv, *_ in COMMAND_LINE.values() for arg in argv}
    files = {path.name for path in CORPUS.glob("*.toml")}
    assert files == set(PRESETS) | set(HARDWARE) | (named & files)
    assert len(PRESETS) + len(HARDWARE) + len(COMMAND_LINE) >= 40 + 60  # issue #11 added 60 cases
    plugins = {path.name for path in (CORPUS / "plugins").glob("*.py")}
    texts = [(CORPUS / f).read_text() for f in files if "plugin" in f or f in named]
    used = {name for name in plugins if any(name in text for text in texts) or name in named}
    assert used == plugins


def test_the_valid_preset_runs(cli):
    status, out, err = cli("run", c("valid.toml"), "-f", "csv")
    assert status == 0, err
    # V·D + L·(4·D² + 3·D·F + 2·D) + D + D·V with V=1,000, D=128, L=2, F=512
    assert out.splitlines()[-1].split(",")[9] == str(1000 * 128 * 2 + 2 * (4 * 128**2 + 3 * 128 * 512 + 2 * 128) + 128)


@pytest.mark.parametrize("argv", [
    # every point is refused (a sweep leaves out the points the model refuses, and fails when that is all)
    ["sweep", XL, "--vary", "num_heads=24,48"],
    ["sweep", c("fraction_default.toml"), "--allow-plugins", "--vary", "d_model=100,104"],
    # the chart options' own mistake, found before the (valid) sweep is computed
    ["sweep", c("valid.toml"), "--vary", "d_model=128,256", "--chart", "mermaid", "-f", "json"],
    ["compare", c("valid.toml"), c("with_new_slot.toml")],
])
def test_nothing_is_written_on_error(cli, tmp_path, argv):
    plot = tmp_path / "chart.svg"
    status, out, err = cli(*argv, "--plot", str(plot))
    assert status == 1 and out == "" and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_name_in_the_disable_variable(cli, monkeypatch):
    monkeypatch.setenv("ACCT_DISABLE_PLUGINS", "head, xx")
    check(*cli("run", c("valid.toml")), 1, "ACCT_DISABLE_PLUGINS=xx", "no plugin is named 'xx'")


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
