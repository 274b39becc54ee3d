"""Core's contract with plugins: what core needs of a row is a field the row states, never its name.

A third-party plugin is never second-class: the flags, the multiplicity formula and the default
markers work the same for it as for a builtin, and core's source names no builtin component.
"""

import json
import re
import textwrap

import pytest

from acct.model.registry import load_registry
from conftest import PRESETS, ROOT

XL = str(PRESETS / "gpt2-xl.toml")
V, T, L, D = 50_257, 1_024, 48, 1_600
XL_PARAMS = 2_127_057_600


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def conventions(cli, *argv):
    status, out, err = cli("conventions", *argv, "-f", "json")
    assert status == 0, err
    return {row["name"]: row for row in json.loads(out)["conventions"]}


def test_core_names_no_builtin_slot_variant_group_or_component():
    """grep: every slot, variant, group and row name the builtins register, quoted anywhere in core/."""
    registry = load_registry()
    names = set()
    for (slot, variant), rows in registry.variants.items():
        names |= {slot, variant} | {row.spec.name for row in rows} | {row.spec.group for row in rows}
    names |= set(registry.conventions) | set(registry.activations)
    # words, not names: 'none' in messages; the Chinchilla-optimal tokens line is a rule of core's
    # training report (20 tokens per parameter), not the chinchilla FLOP convention
    names -= {"none", "chinchilla"}
    # the attention kernels are core's own words (infer's --attention, the attention_fused input); the
    # activation conventions that count what PyTorch keeps with each kernel share them by design
    names -= {"sdpa", "eager"}
    source = {str(path.relative_to(ROOT)): path.read_text() for path in (ROOT / "core").rglob("*.py")}
    found = [(file, name) for file, text in source.items() for name in sorted(names)
             if re.search(rf"[\"']{re.escape(name)}[\"']", text)]
    assert found == []


def test_embedding_table_is_a_flag_not_a_group_name(cli, tmp_path):
    """Kaplan's N leaves out the rows marked embedding_table, whatever their group is called."""
    path = write(tmp_path, "embeddings.py", """
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="token_embedding", slot="token_embedding", variant="flagged",
                                    group="embeddings", params="vocab_size * d_model", flops=0,
                                    embedding_table=True))
            register(acct.Component(name="token_embedding", slot="token_embedding", variant="unflagged",
                                    group="embedding", params="vocab_size * d_model", flops=0))
    """)
    base = conventions(cli, XL)["kaplan"]["forward"]
    flagged = conventions(cli, XL, "-p", path, "--variant", "token_embedding=flagged")["kaplan"]["forward"]
    unflagged = conventions(cli, XL, "-p", path, "--variant", "token_embedding=unflagged")["kaplan"]["forward"]
    assert flagged == base
    # without the flag the table counts as a non-embedding parameter: 2·V·D more per token, T tokens
    assert unflagged == base + 2 * V * D * T


def test_unembedding_is_a_flag_not_a_slot_name(cli, tmp_path):
    """Kaplan's N leaves out the LM head's weight when the row is marked unembedding, whatever it is
    called; PaLM's N keeps every parameter either way."""
    path = write(tmp_path, "heads.py", """
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            for variant, flag in (("flagged", True), ("unflagged", False)):
                register(acct.Component(name="logits", slot="lm_head", variant=variant, group="output",
                                        params="d_model * vocab_size",
                                        flops="2 * context_length * d_model * vocab_size",
                                        shape=("context_length", "d_model", "vocab_size"), unembedding=flag))
    """)
    base = conventions(cli, XL)
    flagged = conventions(cli, XL, "-p", path, "--variant", "lm_head=flagged")
    unflagged = conventions(cli, XL, "-p", path, "--variant", "lm_head=unflagged")
    assert flagged["kaplan"]["forward"] == base["kaplan"]["forward"]
    # N = the blocks and the final norm: XL's total less its token table and its untied head
    assert base["kaplan"]["forward"] == (2 * (XL_PARAMS - 2 * V * D) + 2 * L * T * D) * T
    # without the flag the head's V·D weights count in N: 2·V·D more per token, T tokens
    assert unflagged["kaplan"]["forward"] == base["kaplan"]["forward"] + 2 * V * D * T
    assert flagged["palm"]["training"] == unflagged["palm"]["training"] == base["palm"]["training"]


def test_attention_product_is_a_flag(cli, tmp_path):
    """The causal convention halves exactly the rows marked attention_product."""
    path = write(tmp_path, "plain_attention.py", """
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            for name in ("attn_scores", "attn_values"):
                register(acct.Component(name=name, slot="attention", variant="unflagged", group="attention",
                                        params=0, flops="2 * context_length ** 2 * d_model", per_layer=True))
    """)
    found = conventions(cli, XL, "-p", path, "--variant", "attention=unflagged")
    assert found["causal"]["forward"] == found["matmul"]["forward"]  # nothing marked: nothing halved
    builtin = conventions(cli, XL)
    assert builtin["causal"]["forward"] == builtin["matmul"]["forward"] - L * 2 * T * T * D


def test_multiplicity_is_a_formula_and_zero_instances_are_left_out(cli, tmp_path):
    path = write(tmp_path, "some_layers.py", """
        import acct

        @acct.hookimpl
        def acct_register_inputs(register):
            register(acct.Input("special_layers", "layers with an extra projection", symbol="L_s", default=0,
                                minimum=0))

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="extra_proj", slot="extra", variant="on", group="extra",
                                    params="d_model ** 2", flops="2 * context_length * d_model ** 2",
                                    multiplicity="num_layers - special_layers", default=True,
                                    activations={"*": 0}))
    """)
    status, out, err = cli("run", XL, "-p", path, "--set", "special_layers=8", "-f", "json")
    assert status == 0, err
    data = json.loads(out)
    rows = {row["name"]: row for row in data["rows"]}
    assert rows["extra_proj"]["multiplicity"] == 40
    assert data["totals"]["params"] == XL_PARAMS + 40 * D * D
    status, out, err = cli("run", XL, "-p", path, "--set", "special_layers=48")
    assert status == 0, err
    assert "extra_proj" not in out and f"{XL_PARAMS:,}" in out  # no instance: no row
    status, out, err = cli("run", XL, "-p", path, "--set", "special_layers=49")
    assert status == 1 and "extra_proj.multiplicity must be at least 0, got -1" in err


def test_multiplicity_in_symbols(cli, tmp_path):
    path = write(tmp_path, "tail.py", """
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="tail_proj", slot="tail", variant="on", group="tail", default=True,
                                    params="d_model ** 2", flops="2 * context_length * d_model ** 2",
                                    multiplicity="num_layers - 2"))
    """)
    status, out, err = cli("run", XL, "-p", path)
    assert status == 0, err
    assert re.search(r"\| tail_proj +\| D² +\| +2,560,000 \| ×46 \(L - 2\) \| +117,760,000 \|", out)


def test_per_layer_and_multiplicity_together_is_an_error(cli, tmp_path):
    path = write(tmp_path, "both.py", """
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="x", slot="x", variant="on", group="x", params=1, flops=0,
                                    per_layer=True, multiplicity="num_layers"))
    """)
    status, out, err = cli("run", XL, "-p", path)
    assert (status, out) == (1, "")
    assert err == (f"acct: error: plugin 'both' ({path}): component 'x': give per_layer=True or a "
                   "multiplicity formula, not both\n")


@pytest.mark.parametrize("marker", ["hookwrapper=True", "wrapper=True"])
def test_hook_wrappers_are_refused(cli, tmp_path, marker):
    path = write(tmp_path, "wrapper.py", f"""
        import acct

        @acct.hookimpl({marker})
        def acct_register_components(register):
            yield
    """)
    status, out, err = cli("run", XL, "-p", path)
    assert (status, out) == (1, "")
    assert err.startswith(f"acct: error: plugin 'wrapper' ({path}): acct_register_components is a hook wrapper")


@pytest.mark.parametrize("where", ["import", "hook"])
def test_a_plugin_that_exits_is_an_error_naming_it(cli, tmp_path, where):
    body = "raise SystemExit(0)" if where == "import" else textwrap.dedent("""
        @acct.hookimpl
        def acct_register_components(register):
            raise SystemExit(0)
    """)
    path = tmp_path / "exits.py"
    path.write_text("import acct\n" + body + "\n")
    status, out, err = cli("run", XL, "-p", str(path))
    assert (status, out) == (1, "")
    assert err.startswith(f"acct: error: plugin 'exits' ({path}): ") and "SystemExit" in err
    assert err.count("\n") == 1


def test_disabling_a_name_no_plugin_has_is_an_error(cli, monkeypatch):
    status, out, err = cli("run", XL, "--disable", "nonexistent")
    assert (status, out) == (1, "")
    assert err.startswith("acct: error: --disable nonexistent: no plugin is named 'nonexistent'; known: core, ")
    monkeypatch.setenv("ACCT_DISABLE_PLUGINS", "norm")
    status, out, err = cli("run", XL)
    assert status == 1
    assert err.startswith("acct: error: ACCT_DISABLE_PLUGINS=norm: no plugin is named 'norm' (did you mean norms")


def test_disabling_the_plugin_that_fills_a_slot_is_an_error(cli, tmp_path, monkeypatch):
    # a preset that names no variants: the rows would silently go missing
    preset = tmp_path / "bare.toml"
    preset.write_text('[model]\nvocab_size = 1000\ncontext_length = 64\nnum_layers = 2\nd_model = 128\n'
                      'num_heads = 4\nd_ff = "4 * d_model"\n')
    monkeypatch.setenv("ACCT_DISABLE_PLUGINS", "norms")
    status, out, err = cli("run", str(preset))
    assert (status, out) == (1, "")
    assert err == (f"acct: error: {preset}: the slot 'norm' has no variant: plugin 'norms', which fills it, is "
                   "disabled, and no loaded plugin provides it (a model without it would silently lose its "
                   "rows)\n")
    # replacing the builtin with a plugin that provides the slot is what --disable is for
    path = write(tmp_path, "my_norms.py", """
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="block_norms", slot="norm", variant="mine", group="norms",
                                    params="2 * d_model", flops=0, per_layer=True, default=True))
    """)
    status, out, err = cli("run", str(preset), "-p", path, "-f", "json")
    assert status == 0, err
    assert json.loads(out)["variants"]["norm"] == "mine"


def test_core_inputs_cannot_be_taken_away(cli):
    status, out, err = cli("run", XL, "--disable", "core")
    assert (status, out) == (1, "")
    assert "--disable core: acct's own inputs (batch_size, steps, bytes per value) cannot be disabled" in err
    # without the training plugin, run still counts: it reads none of that plugin's inputs
    status, out, err = cli("run", XL, "--disable", "training", "-f", "json")
    assert status == 0, err
    assert json.loads(out)["totals"]["params"] == XL_PARAMS


def test_run_refuses_an_input_only_training_reads(cli):
    status, out, err = cli("run", XL, "--set", "steps=5")
    assert (status, out) == (1, "")
    assert err == ("acct: error: --set steps: this command does not report what reads it (acct's output "
                   "train.tokens, shown by acct train, infer, sweep or solve)\n")
    # an input read only by a column run does not show: the option that shows it is named
    status, out, err = cli("run", XL, "--set", "num_kv_heads=5", "-f", "json")  # the shapes read it
    assert status == 0, err
    assert {row["name"]: row["params_each"] for row in json.loads(out)["rows"]}["k_proj"] == D * 5 * 64
    status, out, err = cli("run", XL, "--set", "decode_position=5")
    assert status == 1
    assert err == ("acct: error: --set decode_position: this command does not report what reads it "
                   "(attn_scores's flops_decode, shown by acct infer)\n")
    status, out, err = cli("train", XL, "--set", "steps=5", "-f", "json")
    assert status == 0, err


def test_two_default_conventions_is_an_error(cli, tmp_path):
    path = write(tmp_path, "rival.py", """
        import acct

        @acct.hookimpl
        def acct_register_conventions(register):
            register(acct.Convention(name="rival", description="d", source="s", forward="flops_matmul",
                                     training="3 * flops_matmul", default=True))
    """)
    status, out, err = cli("run", XL, "-p", path)
    assert (status, out) == (1, "")
    assert f"plugin 'rival' ({path}): convention 'rival' is marked default, and so is 'matmul'" in err


def test_activation_conventions_come_from_a_hook(cli, tmp_path):
    """A plugin adds an activation convention; rows without a formula for it leave memory uncounted,
    and a plugin whose rows all give one ('*') makes it count."""
    path = write(tmp_path, "flat.py", """
        import acct

        @acct.hookimpl
        def acct_register_activations(register):
            register(acct.ActivationConvention("flat", "nothing kept"))
    """)
    status, out, err = cli("plugins", "-p", path, "-f", "json")
    listing = {plugin["name"]: plugin for plugin in json.loads(out)}
    assert listing["flat"]["provides"] == ["activation convention flat"]
    status, out, err = cli("train", XL, "-p", path, "--activations", "flat")
    assert status == 0, err
    assert ("Activations are not counted: plugin 'qkv' (" in out
            and "component 'q_proj' gives no activations formula for the convention 'flat' (nor do 11 more rows)"
            in out)
    assert "- activations: flat — nothing kept" in out
    status, out, err = cli("train", XL, "--activations", "flatt")
    assert status == 1 and "unknown activation convention 'flatt'" in err


def test_a_long_chain_of_derived_inputs_is_no_recursion(cli, tmp_path):
    """Inputs are made depth first by a loop: 1,500 derived inputs, each read from the last."""
    path = write(tmp_path, "chain.py", """
        import acct

        @acct.hookimpl
        def acct_register_inputs(register):
            register(acct.Input("link0", "the chain's start", default=2))
            for i in range(1, 1500):
                register(acct.Input(f"link{i}", "a link", default=f"link{i - 1}", settable=False))

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="chained", slot="chain", variant="on", group="chain", default=True,
                                    params="link1499 * d_model", flops=0))
    """)
    status, out, err = cli("run", XL, "-p", path, "-f", "json")
    assert status == 0, err
    assert json.loads(out)["totals"]["params"] == XL_PARAMS + 2 * D


def test_disabled_convention_plugins_are_one_line_errors(cli):
    # the builtin conventions are a plugin per source (plugins/conventions/): block them all
    from acct.plugins import CONVENTION_PLUGINS, plugin_name

    blocked = [argument for module in CONVENTION_PLUGINS for argument in ("--disable", plugin_name(module))]
    status, out, err = cli("conventions", XL, *blocked)
    assert (status, out) == (1, "")
    assert err == ("acct: error: acct conventions: no counting convention is loaded (is the plugin that "
                   "registers them disabled?)\n")
    status, out, err = cli("train", XL, "--disable", "training")
    assert status == 0 and "- activations:  — none is registered" in out
    status, out, err = cli("run", XL, "--format", "json", "--tablefmt", "latex")
    assert (status, out) == (1, "")
    assert "--tablefmt is the markdown format's table style; --format json has none" in err


def test_6nd_counts_the_parameters_a_token_uses(cli):
    """Chinchilla's 6·N·D for a mixture of experts: N is the active parameters, not all experts'."""
    status, out, err = cli("train", str(PRESETS / "mixtral-8x7b.toml"), "-f", "json")
    assert status == 0, err
    data = json.loads(out)["chinchilla"]
    assert data["six_n_d"] == 6 * 12_879_925_248 * 4_096
    assert data["optimal_tokens"] == 20 * 12_879_925_248
    status, out, _ = cli("run", str(PRESETS / "mixtral-8x7b.toml"), "--set", "shared_expert_gate=1", "-f", "json")
    assert json.loads(out)["totals"]["params"] == 46_702_792_704  # a gate without a shared expert gates nothing


def test_variants_that_do_not_go_together_are_refused(cli):
    """MLA's products read the latent its projections make: with plain projections the KV cache
    would be the latent's while K and V are full heads, a wrong number; refused, naming both."""
    deepseek = str(PRESETS / "deepseek-v2-lite.toml")
    status, out, err = cli("infer", deepseek, "--variant", "qkv=mha")
    assert (status, out) == (1, "")
    assert err.startswith("acct: error: --variant qkv: qkv = mha does not go with attention = mla (plugin "
                          "'attention' (")
    assert err.endswith("component 'attn_scores' needs qkv = mla or mla_lora)\n")
    status, out, err = cli("run", XL, "--variant", "attention=mla")
    assert status == 1 and "--variant attention: qkv = mha does not go with attention = mla" in err
    status, out, err = cli("run", deepseek, "--variant", "attention=dot_product")
    assert status == 1 and "attention = dot_product does not go with qkv = mla" in err


@pytest.mark.parametrize("value", ['"mla"', '{"qkv": "mla"}', '{"qkv": (1,)}', '{1: ("mla",)}'])
def test_a_malformed_requires_variants_names_the_plugin(cli, tmp_path, value):
    path = write(tmp_path, "needs.py", f"""
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="x", slot="x", variant="on", group="x", params=1, flops=0,
                                    requires_variants={value}))
    """)
    status, out, err = cli("run", XL, "-p", path)
    assert (status, out) == (1, "")
    assert err.startswith(f"acct: error: plugin 'needs' ({path}): component 'x': requires_variants must map "
                          "slots to tuples of variant names")


def test_tensor_parallel_is_a_field_a_third_party_row_states(cli, tmp_path):
    """How a row divides over tp is its tensor_parallel field: a third-party FFN whose down projection
    says "row" keeps its bias whole on every rank, one that says nothing splits it (a matrix multiply
    is column-parallel by default), one that says "replicated" keeps it all whole."""
    path = write(tmp_path, "tp_ffn.py", """
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            for variant, rule in (("row", "row"), ("unstated", None), ("replicated", "replicated")):
                register(acct.Component(name="down", slot="ffn", variant=variant, group="FFN",
                                        params="d_ff * d_model", flops="2 * context_length * d_ff * d_model",
                                        per_layer=True, shape=("context_length", "d_ff", "d_model"),
                                        bias="d_model", tensor_parallel=rule, activations={"*": 0}))
    """)
    preset = tmp_path / "tp.toml"
    preset.write_text(textwrap.dedent("""
        name = "tp"
        biases = ["down"]
        [model]
        vocab_size = 64
        context_length = 8
        num_layers = 2
        d_model = 16
        num_heads = 4
        d_ff = 32
        [variants]
        lm_head = "untied"
    """))

    def per_gpu(variant):
        status, out, err = cli("train", str(preset), "-p", path, "--variant", f"ffn={variant}", "--tp", "4",
                               "--gpus", "4", "--precision", "fp32", "-f", "json")
        assert status == 0, err
        return json.loads(out)["per_gpu"]["params"]

    V, L, D, F, t = 64, 2, 16, 32, 4
    # the rest of the model on one rank: Q, K, V, W_O (D×D each) ÷ t, two RMSNorms whole, RoPE none,
    # the token table and the untied head ÷ t, the final RMSNorm whole
    rest = L * (4 * D * D // t + 2 * D) + V * D // t + D * V // t + D
    assert per_gpu("row") == rest + L * (F * D // t + D)
    assert per_gpu("unstated") == rest + L * (F * D + D) // t
    assert per_gpu("replicated") == rest + L * (F * D + D)


def test_an_unknown_tensor_parallel_rule_names_the_plugin(cli, tmp_path):
    path = write(tmp_path, "tp_bad.py", """
        import acct

        @acct.hookimpl
        def acct_register_components(register):
            register(acct.Component(name="x", slot="x", variant="on", group="x", params=1, flops=0,
                                    tensor_parallel="rows"))
    """)
    status, out, err = cli("run", XL, "-p", path)
    assert (status, out) == (1, "")
    assert err == (f"acct: error: plugin 'tp_bad' ({path}): component 'x': tensor_parallel must be one of "
                   "column, row, vocab, replicated (or None to infer it), got 'rows'\n")
