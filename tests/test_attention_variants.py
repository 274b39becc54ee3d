"""The attention family's variants, each against counts derived here by hand: head widths of their own
(d_head, d_head_v), QK-norm, sliding-window layers beside full ones, and multi-head latent attention."""

from pathlib import Path

import pytest

from acct.model.config import Preset
from acct.errors import AcctError
from acct.model.model import build_model
from acct.reports.run import make_report
from conftest import PRESETS

# a small model in which every width differs: V, T, L, D, H, H_kv, d_k, d_v, F
V, T, L, D, H, KV, DK, DV, F = 1_000, 512, 6, 192, 6, 2, 48, 40, 512
SHAPE = {"vocab_size": V, "context_length": T, "num_layers": L, "d_model": D, "num_heads": H,
         "num_kv_heads": KV, "d_head": DK, "d_head_v": DV, "d_ff": F}


def build(registry, inputs, activations="cs336", biases=(), **variants):
    """The evaluated sheet (every cell by name) and the report of a preset made of `inputs` and `variants`."""
    preset = Preset(Path("attention.toml"), "attention", inputs=dict(inputs), biases=list(biases),
                    variants={"qkv": "gqa", **variants}, training={"activations": activations})
    model = build_model(preset, registry, non_matmul=True)
    values = model.sheet.evaluate()
    return values, make_report(model, values)


def rows_of(report):
    return {row.name: row for row in report.rows}


# -- head width -------------------------------------------------------------------


def test_projections_and_products_follow_d_head_and_d_head_v(registry):
    values, report = build(registry, SHAPE)
    rows = rows_of(report)
    assert rows["q_proj"].params_each == D * H * DK == 55_296
    assert rows["k_proj"].params_each == D * KV * DK == 18_432
    assert rows["v_proj"].params_each == D * KV * DV == 15_360
    assert rows["out_proj"].params_each == H * DV * D == 46_080
    assert rows["attn_scores"].flops_each == 2 * T * T * H * DK == 150_994_944
    assert rows["attn_values"].flops_each == 2 * T * T * H * DV == 125_829_120
    assert rows["out_proj"].shape == "(T×H·d_v)·(H·d_v×D)"
    assert rows["attn_values"].shape == "H × (T×T)·(T×d_v)"
    # the KV cache on the products that read it: keys T·H_kv·d_k, values T·H_kv·d_v per layer
    assert values["attn_scores.kv_cache_each"] == T * KV * DK == 49_152
    assert values["attn_values.kv_cache_each"] == T * KV * DV == 40_960
    assert values["total.kv_cache"] == L * T * KV * (DK + DV) == 540_672
    # decoding one token at position t: 2·t·H·d_k and 2·t·H·d_v
    t = values["decode_position"]
    assert values["attn_scores.flops_decode_each"] == 2 * t * H * DK
    assert values["attn_values.flops_decode_each"] == 2 * t * H * DV
    # the whole model: embedding, L blocks (Q, K, V, O; SwiGLU; two RMSNorms), final norm, LM head
    block = D * H * DK + D * KV * DK + D * KV * DV + H * DV * D + 3 * D * F + 2 * D
    assert report.params == V * D + L * block + D + D * V == 2_966_976
    flops = 2 * T * (D * H * DK + D * KV * DK + D * KV * DV + H * DV * D + 3 * D * F) + 2 * T * T * H * (DK + DV)
    assert report.flops == L * flops + 2 * T * D * V == 4_499_963_904


def test_activations_follow_the_attention_width(registry):
    """cs336: each row's output; Korthikanti et al.: q_proj keeps its input too, W_O its H·d_v input
    and a 1-byte dropout mask over D; the softmax terms do not depend on the head width."""
    a = 4  # bytes per activation in fp32
    values, _ = build(registry, SHAPE, activations="cs336")
    assert values["q_proj.activations_each"] == a * T * H * DK
    assert values["v_proj.activations_each"] == a * T * KV * DV
    assert values["attn_scores.activations_each"] == 2 * a * H * T * T
    assert values["attn_values.activations_each"] == a * T * H * DV
    assert values["out_proj.activations_each"] == a * T * D
    values, _ = build(registry, SHAPE, activations="korthikanti")
    assert values["q_proj.activations_each"] == a * T * (D + H * DK)
    assert values["k_proj.activations_each"] == a * T * KV * DK
    assert values["attn_scores.activations_each"] == (a + 1) * H * T * T
    assert values["attn_values.activations_each"] == a * H * T * T
    assert values["out_proj.activations_each"] == a * T * H * DV + T * D
    values, _ = build(registry, SHAPE, activations="korthikanti_recompute")
    assert values["q_proj.activations_each"] == values["out_proj.activations_each"] == 0


def test_gpt2_korthikanti_activations_are_unchanged(registry):
    """Where H·d_k = D the generalized formulas give the old ones: (a + 1)·T·D for W_O."""
    preset_inputs = {"vocab_size": 50_257, "context_length": 1_024, "num_layers": 48, "d_model": 1_600,
                     "num_heads": 25, "d_ff": 6_400}
    values, report = build(registry, preset_inputs, activations="korthikanti", qkv="mha")
    assert values["out_proj.activations_each"] == 5 * 1_024 * 1_600
    assert values["q_proj.activations_each"] == 4 * 1_024 * 3_200
    assert report.params == 2_127_057_600 and report.flops == 4_513_336_524_800


def test_mha_reads_num_kv_heads_and_checks_it_divides(registry):
    inputs = {key: SHAPE[key] for key in ("vocab_size", "context_length", "num_layers", "d_model", "num_heads",
                                          "d_ff")}
    _, mha = build(registry, inputs, qkv="mha")
    _, gqa = build(registry, inputs, qkv="gqa")
    assert mha.params == gqa.params and mha.flops == gqa.flops  # H_kv defaults to H: the same model
    _, mqa = build(registry, {**inputs, "num_kv_heads": 1}, qkv="mha")
    assert rows_of(mqa)["k_proj"].params_each == D * 1 * (D // H) == 6_144
    with pytest.raises(AcctError, match="queries_per_kv = num_heads / num_kv_heads gives 3/2, not a whole number"):
        build(registry, {**inputs, "num_kv_heads": 4}, qkv="mha")
    # only GQA carries the note that the products run over all query heads
    assert not any("grouped-query" in note for note in mha.notes)
    assert any("grouped-query" in note for note in gqa.notes)


def test_d_head_is_settable_and_defaults_to_d_model_over_heads(report_of):
    report = report_of("gpt2-small", d_head=32)
    rows = rows_of(report)
    assert rows["q_proj"].params_each == 768 * 12 * 32 and rows["out_proj"].params_each == 12 * 32 * 768
    assert rows["attn_values"].flops_each == 2 * 1_024 ** 2 * 12 * 32
    inputs = {line.name: line for line in report.inputs}
    assert inputs["d_head"].value == 32 and inputs["d_head"].formula is None
    assert inputs["d_head_v"].value == 32 and inputs["d_head_v"].formula == "d_k"
    default = {line.name: line for line in report_of("gpt2-small").inputs}
    assert default["d_head"].value == 64 and default["d_head"].formula == "D/H"


# -- QK-norm ----------------------------------------------------------------------


def test_qk_norm_is_optional_and_counts_its_gains(registry):
    _, none = build(registry, SHAPE)
    assert "q_norm" not in rows_of(none) and "qk_norm" not in none.variants
    values, head = build(registry, SHAPE, qk_norm="head")
    _, proj = build(registry, SHAPE, qk_norm="proj")
    rows = rows_of(head)
    assert (rows["q_norm"].params_each, rows["k_norm"].params_each) == (DK, DK)
    assert head.params - none.params == L * 2 * DK == 576  # Qwen3, Gemma-3: one d_k gain each
    rows = rows_of(proj)
    assert (rows["q_norm"].params_each, rows["k_norm"].params_each) == (H * DK, KV * DK)
    assert proj.params - none.params == L * (H * DK + KV * DK) == 2_304  # OLMo-2: the whole projection
    assert head.flops == proj.flops == none.flops  # no matmul
    # RMSNorm's 4 FLOPs per element over the T·(H + H_kv)·d_k queries and keys, either way
    assert values["q_norm.flops_other_each"] == 4 * T * H * DK
    assert values["k_norm.flops_other_each"] == 4 * T * KV * DK
    assert rows["q_norm"].group == "norms"


def test_qwen3_preset_by_hand(report_of):
    V, D, L, H, KV, DK, F = 151_936, 1_024, 28, 16, 8, 128, 3_072
    block = D * H * DK + 2 * D * KV * DK + H * DK * D + 2 * DK + 3 * D * F + 2 * D
    by_hand = V * D + L * block + D  # tied LM head
    report = report_of("qwen3-0.6b")
    assert report.params == by_hand == 596_049_920
    rows = rows_of(report)
    assert rows["q_proj"].params_each == 2_097_152 and rows["k_proj"].params_each == 1_048_576
    assert rows["q_norm"].params_each == rows["k_norm"].params_each == 128


def test_gemma_and_llama_presets_by_hand(report_of):
    V, D, L, H, KV, DK, F = 256_000, 2_048, 18, 8, 1, 256, 16_384
    block = 2 * D * H * DK + 2 * D * KV * DK + 3 * D * F + 2 * D
    assert report_of("gemma-2b").params == V * D + L * block + D == 2_506_172_416
    V, D, L, H, KV, DK, F = 128_256, 2_048, 16, 32, 8, 64, 8_192
    block = 2 * D * H * DK + 2 * D * KV * DK + 3 * D * F + 2 * D
    assert report_of("llama-3.2-1b").params == V * D + L * block + D == 1_235_814_400


# -- sliding-window layers ---------------------------------------------------------


W, LOCAL = 128, 4


def test_sliding_window_layers_beside_full_ones(registry):
    values, report = build(registry, {**SHAPE, "sliding_window": W, "local_layers": LOCAL},
                           attention="sliding_window")
    _, dense = build(registry, SHAPE)
    rows = rows_of(report)
    full, local = rows["attn_scores"], rows["attn_scores_local"]
    assert (full.multiplicity, local.multiplicity) == (L - LOCAL, LOCAL) == (2, 4)
    assert (full.multiplicity_display, local.multiplicity_display) == ("L - L_loc", "L_loc")
    assert full.flops_each == 2 * T * T * H * DK
    assert local.flops_each == 2 * T * W * H * DK == 37_748_736
    assert rows["attn_values_local"].flops_each == 2 * T * W * H * DV == 31_457_280
    assert local.shape == "H × (T×d_k)·(d_k×min(W, T))"
    assert report.params == dense.params  # no parameters
    # the windowed products save the masked part: 2·T·(T − W)·H·(d_k + d_v) per local layer
    masked = LOCAL * 2 * T * (T - W) * H * (DK + DV)
    assert dense.flops - report.flops == masked == 830_472_192
    # a dense kernel computes all T keys: flops_dense, and the dense convention counts it
    assert values["attn_scores_local.flops_dense_each"] == 2 * T * T * H * DK
    assert values["flops_dense"] == dense.flops == report.flops + masked
    assert values["convention.dense.forward"] == dense.flops
    assert any("what a windowed kernel computes" in note and "--convention dense" in note for note in report.notes)
    # a local layer's KV cache holds the last W tokens; decoding at t attends to min(t, W) keys
    assert values["attn_scores_local.kv_cache_each"] == W * KV * DK
    assert values["attn_values_local.kv_cache_each"] == W * KV * DV
    assert values["total.kv_cache"] == (L - LOCAL) * T * KV * (DK + DV) + LOCAL * W * KV * (DK + DV) == 270_336
    t = values["decode_position"]
    assert t > W and values["attn_scores_local.flops_decode_each"] == 2 * W * H * DK
    assert values["attn_scores.flops_decode_each"] == 2 * t * H * DK
    # the softmax over the window: 6 FLOPs per score
    assert values["attn_scores_local.flops_other_each"] == 6 * H * T * W
    assert values["attn_scores_local.activations_each"] == 2 * 4 * H * T * W


def test_sliding_window_defaults_to_every_layer_and_a_window_beyond_t_is_dense(registry):
    _, every = build(registry, {**SHAPE, "sliding_window": W}, attention="sliding_window")
    rows = rows_of(every)
    assert "attn_scores" not in rows  # ×0 full layers are hidden
    assert rows["attn_scores_local"].multiplicity == L
    values, wide = build(registry, {**SHAPE, "sliding_window": 4 * T}, attention="sliding_window")
    _, dense = build(registry, SHAPE)
    assert wide.flops == dense.flops and values["flops_dense"] == dense.flops
    assert values["decode_position"] < 4 * T  # min(t, W) = t


def test_sliding_window_errors(registry):
    with pytest.raises(AcctError, match="is missing 'sliding_window'"):
        build(registry, SHAPE, attention="sliding_window")
    with pytest.raises(AcctError, match=r"attn_scores.multiplicity must be at least 0, got -1 from "
                                        r"num_layers - local_layers \(with num_layers = 6, local_layers = 7\)"):
        build(registry, {**SHAPE, "sliding_window": W, "local_layers": L + 1}, attention="sliding_window")
    with pytest.raises(AcctError, match="no chosen component reads it"):
        build(registry, {**SHAPE, "sliding_window": W})


# -- multi-head latent attention ---------------------------------------------------


# DeepSeek-V2-Lite's attention (query directly) and DeepSeek-V2.5's (query through q_lora_rank)
LITE = {"vocab_size": 102_400, "context_length": 4_096, "num_layers": 27, "d_model": 2_048, "num_heads": 16,
        "d_head": 128 + 64, "d_head_v": 128, "kv_lora_rank": 512, "qk_rope_head_dim": 64, "d_ff": 10_944}
V25 = {"vocab_size": 102_400, "context_length": 4_096, "num_layers": 60, "d_model": 5_120, "num_heads": 128,
       "d_head": 128 + 64, "d_head_v": 128, "kv_lora_rank": 512, "q_lora_rank": 1_536, "qk_rope_head_dim": 64,
       "d_ff": 12_288}


def test_mla_with_the_query_direct(registry):
    values, report = build(registry, LITE, qkv="mla", attention="mla")
    rows = rows_of(report)
    D, H, DK, DV, R, DR, T = 2_048, 16, 192, 128, 512, 64, 4_096
    # transformers' shapes: q_proj (3072, 2048), kv_a_proj_with_mqa (576, 2048), kv_a_layernorm (512,),
    # kv_b_proj (4096, 512), o_proj (2048, 2048)
    assert rows["q_proj"].params_each == D * H * DK == 6_291_456
    assert rows["kv_a_proj"].params_each == D * (R + DR) == 1_179_648
    assert rows["kv_a_norm"].params_each == R
    assert rows["kv_b_proj"].params_each == R * H * (DK - DR + DV) == 2_097_152
    assert rows["out_proj"].params_each == H * DV * D == 4_194_304
    attention = sum(row.params_each for row in report.rows if row.name in
                    ("q_proj", "kv_a_proj", "kv_a_norm", "kv_b_proj", "out_proj"))
    assert attention == 13_763_072  # DeepSeek-V2-Lite's layer 0 (81,007,104) less its MLP and two norms
    assert rows["attn_scores"].flops_each == 2 * T * T * H * DK
    assert rows["attn_values"].flops_each == 2 * T * T * H * DV
    assert rows["kv_b_proj"].flops_each == 2 * T * R * H * (DK - DR + DV)
    assert rows["kv_b_proj"].shape == "(T×r_kv)·(r_kv×H·(d_k - d_r + d_v))"
    # the cache holds the latent and the rotary key: 576 values per token per layer
    assert values["attn_scores.kv_cache_each"] == T * (R + DR) and values["attn_values.kv_cache_each"] == 0
    assert values["total.kv_cache"] == 27 * T * 576 == 63_700_992
    assert any("kv_lora_rank" in note and "qk_rope_head_dim" in note for note in report.notes)
    assert values["kv_a_norm.flops_other_each"] == 4 * T * R
    # Korthikanti et al. by analogy: the shared input with Q; the latent and rotary key; K_nope and V
    values, _ = build(registry, LITE, activations="korthikanti", qkv="mla", attention="mla")
    assert values["q_proj.activations_each"] == 4 * T * (D + H * DK)
    assert values["kv_a_proj.activations_each"] == 4 * T * (R + DR)
    assert values["kv_b_proj.activations_each"] == 4 * T * H * (DK - DR + DV)


def test_mla_with_the_query_through_a_low_rank(registry):
    values, report = build(registry, V25, qkv="mla_lora", attention="mla")
    rows = rows_of(report)
    D, H, DK, DV, R, RQ, DR = 5_120, 128, 192, 128, 512, 1_536, 64
    assert "q_proj" not in rows
    # transformers: q_a_proj (1536, 5120), q_a_layernorm (1536,), q_b_proj (24576, 1536)
    assert rows["q_a_proj"].params_each == D * RQ == 7_864_320
    assert rows["q_a_norm"].params_each == RQ
    assert rows["q_b_proj"].params_each == RQ * H * DK == 37_748_736
    attention = sum(row.params_each for row in report.rows if row.group in ("attention projections",)
                    or row.name in ("q_a_norm", "kv_a_norm"))
    assert attention == 149_227_520  # DeepSeek-V2.5's layer 0 (337,981,440) less its MLP and two norms
    assert [row.name for row in report.rows[:9]] == [
        "token_embedding", "rope", "q_a_proj", "q_a_norm", "q_b_proj", "kv_a_proj", "kv_a_norm", "kv_b_proj",
        "attn_scores"]
    # attention_bias: q_a_proj, kv_a_proj and o_proj carry one; q_b_proj and kv_b_proj never do
    _, biased = build(registry, V25, biases=["attention projections"], qkv="mla_lora", attention="mla")
    assert biased.params - report.params == 60 * (RQ + R + DR + D) == 433_920
    with pytest.raises(AcctError, match="the component 'kv_b_proj' has no layer that carries a bias"):
        build(registry, V25, biases=["kv_b_proj"], qkv="mla_lora", attention="mla")


def test_mla_needs_its_inputs(registry):
    with pytest.raises(AcctError, match="is missing 'q_lora_rank'"):
        build(registry, LITE, qkv="mla_lora", attention="mla")
    with pytest.raises(AcctError, match=r"\[model\] q_lora_rank: no chosen component reads it "
                                        r"\(it is read by qkv = mla_lora\)"):
        build(registry, {**LITE, "q_lora_rank": 1_536}, qkv="mla", attention="mla")


def test_every_new_variant_is_listed(registry):
    slots = registry.slots()
    assert slots["qkv"] == ["mha", "gqa", "mla", "mla_lora"]
    assert slots["attention"] == ["dot_product", "sliding_window", "mla"]
    assert slots["qk_norm"] == ["head", "proj", "head_layernorm"] and "qk_norm" not in registry.defaults
    assert registry.defaults["attention"] == "dot_product" and registry.defaults["qkv"] == "mha"
    assert (PRESETS / "qwen3-0.6b.toml").exists()
