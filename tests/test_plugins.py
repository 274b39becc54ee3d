"""Plugins from their three places — builtin, entry points, local files — and every way one can fail."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

import acct.hookspecs
from acct.registry import load_registry
from conftest import EXAMPLES, PRESETS, ROOT


XL = str(PRESETS / "gpt2-xl.toml")


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


# -- a local plugin file --------------------------------------------------------


def test_a_local_plugin_named_by_the_preset_changes_its_report(cli):
    """examples/sliding-window: a variant of the attention slot, with no edit under core/ or plugins/."""
    status, out, err = cli("run", str(EXAMPLES / "sliding-window" / "mistral-7b-32k.toml"), "-f", "json",
                             "--allow-plugins")
    assert status == 0, err
    data = json.loads(out)
    rows = {row["name"]: row for row in data["rows"]}
    T, W, D = 32_768, 4_096, 4_096
    assert rows["attn_scores"]["variant"] == "sliding_window"
    assert rows["attn_scores"]["flops_forward_each"] == 2 * T * W * D == 1_099_511_627_776
    assert rows["attn_values"]["shape"] == "H × (T×min(W, T))·(min(W, T)×d_k)"
    assert data["totals"]["params"] == 7_241_732_096  # attention variants add no parameters
    # the same preset with dense attention: QKᵀ and attention·V are T/W = 8 times as costly
    status, out, _ = cli("run", str(EXAMPLES / "sliding-window" / "mistral-7b-32k.toml"), "-f", "json", "--allow-plugins",
                         "--variant", "attention=dot_product", "--set", "window=1")
    assert status == 1  # window is then read by nothing: refused rather than ignored


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
    text = (EXAMPLES / "sliding-window" / "mistral-7b-32k.toml").read_text()
    (tmp_path / "m.toml").write_text(text)
    status, _, err = cli("run", str(tmp_path / "m.toml"), "--allow-plugins")
    assert status == 1 and f"({tmp_path / 'sliding_window.py'}): no such plugin file" in err


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
def installed_moe(tmp_path_factory):
    """pip-install examples/acct-moe (offline, no build isolation) into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(EXAMPLES / "acct-moe")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / "acct_moe-0.1.0.dist-info" / "entry_points.txt").exists()
    return target


def run_with(site, *argv):
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-m", "acct", *argv], capture_output=True, text=True, env=env)


def test_entry_point_plugin_is_discovered_and_listed(installed_moe):
    result = run_with(installed_moe, "plugins", "-f", "json")
    assert result.returncode == 0, result.stderr
    moe = next(plugin for plugin in json.loads(result.stdout) if plugin["name"] == "moe")
    assert moe["origin"] == "entry point"
    assert moe["location"] == "entry point acct_moe from acct-moe 0.1.0"
    assert moe["provides"] == ["input num_experts", "input top_k", "input idle_experts", "ffn=moe"]


def test_mixtral_through_the_moe_entry_point(installed_moe):
    result = run_with(installed_moe, "run", str(EXAMPLES / "acct-moe" / "presets" / "mixtral-8x7b.toml"), "-f", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    V, D, L, H, kv, F, E, k, T = 32_000, 4_096, 32, 32, 8, 14_336, 8, 2, 4_096
    d_k = D // H
    block = 2 * D * D + 2 * D * kv * d_k + D * E + E * 3 * D * F + 2 * D
    assert data["totals"]["params"] == V * D + L * block + D + D * V == 46_702_792_704  # published
    rows = {row["name"]: row for row in data["rows"]}
    assert rows["moe_router"]["flops_forward_each"] == 2 * T * D * E
    assert rows["moe_w1"]["params_each"] == E * D * F
    assert rows["moe_w1"]["flops_forward_each"] == k * 2 * T * D * F  # only the top_k experts run
    result = run_with(installed_moe, "run", str(EXAMPLES / "acct-moe" / "presets" / "mixtral-8x7b.toml"),
                      "--set", "top_k=9")
    assert result.returncode == 1
    assert "idle_experts must be at least 0, got -1" in result.stderr


def test_without_the_entry_point_the_preset_says_what_is_missing(cli):
    status, _, err = cli("run", str(EXAMPLES / "acct-moe" / "presets" / "mixtral-8x7b.toml"))
    assert status == 1
    assert "unknown input" in err or "unknown variant 'moe' for slot 'ffn'" in err


# -- every hook is documented and exercised -------------------------------------


def test_every_hookspec_is_documented_and_used_by_a_builtin():
    readme = (ROOT / "README.md").read_text()
    builtins = "".join(path.read_text() for path in (ROOT / "plugins").glob("*.py"))
    hooks = [name for name in dir(acct.hookspecs) if name.startswith("acct_")]
    assert hooks == ["acct_register_components", "acct_register_conventions", "acct_register_hardware",
                     "acct_register_inputs"]
    for hook in hooks:
        assert hook in readme, f"{hook} is not documented in README.md"
        assert f"def {hook}(register)" in builtins, f"{hook} is not implemented by any builtin plugin"


def test_entry_point_reader_agrees_with_importlib_metadata(installed_moe):
    """acct reads entry points from the dist-info files itself (importing importlib.metadata costs
    more than the rest of its start-up); it must find what importlib.metadata finds."""
    probe = textwrap.dedent("""
        import json
        from importlib.metadata import entry_points
        from acct.registry import entry_points as ours
        result = {}
        for group in ("acct", "console_scripts", "pytest11"):
            theirs = sorted((e.name, e.value) for e in entry_points().select(group=group))
            mine = sorted((e.name, e.value) for e in ours(group))
            result[group] = [theirs, mine]
        print(json.dumps(result))
    """)
    env = {**os.environ, "PYTHONPATH": str(installed_moe)}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    groups = json.loads(result.stdout)
    assert ["moe", "acct_moe"] in groups["acct"][1]
    assert groups["console_scripts"][1] and ["acct", "acct.cli:main"] in groups["console_scripts"][1]
    for group, (theirs, mine) in groups.items():
        assert mine == theirs, group
