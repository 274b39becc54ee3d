"""The block's builtin variants (norm kinds and placement, FFN kinds, LM-head bias, partial rotary,
mixture of experts) against numbers derived by hand, and the presets that use them against their
published parameter counts."""

from pathlib import Path

import pytest

from acct.model.config import Preset, load_preset
from acct.errors import AcctError
from acct.model.model import build_model
from acct.reports.run import make_report
from conftest import PRESETS

# a small shape on which every count is easy to write by hand
V, T, L, D, H, F = 1_000, 64, 3, 128, 4, 352
SMALL = {"vocab_size": V, "context_length": T, "num_layers": L, "d_model": D, "num_heads": H, "d_ff": F}
VARIANTS = {"token_embedding": "lookup", "position": "rope", "qkv": "mha", "attention": "dot_product",
            "attention_output": "linear", "ffn": "swiglu", "norm": "rmsnorm", "lm_head": "untied"}


def small(variants=(), biases=(), activations="cs336", **inputs):
    """A preset of the small shape with `variants` (slot=variant pairs) and `inputs` changed."""
    return Preset(Path("small.toml"), "small", inputs={**SMALL, **inputs}, variants={**VARIANTS, **dict(variants)},
                  biases=list(biases), training={"activations": activations})


def evaluate(registry, preset, **overrides):
    """The report (with non-matmul FLOPs) and every cell's value."""
    model = build_model(preset, registry, overrides, non_matmul=True)
    values = model.sheet.evaluate()
    return make_report(model, values), values


def rows_of(report):
    return {row.name: row for row in report.rows}


# -- norms ----------------------------------------------------------------------

# kind: (params of one norm, non-matmul FLOPs per element)
NORM_KINDS = {"rmsnorm": (D, 4), "layernorm": (2 * D, 7), "layernorm_nobias": (D, 6), "nonparametric": (0, 5)}


@pytest.mark.parametrize("kind", NORM_KINDS)
@pytest.mark.parametrize("per_block", [1, 2, 4])
def test_norm_kinds_and_norms_per_block(registry, kind, per_block):
    one, per_element = NORM_KINDS[kind]
    report, values = evaluate(registry, small({"norm": kind}, norms_per_block=per_block))
    rows = rows_of(report)
    a = values["activation_bytes"]
    assert rows["block_norms"].params_each == per_block * one
    assert rows["block_norms"].params == L * per_block * one
    assert rows["final_norm"].params == one
    assert rows["block_norms"].flops == rows["final_norm"].flops == 0
    assert rows["block_norms"].flops_other == L * per_block * per_element * T * D
    assert rows["final_norm"].flops_other == per_element * T * D
    assert values["block_norms.activations_each"] == per_block * a * T * D  # cs336: each norm's output
    # against the default two per block, only the norms change
    two, _ = evaluate(registry, small({"norm": kind}))
    assert report.params - two.params == L * (per_block - 2) * one
    assert report.flops == two.flops


@pytest.mark.parametrize("convention, per_norm, recompute", [("korthikanti", 1, False),
                                                            ("korthikanti_recompute", 0, True)])
def test_norm_activations_scale_with_the_norms_but_the_checkpoint_does_not(registry, convention, per_norm, recompute):
    for per_block in (1, 4):
        _, values = evaluate(registry, small(activations=convention, norms_per_block=per_block))
        a = values["activation_bytes"]
        # Korthikanti et al.: each norm's input; with recomputation, only the layer's input, once
        expected = a * T * D if recompute else per_block * per_norm * a * T * D
        assert values["block_norms.activations_each"] == expected


def test_norm_placement_is_described_on_its_input(registry):
    description = registry.inputs["norms_per_block"].spec.description
    assert description == "norms per block: 2 pre-norm, 1 or 2 parallel block, 4 sandwich"
    assert registry.inputs["norms_per_block"].spec.symbol == "N_n"


def test_nonparametric_norms_have_no_parameters_and_say_so(registry):
    report, _ = evaluate(registry, small({"norm": "nonparametric"}))
    rows = rows_of(report)
    assert rows["block_norms"].params == rows["final_norm"].params == 0
    assert any("non-parametric LayerNorms" in note for note in report.notes)


def test_norms_per_block_is_read_even_when_the_norms_have_no_parameters(registry):
    """A non-parametric norm's params read nothing; the input must still count as read."""
    report, _ = evaluate(registry, small({"norm": "nonparametric"}, norms_per_block=1))
    assert rows_of(report)["block_norms"].params == 0


# -- FFN ------------------------------------------------------------------------


def test_geglu_counts_as_swiglu_but_its_gate_is_a_gelu(registry):
    swiglu, _ = evaluate(registry, small())
    geglu, _ = evaluate(registry, small({"ffn": "geglu"}))
    s, g = rows_of(swiglu), rows_of(geglu)
    for name in ("ffn_w1", "ffn_w3", "ffn_w2"):
        assert (g[name].params, g[name].flops) == (s[name].params, s[name].flops)
    assert g["ffn_w1"].params_each == D * F and g["ffn_w1"].flops_each == 2 * T * D * F
    assert geglu.params == swiglu.params and geglu.flops == swiglu.flops
    # non-matmul: GELU (tanh form) 9 per element against SiLU's 4; the gate product and the residual add alike
    assert g["ffn_w1"].flops_other == L * 9 * T * F and s["ffn_w1"].flops_other == L * 4 * T * F
    assert g["ffn_w3"].flops_other == L * T * F and g["ffn_w2"].flops_other == L * T * D
    assert "GeGLU" in g["ffn_w1"].description


@pytest.mark.parametrize("kind, per_element", [("gelu", 9), ("relu", 1)])
def test_two_matrix_ffns(registry, kind, per_element):
    report, _ = evaluate(registry, small({"ffn": kind}, biases=["FFN"]))
    rows = rows_of(report)
    assert [row.name for row in report.rows if row.group == "FFN"] == ["ffn_in", "ffn_out"]
    assert (rows["ffn_in"].params_each, rows["ffn_out"].params_each) == (D * F + F, F * D + D)
    assert rows["ffn_in"].flops_each + rows["ffn_out"].flops_each == 4 * T * D * F
    assert rows["ffn_in"].flops_other == L * per_element * T * F
    assert rows["ffn_out"].flops_other == L * T * D  # the residual add
    swiglu, _ = evaluate(registry, small(biases=["FFN"]))
    assert swiglu.params - report.params == L * (D * F + F)  # one D→F matrix and its bias fewer


# -- LM head bias ---------------------------------------------------------------


@pytest.mark.parametrize("head", ["untied", "tied"])
def test_lm_head_bias_adds_v_and_no_flops(registry, head):
    plain, _ = evaluate(registry, small({"lm_head": head}))
    biased, _ = evaluate(registry, small({"lm_head": head}, biases=["lm_head"]))
    assert biased.params - plain.params == V
    assert rows_of(biased)["lm_head"].params == (0 if head == "tied" else D * V) + V  # a bias is never tied
    assert biased.flops == plain.flops


# -- partial rotary -------------------------------------------------------------


def test_rotary_fraction_changes_only_the_rope_flops(registry):
    full, values = evaluate(registry, small())
    assert values["rotary_dims"] == D // H == 32 and values["unrotated_dims"] == 0
    assert rows_of(full)["rope"].flops_other == 3 * L * T * (H + H) * 32  # Q and K, every dim of every head
    quarter, values = evaluate(registry, small(rotary_fraction="1 / 4"))
    assert values["rotary_dims"] == 8 and values["unrotated_dims"] == 24
    assert rows_of(quarter)["rope"].flops_other == 3 * L * T * (H + H) * 8
    assert (quarter.params, quarter.flops) == (full.params, full.flops)
    assert quarter.flops_other == full.flops_other - 3 * L * T * 2 * H * 24


def test_partial_rotary_with_grouped_query_attention(registry):
    report, _ = evaluate(registry, small({"qkv": "gqa"}, num_kv_heads=1, rotary_fraction="1 / 2"))
    assert rows_of(report)["rope"].flops_other == 3 * L * T * (H + 1) * 16


@pytest.mark.parametrize("fraction, message", [
    ("1 / 3", "rotary_dims = rotary_fraction * d_head gives 32/3, not a whole number"),
    ("3 / 2", "unrotated_dims must be at least 0, got -16"),
])
def test_rotary_fraction_must_give_whole_dims_within_the_head(registry, fraction, message):
    with pytest.raises(AcctError, match=message.replace("*", r"\*")):
        evaluate(registry, small(rotary_fraction=fraction))


def test_rotary_fraction_without_rope_is_refused(registry):
    with pytest.raises(AcctError, match=r"rotary_fraction: no chosen component reads it \(it is read by position = rope, "
                                        r"position = rope_some_layers\)"):
        build_model(small({"position": "learned"}, rotary_fraction="1 / 2", max_positions=T), registry)


def test_rotary_fraction_is_checked_without_the_non_matmul_column(registry):
    """`acct run` without --non-matmul still reads (and checks) the fraction a preset sets."""
    with pytest.raises(AcctError, match="not a whole number"):
        build_model(small(rotary_fraction="1 / 3"), registry).sheet.evaluate()


# -- mixture of experts ---------------------------------------------------------

E, K, FE = 8, 2, 96


def moe(activations="cs336", **inputs):
    return small({"ffn": "moe"}, activations=activations, num_experts=E, experts_per_token=K, d_ff_expert=FE,
                 **inputs)


def test_moe_routed_experts_count_all_in_params_and_k_in_flops(registry):
    report, values = evaluate(registry, moe())
    rows = rows_of(report)
    assert [row.name for row in report.rows if row.group == "FFN"] == ["router", "expert_w1", "expert_w3", "expert_w2"]
    assert rows["router"].params == L * D * E and rows["router"].flops == L * 2 * T * D * E
    for name in ("expert_w1", "expert_w3", "expert_w2"):
        assert rows[name].params_each == E * D * FE
        assert values[f"{name}.params_active_each"] == K * D * FE
        assert rows[name].flops_each == 2 * K * T * D * FE
        assert rows[name].multiplicity == L and rows[name].multiplicity_display == "L_moe"
    assert rows["expert_w1"].shape == "k × (T×D)·(D×F_e)"
    dense_swiglu, _ = evaluate(registry, small())
    attention_etc = dense_swiglu.params - L * 3 * D * F
    assert report.params == attention_etc + L * (D * E + 3 * E * D * FE)
    assert report.params_active == attention_etc + L * (D * E + 3 * K * D * FE)
    assert report.flops == dense_swiglu.flops - L * 6 * T * D * F + L * (2 * T * D * E + 6 * K * T * D * FE)
    # decoding one token is linear in T: the k experts' 2·k·D·F_e each
    assert values["expert_w1.flops_decode_each"] == 2 * K * D * FE
    assert any("k·T tokens" in note for note in report.notes)


def test_moe_non_matmul_flops(registry):
    report, _ = evaluate(registry, moe())
    rows = rows_of(report)
    assert rows["router"].flops_other == L * 5 * T * E  # softmax
    assert rows["expert_w1"].flops_other == L * 4 * K * T * FE  # SiLU on k·T tokens
    assert rows["expert_w3"].flops_other == L * K * T * FE  # the gate product
    assert rows["expert_w2"].flops_other == L * 2 * K * T * D  # weight and sum the k outputs (the residual's add)


@pytest.mark.parametrize("convention", ["cs336", "korthikanti", "korthikanti_recompute"])
def test_moe_activations_count_each_token_once_per_expert(registry, convention):
    _, values = evaluate(registry, moe(convention, num_shared_experts=1, shared_expert_gate=1, moe_layers=L - 1))
    a = values["activation_bytes"]
    kt = K * T
    expected = {
        "cs336": {"router": a * T * E, "expert_w1": 2 * a * kt * FE, "expert_w3": 0, "expert_w2": a * kt * D,
                  "shared_w1": 2 * a * T * FE, "shared_w3": 0, "shared_w2": a * T * D, "shared_expert_gate": a * T,
                  "dense_w1": 2 * a * T * F, "dense_w3": 0, "dense_w2": a * T * D},
        "korthikanti": {"router": a * T * (D + E), "expert_w1": a * kt * (D + FE), "expert_w3": a * kt * FE,
                        "expert_w2": a * kt * FE + kt * D, "shared_w1": a * T * FE, "shared_w3": a * T * FE,
                        "shared_w2": a * T * FE + T * D, "shared_expert_gate": a * T,
                        "dense_w1": a * T * (D + F), "dense_w3": a * T * F, "dense_w2": a * T * F + T * D},
    }.get(convention, {})
    for row in ("router", "expert_w1", "expert_w3", "expert_w2", "shared_w1", "shared_w3", "shared_w2",
                "shared_expert_gate", "dense_w1", "dense_w3", "dense_w2"):
        assert values[f"{row}.activations_each"] == expected.get(row, 0), row


def test_moe_shared_experts_at_the_expert_width_and_dense_first_layers(registry):
    """DeepSeek-shaped: the first layer dense (F wide), then MoE with 2 shared experts of F_e each."""
    report, values = evaluate(registry, moe(num_shared_experts=2, moe_layers=L - 1))
    rows = rows_of(report)
    assert values["d_ff_shared"] == 2 * FE
    assert rows["shared_w1"].params_each == D * 2 * FE and rows["shared_w1"].multiplicity == L - 1
    assert rows["shared_w2"].flops_each == 2 * T * 2 * FE * D
    assert values["shared_w1.params_active_each"] == D * 2 * FE  # every token visits the shared experts
    assert rows["dense_w1"].multiplicity == 1 and rows["dense_w1"].multiplicity_display == "L - L_moe"
    assert rows["dense_w3"].params_each == D * F and rows["dense_w2"].flops_each == 2 * T * F * D
    assert rows["router"].multiplicity == rows["expert_w1"].multiplicity == L - 1
    assert "shared_expert_gate" not in rows  # no gate unless asked for
    dense_swiglu, _ = evaluate(registry, small())
    attention_etc = dense_swiglu.params - L * 3 * D * F
    moe_layer = D * E + 3 * E * D * FE + 3 * D * 2 * FE
    assert report.params == attention_etc + 3 * D * F + (L - 1) * moe_layer
    assert report.params_active == attention_etc + 3 * D * F + (L - 1) * (D * E + 3 * K * D * FE + 3 * D * 2 * FE)


def test_moe_shared_expert_of_its_own_width_with_a_gate(registry):
    """Qwen2-MoE-shaped: one shared expert F_s wide, its output scaled by sigmoid(Linear(D, 1))."""
    report, _ = evaluate(registry, moe(num_shared_experts=1, d_ff_shared=4 * FE, shared_expert_gate=1))
    rows = rows_of(report)
    assert rows["shared_w3"].params_each == D * 4 * FE and rows["shared_w3"].multiplicity == L
    assert rows["shared_expert_gate"].params == L * D and rows["shared_expert_gate"].flops == L * 2 * T * D
    assert rows["shared_expert_gate"].flops_other == L * (4 * T + T * D)  # the sigmoid, and scaling the output
    assert "dense_w1" not in rows  # every layer is MoE


def test_moe_router_bias(registry):
    plain, _ = evaluate(registry, moe())
    biased, _ = evaluate(registry, small({"ffn": "moe"}, biases=["router"], num_experts=E, experts_per_token=K,
                                         d_ff_expert=FE))
    assert biased.params - plain.params == biased.params_active - plain.params_active == L * E


@pytest.mark.parametrize("inputs, message", [
    ({"experts_per_token": E + 1}, "idle_experts must be at least 0, got -1"),
    ({"moe_layers": L + 1}, "dense_layers must be at least 0, got -1"),
    ({"shared_expert_gate": 2}, "ungated_shared must be at least 0, got -1"),
])
def test_moe_inputs_that_cannot_be(registry, inputs, message):
    preset = moe()
    preset.inputs.update(inputs)
    with pytest.raises(AcctError, match=message):
        evaluate(registry, preset)


def test_moe_inputs_are_refused_without_moe(registry):
    with pytest.raises(AcctError, match="num_experts: no chosen component reads it .*ffn = moe"):
        build_model(small(num_experts=E), registry)


# -- presets with published counts ----------------------------------------------


def phi_2(V=51_200, D=2_560, L=32, F=10_240):
    """q, k, v, dense (out) with biases; fc1, fc2 with biases; ONE LayerNorm per block; final
    LayerNorm; untied LM head with a bias."""
    block = (4 * D * D + 4 * D) + (D * F + F) + (F * D + D) + 2 * D
    return V * D + L * block + 2 * D + (D * V + V)


def pythia(V=50_304, D=2_048, L=16, F=8_192):
    """query_key_value and dense with biases, dense_h_to_4h and dense_4h_to_h with biases, TWO
    LayerNorms per block; final LayerNorm; untied LM head (embed_out) without bias."""
    block = (4 * D * D + 4 * D) + (D * F + F) + (F * D + D) + 2 * 2 * D
    return V * D + L * block + 2 * D + D * V


def falcon_7b(V=65_024, D=4_544, L=32, H=71):
    """multi-query: Q D×D, one K and one V head of d_k = D/H; out D×D; GELU FFN 4·D; ONE LayerNorm
    per block; final LayerNorm; no biases; tied."""
    d_k, F = D // H, 4 * D
    block = D * D + 2 * D * d_k + D * D + 2 * D * F + 2 * D
    return V * D + L * block + 2 * D


def olmo_1b(V=50_304, D=2_048, L=16, F=8_192):
    """q, k, v, o and SwiGLU, no biases; non-parametric norms; tied."""
    return V * D + L * (4 * D * D + 3 * D * F)


def mixtral(V=32_000, D=4_096, L=32, H=32, kv=8, E=8, F=14_336):
    d_k = D // H
    block = 2 * D * D + 2 * D * kv * d_k + D * E + E * 3 * D * F + 2 * D
    return V * D + L * block + D + D * V


def qwen_moe(V=151_936, D=2_048, L=24, E=60, FE=1_408, FS=5_632):
    """q, k, v with biases, o without; router; 60 experts; one shared expert FS wide and its gate
    Linear(D, 1); two RMSNorms; untied."""
    block = (4 * D * D + 3 * D) + D * E + E * 3 * D * FE + 3 * D * FS + D + 2 * D
    return V * D + L * block + D + D * V


PUBLISHED = {
    "phi-2": (2_779_683_840, phi_2()),
    "pythia-1b": (1_011_781_632, pythia()),
    "falcon-7b": (6_921_720_704, falcon_7b()),
    "olmo-1b": (1_176_764_416, olmo_1b()),
    "mixtral-8x7b": (46_702_792_704, mixtral()),
    "qwen1.5-moe-a2.7b": (14_315_784_192, qwen_moe()),
}


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_parameter_counts(report_of, name):
    published, by_hand = PUBLISHED[name]
    assert published == by_hand
    assert report_of(name).params == published


@pytest.mark.parametrize("name", PUBLISHED)
def test_presets_cite_their_config_and_count(name):
    preset = load_preset(PRESETS / f"{name}.toml")
    assert "config.json" in preset.source
    assert f"{PUBLISHED[name][0]:,}" in preset.source


def test_active_parameters_of_the_moe_presets(report_of):
    # Mixtral: without 6 of each layer's 8 experts; "12.9B active" in Mistral AI's announcement
    one_expert = 32 * 3 * 4_096 * 14_336  # in every layer
    assert report_of("mixtral-8x7b").params_active == 46_702_792_704 - 6 * one_expert == 12_879_925_248
    # Qwen1.5-MoE-A2.7B: without 56 of 60 experts per layer; the shared expert always runs ("A2.7B")
    one_expert = 24 * 3 * 2_048 * 1_408
    assert report_of("qwen1.5-moe-a2.7b").params_active == 14_315_784_192 - 56 * one_expert == 2_689_173_504
    assert report_of("phi-2").params_active is None  # dense: the same as params


def test_falcon_7b_forward_flops(report_of):
    """One norm, MQA: per layer Q and out 2·T·D² each, K and V 2·T·D·d_k each, QKᵀ and AV 2·T²·D
    each, the FFN 4·T·D·4D; the tied head 2·T·D·V."""
    T, D, V, d_k = 2_048, 4_544, 65_024, 64
    per_layer = 4 * T * D * D + 4 * T * D * d_k + 4 * T * T * D + 16 * T * D * D
    assert report_of("falcon-7b").flops == 32 * per_layer + 2 * T * D * V == 30_789_681_020_928


def test_phi_2_rotates_32_of_80_dims(registry):
    report, values = evaluate(registry, load_preset(PRESETS / "phi-2.toml"))
    assert (values["d_head"], values["rotary_dims"]) == (80, 32)
    assert rows_of(report)["rope"].flops_other == 3 * 32 * 2_048 * (32 + 32) * 32
