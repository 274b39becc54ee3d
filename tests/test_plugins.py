"""Plugins from their three places — builtin, entry points, local files — and every way one can fail."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import acct.hookspecs
from acct.model.registry import load_registry
from conftest import EXAMPLES, PRESETS, ROOT


XL = str(PRESETS / "gpt2-xl.toml")


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


# -- a local plugin file --------------------------------------------------------


LINEAR = str(EXAMPLES / "linear-attention" / "mistral-7b-32k.toml")


def test_a_local_plugin_named_by_the_preset_changes_its_report(cli):
    """examples/linear-attention: a variant of the attention slot, with no edit under core/ or plugins/."""
    status, out, err = cli("run", LINEAR, "-f", "json", "--allow-plugins")
    assert status == 0, err
    data = json.loads(out)
    rows = {row["name"]: row for row in data["rows"]}
    T, H, d_k, L = 32_768, 32, 128, 32
    assert rows["kv_state"]["variant"] == "linear" and "attn_scores" not in rows
    # φ(K)ᵀ·V and φ(Q)·S, d_φ = d_k by default: 2·T·H·d_k·d_v each, linear in T
    assert rows["kv_state"]["flops_forward_each"] == rows["attn_linear"]["flops_forward_each"] \
        == 2 * T * H * d_k * d_k == 34_359_738_368
    assert rows["attn_linear"]["shape"] == "H × (T×d_φ)·(d_φ×d_v)"
    assert data["totals"]["params"] == 7_241_732_096  # attention variants add no parameters
    # the builtin dense products over all T keys cost T/d_k = 256 times as much
    status, out, _ = cli("run", LINEAR, "-f", "json", "--allow-plugins", "--variant", "attention=dot_product")
    dense = {row["name"]: row for row in json.loads(out)["rows"]}
    assert dense["attn_scores"]["flops_forward_each"] == 2 * T * T * H * d_k == 256 * 34_359_738_368
    assert json.loads(out)["totals"]["flops_forward"] - data["totals"]["flops_forward"] \
        == L * 2 * (2 * T * T * H * d_k - 2 * T * H * d_k * d_k)
    status, _, err = cli("run", LINEAR, "--allow-plugins", "--variant", "attention=dot_product", "--set", "feature_dim=64")
    assert status == 1  # feature_dim is then read by nothing: refused rather than ignored
    assert "no chosen component reads it (it is read by attention = linear)" in err


def test_local_plugin_with_dash_p_and_acct_plugins_lists_it(cli, tmp_path):
    path = write(tmp_path, "double_head.py", """
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(
                name="lm_head", slot="lm_head", variant="double", group="LM head",
                params="2 * d_model * vocab_size", flops="4 * context_length * d_model * vocab_size"))
    """)
    status, out, _ = cli("run", XL, "-p", path, "--variant", "lm_head=double", "-f", "json")
    assert status == 0
    assert json.loads(out)["totals"]["params"] == 2_127_057_600 + 50_257 * 1_600
    status, out, _ = cli("plugins", "-p", path, "-f", "json")
    listing = {plugin["name"]: plugin for plugin in json.loads(out)}
    assert listing["double_head"] == {"name": "double_head", "origin": "file", "location": path,
                                      "provides": ["lm_head=double"]}


# -- failures, each named -------------------------------------------------------

FAILURES = {
    "import error": ("import numpy_that_is_not_installed\n", "failed to import: ModuleNotFoundError"),
    "syntax error": ("def broken(:\n", "failed to import: SyntaxError"),
    "raises in a hook": ("""
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            raise RuntimeError("oops")
    """, "acct_register_components raised RuntimeError: oops"),
    "bad formula": ("""
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="x", slot="ffn", variant="bad", group="FFN",
                                    params="d_model *", flops=0))
    """, "component 'x' params: syntax error in formula 'd_model *'"),
    "unsafe formula": ("""
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="x", slot="ffn", variant="bad", group="FFN",
                                    params="__import__('os').getpid()", flops=0))
    """, "component 'x' params: a call to"),
    "missing field": ("""
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="x", slot="ffn", variant="", group="FFN", params=0, flops=0))
    """, "component 'x' needs a non-empty text 'variant', got ''"),
    "not a component": ("""
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            register({"name": "x"})
    """, "acct_register_components registered {'name': 'x'}, not an acct.Component"),
    "duplicate slot and variant": ("""
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="w", slot="ffn", variant="swiglu", group="FFN", params=0, flops=0))
    """, "slot 'ffn' variant 'swiglu' is provided by both plugin 'ffn' ("),
    "duplicate input": ("""
        import acct

        @acct.hookimpl
        def acct_register_inputs(register):
            register(acct.Input("d_model", "again"))
    """, "input 'd_model' is already registered by plugin 'transformer'"),
    "hook with no spec": ("""
        import acct

        @acct.hookimpl
        def acct_register_component(register):
            pass
    """, "unknown hook 'acct_register_component'"),
    "wrong hook arguments": ("""
        import acct

        @acct.hookimpl
        def acct_register_components(register, extra):
            pass
    """, "hook 'acct_register_components'"),
    "flops disagree with shape": ("""
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="lm_head", slot="lm_head", variant="wrong", group="LM head",
                                    params=0, flops="context_length * d_model * vocab_size",
                                    shape=("context_length", "d_model", "vocab_size")))
    """, "its FLOPs formula 'context_length * d_model * vocab_size' gives 82,341,068,800, but its shape (T×D)·(D×V) implies 2·m·k·n = 164,682,137,600"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_a_broken_plugin_is_named_with_its_file(cli, tmp_path, case):
    source, message = FAILURES[case]
    path = write(tmp_path, "broken.py", source)
    status, out, err = cli("run", XL, "-p", path, "--variant", "lm_head=wrong") if "shape" in case else cli("run", XL, "-p", path)
    assert (status, out) == (1, "")
    assert err.startswith("acct: error: plugin ") and err.count("\n") == 1, err
    assert f"({path})" in err or "'broken'" in err, err
    assert message in err, err
    assert "Traceback" not in err


def test_missing_plugin_file(cli, tmp_path):
    status, _, err = cli("run", XL, "-p", str(tmp_path / "nope.py"))
    assert status == 1 and err == f"acct: error: plugin 'nope' ({tmp_path / 'nope.py'}): no such plugin file\n"


def test_preset_plugin_paths_are_relative_to_the_preset(cli, tmp_path):
    text = (EXAMPLES / "linear-attention" / "mistral-7b-32k.toml").read_text()
    (tmp_path / "m.toml").write_text(text)
    status, _, err = cli("run", str(tmp_path / "m.toml"), "--allow-plugins")
    assert status == 1 and f"({tmp_path / 'linear_attention.py'}): no such plugin file" in err


# -- blocking -------------------------------------------------------------------


def test_disable_blocks_a_plugin_by_name(cli, tmp_path, monkeypatch):
    path = write(tmp_path, "fused_ffn.py", """
        import acct

        @acct.hookimpl
        def acct_register_inputs(register):
            register(acct.Input("d_ff", "hidden width", symbol="F"))

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="fused", slot="ffn", variant="swiglu", group="FFN", per_layer=True,
                                    params="3 * d_model * d_ff", flops="6 * context_length * d_model * d_ff"))
    """)
    status, _, err = cli("run", XL, "-p", path)
    assert status == 1 and "input 'd_ff' is already registered by plugin 'ffn'" in err
    # the builtin ffn plugin blocked, the file's swiglu takes its place, with the same totals
    status, out, err = cli("run", XL, "-p", path, "--disable", "ffn", "-f", "json")
    assert status == 0, err
    data = json.loads(out)
    assert [row["name"] for row in data["rows"] if row["group"] == "FFN"] == ["fused"]
    assert (data["totals"]["params"], data["totals"]["flops_forward"]) == (2_127_057_600, 4_513_336_524_800)
    monkeypatch.setenv("ACCT_DISABLE_PLUGINS", "ffn, head")
    names = {plugin.name for plugin in load_registry().plugins}
    assert "ffn" not in names and "head" not in names and "qkv" in names


# -- entry points: a real installed distribution --------------------------------


@pytest.fixture(scope="session")
def installed_bilinear(tmp_path_factory):
    """pip-install examples/acct-bilinear (offline, no build isolation) into a folder of its own,
    from a copy: setuptools builds in the source folder, where parallel test workers would race."""
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("src") / "acct-bilinear"
    shutil.copytree(EXAMPLES / "acct-bilinear", source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(source)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / "acct_bilinear-0.1.0.dist-info" / "entry_points.txt").exists()
    return target


def run_with(site, *argv):
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-m", "acct", *argv], capture_output=True, text=True, env=env)


BILINEAR_PRESET = str(EXAMPLES / "acct-bilinear" / "presets" / "gpt2-xl-bilinear.toml")


def test_entry_point_plugin_is_discovered_and_listed(installed_bilinear):
    result = run_with(installed_bilinear, "plugins", "-f", "json")
    assert result.returncode == 0, result.stderr
    bilinear = next(plugin for plugin in json.loads(result.stdout) if plugin["name"] == "bilinear")
    assert bilinear["origin"] == "entry point"
    assert bilinear["location"] == "entry point acct_bilinear from acct-bilinear 0.1.0"
    assert bilinear["provides"] == ["ffn=bilinear"]


def test_gpt2_xl_with_the_bilinear_ffn_through_the_entry_point(installed_bilinear):
    result = run_with(installed_bilinear, "run", BILINEAR_PRESET, "-f", "json", "--non-matmul")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    # three D×F matrices, as SwiGLU: the textbook GPT-2 XL's parameters and matmul FLOPs
    assert (data["totals"]["params"], data["totals"]["flops_forward"]) == (2_127_057_600, 4_513_336_524_800)
    rows = {row["name"]: row for row in data["rows"]}
    T, D, F = 1_024, 1_600, 6_400
    assert [name for name in rows if rows[name]["group"] == "FFN"] == ["bilinear_w1", "bilinear_w3", "bilinear_w2"]
    assert rows["bilinear_w1"]["params_each"] == D * F and rows["bilinear_w2"]["flops_forward_each"] == 2 * T * F * D
    # no activation function: SwiGLU's non-matmul FFN FLOPs (4 + 1 per hidden element) drop to the product's 1
    swiglu = run_with(installed_bilinear, "run", str(PRESETS / "gpt2-xl.toml"), "-f", "json", "--non-matmul")
    other = json.loads(swiglu.stdout)["totals"]["flops_other"] - data["totals"]["flops_other"]
    assert other == 48 * 4 * T * F == 1_258_291_200


def test_without_the_entry_point_the_preset_says_what_is_missing(cli):
    status, _, err = cli("run", BILINEAR_PRESET)
    assert status == 1
    assert "unknown variant 'bilinear' for slot 'ffn'" in err


# -- every hook is documented and exercised -------------------------------------


def test_every_hookspec_is_documented_and_used_by_a_builtin():
    readme = (ROOT / "README.md").read_text()
    builtins = "".join(path.read_text() for path in (ROOT / "plugins").rglob("*.py"))
    hooks = [name for name in dir(acct.hookspecs) if name.startswith("acct_")]
    assert hooks == ["acct_register_activations", "acct_register_components", "acct_register_conventions",
                     "acct_register_hardware", "acct_register_importers", "acct_register_inputs"]
    for hook in hooks:
        assert hook in readme, f"{hook} is not documented in README.md"
        assert f"def {hook}(register)" in builtins, f"{hook} is not implemented by any builtin plugin"


def test_entry_point_reader_agrees_with_importlib_metadata(installed_bilinear):
    """acct reads entry points from the dist-info files itself (importing importlib.metadata costs
    more than the rest of its start-up); it must find what importlib.metadata finds."""
    probe = textwrap.dedent("""
        import json
        from importlib.metadata import entry_points
        from acct.model.registry import entry_points as ours
        result = {}
        for group in ("acct", "console_scripts", "pytest11"):
            theirs = sorted((e.name, e.value) for e in entry_points().select(group=group))
            mine = sorted((e.name, e.value) for e in ours(group))
            result[group] = [theirs, mine]
        print(json.dumps(result))
    """)
    env = {**os.environ, "PYTHONPATH": str(installed_bilinear)}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    groups = json.loads(result.stdout)
    assert ["bilinear", "acct_bilinear"] in groups["acct"][1]
    assert groups["console_scripts"][1] and ["acct", "acct.cli:main"] in groups["console_scripts"][1]
    for group, (theirs, mine) in groups.items():
        assert mine == theirs, group
