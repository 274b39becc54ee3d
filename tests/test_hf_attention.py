"""The attention family against Hugging Face transformers' own models: sum(p.numel()) and FlopCounterMode.

Each model is built from a config.json dict (tests/data/hf, as published, or a small synthetic
one) on the meta device with eager attention, and counted at T = 64 tokens; acct's preset for the
same model is built with context_length = 64. Parameters and forward FLOPs must agree exactly,
and row by row where the module names allow: q_proj ↔ self_attn.q_proj, ..., and QKᵀ + attention·V
↔ the FLOPs of the self_attn module itself.

One documented difference: transformers' sliding-window layers run the eager kernel with a mask,
which computes all T keys. acct counts what a windowed kernel computes (min(W, T) keys), so for
T > W FlopCounterMode equals acct's `dense` convention (flops_dense), and acct's own count is less
by exactly the masked part, 2·T·(T − W)·H·(d_k + d_v) per windowed layer.
"""

import json
from pathlib import Path

import pytest

from acct.model.config import Preset, load_preset
from acct.model.model import build_model
from acct.reports.run import make_report
from conftest import PRESETS

pytest.importorskip("torch")
pytest.importorskip("transformers")
from hf_reference import by_suffix, hf_flops, hf_model, hf_params  # noqa: E402

HF = Path(__file__).resolve().parent / "data" / "hf"
TOKENS = 64

# acct's row -> transformers' module suffix within a layer (or after the model class)
MODULES = {
    "q_proj": "self_attn.q_proj", "k_proj": "self_attn.k_proj", "v_proj": "self_attn.v_proj",
    "out_proj": "self_attn.o_proj", "q_a_proj": "self_attn.q_a_proj", "q_b_proj": "self_attn.q_b_proj",
    "kv_a_proj": "self_attn.kv_a_proj_with_mqa", "kv_b_proj": "self_attn.kv_b_proj",
    "ffn_w1": "mlp.gate_proj", "ffn_w3": "mlp.up_proj", "ffn_w2": "mlp.down_proj", "lm_head": "lm_head",
}


def acct_values(registry, preset, **overrides):
    """acct's evaluated sheet and report for `preset` (a preset name or a Preset) at T = 64."""
    if isinstance(preset, str):
        preset = load_preset(PRESETS / f"{preset}.toml")
    model = build_model(preset, registry, {"context_length": TOKENS, **overrides})
    values = model.sheet.evaluate()
    return values, make_report(model, values)


def hf_counts(config, with_config=False):
    """transformers' parameters, forward FLOPs, and FLOPs per module suffix summed over the layers
    (and the model's resolved config, if asked)."""
    model = hf_model(config)
    total, own = hf_flops(model, TOKENS)
    counts = (hf_params(model), total, by_suffix(own))
    return counts + (model.config,) if with_config else counts


def assert_rows_match(report, modules, attention=None):
    """Every acct row with a transformers module counts the same FLOPs; every counted module is matched.
    `attention` is what self_attn's own FLOPs should be (by default acct's attention products)."""
    rows = {row.name: row for row in report.rows}
    matched = set()
    for row, module in MODULES.items():
        if row in rows:
            assert rows[row].flops == modules.get(module, 0), row
            matched.add(module)
    products = sum(row.flops for row in report.rows if row.group == "attention scores and values")
    assert modules["self_attn"] == (products if attention is None else attention)
    assert set(modules) - matched == {"self_attn"}, "a module acct has no row for"


def config(name):
    return json.loads((HF / f"{name}.json").read_text())


@pytest.mark.parametrize("name, published", [("qwen3-0.6b", 596_049_920), ("gemma-2b", 2_506_172_416),
                                             ("llama-3.2-1b", 1_235_814_400)])
def test_published_models_match_transformers(registry, name, published):
    params, flops, modules = hf_counts(config(name))
    _, report = acct_values(registry, name)
    assert report.params == params == published
    assert report.flops == flops
    assert_rows_match(report, modules)


def test_qk_norm_over_the_projection_matches_olmo2(registry):
    """OLMo-2's q_norm and k_norm span the whole projection (H·d_k and H_kv·d_k). Its two norms per
    block come after attention and the FFN rather than before: the same count as acct's pre-norms."""
    hf = config("olmo-2-0425-1b")
    params, flops, modules = hf_counts(hf)
    inputs = {"vocab_size": hf["vocab_size"], "context_length": TOKENS, "num_layers": hf["num_hidden_layers"],
              "d_model": hf["hidden_size"], "num_heads": hf["num_attention_heads"],
              "num_kv_heads": hf["num_key_value_heads"], "d_ff": hf["intermediate_size"]}
    preset = Preset(Path("olmo-2.toml"), "olmo-2", inputs=inputs, variants={"qkv": "gqa", "qk_norm": "proj"})
    _, report = acct_values(registry, preset)
    assert report.params == params == 1_484_916_736
    assert report.flops == flops
    assert_rows_match(report, modules)
    rows = {row.name: row for row in report.rows}
    assert rows["q_norm"].params_each == rows["k_norm"].params_each == 2_048


# A DeepSeek-V2-style config with every layer dense (first_k_dense_replace = num_hidden_layers) and
# widths that all differ: D 256, H 4, r_kv 64, d_r 16, nope 32 (d_k 48), d_v 24, r_q 96.
DEEPSEEK = {
    "model_type": "deepseek_v2", "vocab_size": 1000, "hidden_size": 256, "intermediate_size": 512,
    "moe_intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
    "n_routed_experts": 4, "n_shared_experts": 1, "num_experts_per_tok": 2, "first_k_dense_replace": 2,
    "kv_lora_rank": 64, "q_lora_rank": None, "qk_rope_head_dim": 16, "qk_nope_head_dim": 32, "v_head_dim": 24,
    "max_position_embeddings": TOKENS, "tie_word_embeddings": False, "attention_bias": False,
}


def mla_preset(hf, biases=()):
    """The acct preset of a DeepSeek-V2 config, as an importer would write it (spec: d_head = nope + rope)."""
    inputs = {"vocab_size": hf["vocab_size"], "context_length": TOKENS, "num_layers": hf["num_hidden_layers"],
              "d_model": hf["hidden_size"], "num_heads": hf["num_attention_heads"],
              "d_head": hf["qk_nope_head_dim"] + hf["qk_rope_head_dim"], "d_head_v": hf["v_head_dim"],
              "kv_lora_rank": hf["kv_lora_rank"], "qk_rope_head_dim": hf["qk_rope_head_dim"],
              "d_ff": hf["intermediate_size"]}
    variants = {"qkv": "mla", "attention": "mla"}
    if hf["q_lora_rank"] is not None:
        inputs["q_lora_rank"] = hf["q_lora_rank"]
        variants["qkv"] = "mla_lora"
    return Preset(Path("deepseek-v2-tiny.toml"), "deepseek-v2-tiny", inputs=inputs, variants=variants,
                  biases=list(biases))


@pytest.mark.parametrize("q_lora_rank, attention_bias", [(None, False), (96, False), (96, True)])
def test_multi_head_latent_attention_matches_transformers(registry, q_lora_rank, attention_bias):
    hf = {**DEEPSEEK, "q_lora_rank": q_lora_rank, "attention_bias": attention_bias}
    params, flops, modules = hf_counts(hf)
    # attention_bias: q_a_proj (if any), kv_a_proj_with_mqa and o_proj carry a bias
    biases = ["attention projections"] if attention_bias else []
    values, report = acct_values(registry, mla_preset(hf, biases))
    assert report.params == params
    assert report.flops == flops
    assert_rows_match(report, modules)
    # the cache MLA-aware kernels hold (and transformers' cache holds): latent and rotary key per layer
    assert values["total.kv_cache"] == 2 * TOKENS * (64 + 16)


# Mistral: every layer windowed. Qwen2 with use_sliding_window: layers from max_window_layers on are
# windowed, the first ones full. W = 16 < T = 64, so the windowed kernel skips 48 of 64 keys.
MISTRAL = {
    "model_type": "mistral", "vocab_size": 1000, "hidden_size": 256, "intermediate_size": 512,
    "num_hidden_layers": 3, "num_attention_heads": 8, "num_key_value_heads": 2, "head_dim": 48,
    "sliding_window": 16, "max_position_embeddings": TOKENS, "tie_word_embeddings": False,
}
QWEN2 = {
    "model_type": "qwen2", "vocab_size": 1000, "hidden_size": 256, "intermediate_size": 512,
    "num_hidden_layers": 4, "num_attention_heads": 8, "num_key_value_heads": 2, "use_sliding_window": True,
    "sliding_window": 16, "max_window_layers": 1, "max_position_embeddings": TOKENS, "tie_word_embeddings": True,
}


def window_preset(hf, local_layers, d_head, biases=(), lm_head="untied"):
    inputs = {"vocab_size": hf["vocab_size"], "context_length": TOKENS, "num_layers": hf["num_hidden_layers"],
              "d_model": hf["hidden_size"], "num_heads": hf["num_attention_heads"],
              "num_kv_heads": hf["num_key_value_heads"], "d_head": d_head, "d_ff": hf["intermediate_size"],
              "sliding_window": hf["sliding_window"], "local_layers": local_layers}
    return Preset(Path("window.toml"), "window", inputs=inputs, biases=list(biases),
                  variants={"qkv": "gqa", "attention": "sliding_window", "lm_head": lm_head})


@pytest.mark.parametrize("hf, local_layers, d_head, biases, lm_head", [
    (MISTRAL, 3, 48, (), "untied"),
    (QWEN2, 3, 32, ("q_proj", "k_proj", "v_proj"), "tied"),  # Qwen2 biases Q, K and V
])
def test_sliding_window_layers_against_transformers_eager_kernel(registry, hf, local_layers, d_head, biases,
                                                                  lm_head):
    params, flops, modules, resolved = hf_counts(hf, with_config=True)
    # the windowed layers as transformers lays them out (Mistral: every layer, no layer_types)
    kinds = getattr(resolved, "layer_types", None) or ["sliding_attention"] * hf["num_hidden_layers"]
    assert kinds.count("sliding_attention") == local_layers
    values, report = acct_values(registry, window_preset(hf, local_layers, d_head, biases, lm_head))
    H, W, T = hf["num_attention_heads"], hf["sliding_window"], TOKENS
    masked = local_layers * 2 * T * (T - W) * H * (d_head + d_head)
    assert report.params == params
    # the eager kernel computes every key under the mask: FlopCounterMode counts the dense products
    assert values["flops_dense"] == values["convention.dense.forward"] == flops
    assert report.flops == flops - masked
    dense_products = hf["num_hidden_layers"] * 2 * 2 * T * T * H * d_head
    products = sum(row.flops for row in report.rows if row.group == "attention scores and values")
    assert products == dense_products - masked
    assert_rows_match(report, modules, attention=dense_products)  # every other row as transformers counts it
    rows = {row.name: row for row in report.rows}
    assert rows["attn_scores_local"].multiplicity == local_layers
    assert rows.get("attn_scores") is None or rows["attn_scores"].multiplicity == hf["num_hidden_layers"] - local_layers
