"""The README's worked examples of a kind of extension, each one file under examples/: a convention, an
accelerator and an importer (the component is examples/linear-attention, tests/test_plugins.py), run
through the command line, their numbers checked by hand; the README shows each file as it is."""

import json

from conftest import EXAMPLES, PRESETS, ROOT

XL = str(PRESETS / "gpt2-xl.toml")
XL_PARAMS = 2_127_057_600
T = 1024
README = (ROOT / "README.md").read_text()


def test_each_example_is_shown_in_the_readme_as_it_is():
    for path in ("convention/six_n.py", "hardware/mi300x.py", "granite-importer/granite.py"):
        assert (EXAMPLES / path).read_text() in README, f"README.md does not show examples/{path} as it is"


def test_a_convention_is_one_file(cli):
    """examples/convention/six_n.py: 6·N·D beside the builtin conventions, N every parameter."""
    status, out, err = cli("conventions", XL, "-p", str(EXAMPLES / "convention" / "six_n.py"), "-f", "json")
    assert status == 0, err
    conventions = {c["name"]: c for c in json.loads(out)["conventions"]}
    assert list(conventions)[0] == "matmul" and list(conventions)[-1] == "six_n"
    assert conventions["six_n"]["forward"] == 2 * XL_PARAMS * T == 4_356_213_964_800
    assert conventions["six_n"]["training"] == 6 * XL_PARAMS * T == 13_068_641_894_400
    # the builtin count it is set beside is unchanged
    assert conventions["matmul"]["forward"] == 4_513_336_524_800


def test_an_accelerator_is_one_file(cli):
    """examples/hardware/mi300x.py: --hardware mi300x once the file is loaded; the weights and KV cache of
    one GPT-2 XL sequence take what they take on an H100, so what is left differs by the memories."""
    plugin = str(EXAMPLES / "hardware" / "mi300x.py")
    status, out, err = cli("infer", XL, "-p", plugin, "--hardware", "mi300x", "-f", "json")
    assert status == 0, err
    roofline = json.loads(out)["roofline"]
    assert roofline["peak_flops_per_s"] == 1_307_400 * 10**9  # bf16, dense
    assert roofline["memory_bandwidth"] == 5_300 * 10**9
    status, out, err = cli("infer", XL, "--hardware", "h100", "-f", "json")
    h100 = json.loads(out)["roofline"]
    assert roofline["memory_free"] - h100["memory_free"] == 192 * 10**9 - 80 * 10**9
    status, out, err = cli("infer", XL, "--hardware", "mi300x")
    assert status == 1 and "mi300x" in err  # without the file, no such accelerator


def test_an_importer_is_one_file(cli):
    """examples/granite-importer/: the importer of tests/test_import.py's Granite check, with its config;
    acct's own granite importer (plugin hf_granite) steps aside with --disable."""
    folder = EXAMPLES / "granite-importer"
    status, out, err = cli("run", str(folder / "config.json"), "-p", str(folder / "granite.py"), "--disable",
                           "hf_granite", "-f", "json")
    assert status == 0, err
    # 49,155·2,048 tied embedding + 40 × (attention 2·2048² + 2·2048·512, SwiGLU 3·2048·8,192, norms 2·2048) + 2,048
    assert json.loads(out)["totals"]["params"] == (
        49_155 * 2048 + 40 * (2 * 2048 ** 2 + 2 * 2048 * 512 + 3 * 2048 * 8192 + 2 * 2048) + 2048)
    status, out, err = cli("run", str(folder / "config.json"), "-p", str(folder / "granite.py"))
    assert status == 1 and "importer 'granite' is already registered by plugin 'hf_granite'" in err
