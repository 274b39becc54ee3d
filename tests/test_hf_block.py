"""The block variants against Hugging Face transformers' own model classes: parameters are
sum(p.numel()), forward FLOPs are FlopCounterMode's, module by module.

Dense models (Phi-2, Pythia-1B, Falcon-7B, OLMo-1B) are built from their published config.json
on the meta device, at T = 64. Mixtures of experts route by value, so Mixtral, Qwen2-MoE and a
DeepSeek-V2-shaped model run for real on the CPU from tiny configs of the same structure (with
the experts' eager implementation, which the counter sees); the full-size MoE configs are
counted on meta for their parameters. Each transformers module is mapped to the acct rows that
count it, and every module with FLOPs must be mapped: nothing is skipped.
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
from hf_reference import hf_flops, hf_model, hf_params  # noqa: E402

HF = Path(__file__).resolve().parent / "data" / "hf"
TOKENS = 64
PRODUCTS = ("attn_scores", "attn_values")  # eager attention's own matmuls: QKᵀ and attention·V

# transformers module (its path after the layer index) -> the acct rows that count it
PHI = {"self_attn.q_proj": ("q_proj",), "self_attn.k_proj": ("k_proj",), "self_attn.v_proj": ("v_proj",),
       "self_attn.dense": ("out_proj",), "self_attn": PRODUCTS, "mlp.fc1": ("ffn_in",), "mlp.fc2": ("ffn_out",),
       "lm_head": ("lm_head",)}
FUSED_QKV = ("q_proj", "k_proj", "v_proj")
PYTHIA = {"attention.query_key_value": FUSED_QKV, "attention.dense": ("out_proj",), "attention": PRODUCTS,
          "mlp.dense_h_to_4h": ("ffn_in",), "mlp.dense_4h_to_h": ("ffn_out",), "lm_head": ("lm_head",)}
FALCON = {"self_attention.query_key_value": FUSED_QKV, "self_attention.dense": ("out_proj",),
          "self_attention": PRODUCTS, "mlp.dense_h_to_4h": ("ffn_in",), "mlp.dense_4h_to_h": ("ffn_out",),
          "lm_head": ("lm_head",)}
LLAMA_ATTENTION = {"self_attn.q_proj": ("q_proj",), "self_attn.k_proj": ("k_proj",), "self_attn.v_proj": ("v_proj",),
                   "self_attn.o_proj": ("out_proj",), "self_attn": PRODUCTS, "lm_head": ("lm_head",)}
OLMO = {**LLAMA_ATTENTION, "mlp.gate_proj": ("ffn_w1",), "mlp.up_proj": ("ffn_w3",), "mlp.down_proj": ("ffn_w2",)}
EXPERTS = ("expert_w1", "expert_w3", "expert_w2")  # transformers fuses them into one module
MOE = {"mlp.gate": ("router",), "mlp.experts": EXPERTS,
       "mlp.gate_proj": ("dense_w1",), "mlp.up_proj": ("dense_w3",), "mlp.down_proj": ("dense_w2",)}
MIXTRAL = {**LLAMA_ATTENTION, **MOE}
QWEN2_MOE = {**LLAMA_ATTENTION, **MOE, "mlp.shared_expert.gate_proj": ("shared_w1",),
             "mlp.shared_expert.up_proj": ("shared_w3",), "mlp.shared_expert.down_proj": ("shared_w2",),
             "mlp.shared_expert_gate": ("shared_expert_gate",)}
DEEPSEEK_FFN = {**MOE, "mlp.shared_experts.gate_proj": ("shared_w1",), "mlp.shared_experts.up_proj": ("shared_w3",),
                "mlp.shared_experts.down_proj": ("shared_w2",)}


def config(name):
    return json.loads((HF / f"{name}.json").read_text())


def per_module(own):
    """Module FLOPs summed over the layers, keyed by the path after the layer index
    (`mlp.experts`), or after the model class outside the layers (`lm_head`)."""
    totals = {}
    for name, flops in own.items():
        if not flops:
            continue
        parts = name.split(".")
        index = next((i for i, part in enumerate(parts) if part.isdigit()), None)
        key = ".".join(parts[index + 1:]) if index is not None else ".".join(parts[1:])
        totals[key] = totals.get(key, 0) + flops
    return totals


def acct_report(registry, preset, **overrides):
    return make_report(build_model(preset, registry, overrides))


def assert_rows_match(report, hf_modules, mapping, only=None):
    """Each transformers module's FLOPs equal the sum of its acct rows; every module (and, unless
    `only` restricts the comparison to some modules, every acct row with FLOPs) is mapped."""
    rows = {row.name: row.flops for row in report.rows}
    modules = {key: flops for key, flops in hf_modules.items() if only is None or key.startswith(only)}
    assert set(modules) <= set(mapping), f"transformers modules acct does not map: {set(modules) - set(mapping)}"
    mapped = set()
    for module, flops in modules.items():
        names = mapping[module]
        assert sum(rows[name] for name in names) == flops, f"{module}: transformers {flops:,}, acct {names}"
        mapped.update(names)
    if only is None:
        assert {name for name, flops in rows.items() if flops} == mapped


# -- dense models, full size, meta device ----------------------------------------

DENSE = {  # acct preset: (config.json, module mapping)
    "phi-2": ("phi-2", PHI),
    "pythia-1b": ("pythia-1b", PYTHIA),
    "falcon-7b": ("falcon-7b-instruct", FALCON),
    "olmo-1b": ("olmo-1b-hf", OLMO),
}


@pytest.mark.parametrize("name", DENSE)
def test_dense_presets_match_transformers(registry, name):
    config_name, mapping = DENSE[name]
    model = hf_model(config(config_name))
    report = acct_report(registry, load_preset(PRESETS / f"{name}.toml"), context_length=TOKENS)
    assert report.params == hf_params(model)
    total, own = hf_flops(model, TOKENS)
    assert report.flops == total
    assert_rows_match(report, per_module(own), mapping)


# -- mixtures of experts ---------------------------------------------------------

TINY = dict(vocab_size=128, hidden_size=64, num_hidden_layers=3, num_attention_heads=4, tie_word_embeddings=False)
MOE_TOKENS = 16


def tiny_preset(ffn_inputs, biases=(), num_kv_heads=4):
    """acct's preset of a TINY config: D = 64, 4 heads, 3 layers, V = 128, T = 16, RMSNorm, RoPE."""
    inputs = {"vocab_size": 128, "context_length": MOE_TOKENS, "num_layers": 3, "d_model": 64, "num_heads": 4,
              **ffn_inputs}
    variants = {"qkv": "mha", "ffn": "moe", "norm": "rmsnorm", "lm_head": "untied", "position": "rope"}
    if num_kv_heads != 4:
        inputs["num_kv_heads"] = num_kv_heads
        variants["qkv"] = "gqa"
    return Preset(Path("tiny.toml"), "tiny", inputs=inputs, variants=variants, biases=list(biases))


def run_tiny(registry, hf_config, preset, mapping, only=None):
    model = hf_model(hf_config, device="cpu")
    report = acct_report(registry, preset)
    total, own = hf_flops(model, MOE_TOKENS, device="cpu")
    modules = per_module(own)
    assert_rows_match(report, modules, mapping, only)
    return model, report, total, modules


def test_mixtral_tiny_on_cpu(registry):
    hf_config = dict(TINY, model_type="mixtral", intermediate_size=96, num_key_value_heads=2, num_local_experts=4,
                     num_experts_per_tok=2)
    preset = tiny_preset({"d_ff": 96, "d_ff_expert": 96, "num_experts": 4, "experts_per_token": 2}, num_kv_heads=2)
    model, report, total, modules = run_tiny(registry, hf_config, preset, MIXTRAL)
    assert (report.params, report.flops) == (hf_params(model), total)
    # the experts ran on k·T = 32 token copies (2 of 4 experts per token), in each of 3 layers:
    # gate and up D→2·F_e fused, down F_e→D
    assert modules["mlp.experts"] == 3 * (2 * MOE_TOKENS) * (2 * 64 * 2 * 96 + 2 * 96 * 64)


def test_qwen2_moe_tiny_on_cpu_with_a_dense_layer(registry):
    """A gated shared expert of its own width, QKV biases, and layer 0 dense (mlp_only_layers)."""
    hf_config = dict(TINY, model_type="qwen2_moe", intermediate_size=80, num_key_value_heads=4, num_experts=4,
                     num_experts_per_tok=2, moe_intermediate_size=32, shared_expert_intermediate_size=48,
                     mlp_only_layers=[0], decoder_sparse_step=1)
    preset = tiny_preset({"d_ff": 80, "num_experts": 4, "experts_per_token": 2, "d_ff_expert": 32,
                          "num_shared_experts": 1, "d_ff_shared": 48, "shared_expert_gate": 1, "moe_layers": 2},
                         biases=["q_proj", "k_proj", "v_proj"])
    model, report, total, _ = run_tiny(registry, hf_config, preset, QWEN2_MOE)
    assert (report.params, report.flops) == (hf_params(model), total)
    rows = {row.name: row for row in report.rows}
    assert rows["dense_w1"].multiplicity == 1 and rows["expert_w1"].multiplicity == 2


def test_deepseek_v2_tiny_ffn_rows_on_cpu(registry):
    """DeepSeek-V2's MoE side: first_k_dense_replace = 1 dense layer, 2 shared experts at the expert
    width, no gate. Its attention is multi-head latent attention, which this block's plugins do not
    model: only the FFN modules are compared (FLOPs by module, parameters of the mlp modules)."""
    hf_config = dict(TINY, model_type="deepseek_v2", intermediate_size=80, num_key_value_heads=4,
                     n_routed_experts=4, num_experts_per_tok=2, moe_intermediate_size=32, n_shared_experts=2,
                     first_k_dense_replace=1, q_lora_rank=None, kv_lora_rank=16, qk_nope_head_dim=16,
                     qk_rope_head_dim=8, v_head_dim=16)
    preset = tiny_preset({"d_ff": 80, "num_experts": 4, "experts_per_token": 2, "d_ff_expert": 32,
                          "num_shared_experts": 2, "moe_layers": 2})
    model, report, _, _ = run_tiny(registry, hf_config, preset, DEEPSEEK_FFN, only="mlp.")
    mlp = sum(p.numel() for name, p in model.named_parameters() if ".mlp." in name)
    assert sum(row.params for row in report.rows if row.group == "FFN") == mlp


@pytest.mark.parametrize("name, config_name", [("mixtral-8x7b", "mixtral-8x7b-v0.1"),
                                               ("qwen1.5-moe-a2.7b", "qwen1.5-moe-a2.7b")])
def test_full_size_moe_parameters_on_meta(registry, name, config_name):
    report = acct_report(registry, load_preset(PRESETS / f"{name}.toml"))
    assert report.params == hf_params(hf_model(config(config_name)))


def test_deepseek_v2_lite_ffn_parameters_on_meta(registry):
    """DeepSeek-V2-Lite's FFN side at full size: layer 0 dense (10944 wide), 26 MoE layers of 64
    experts (1408 wide, 6 routed) and 2 shared experts; its MLA attention is left out."""
    model = hf_model(config("deepseek-v2-lite"))
    mlp = sum(p.numel() for name, p in model.named_parameters() if ".mlp." in name)
    preset = tiny_preset({"vocab_size": 102_400, "num_layers": 27, "d_model": 2_048, "num_heads": 16, "d_ff": 10_944,
                          "num_experts": 64, "experts_per_token": 6, "d_ff_expert": 1_408, "num_shared_experts": 2,
                          "moe_layers": 26})
    report = acct_report(registry, preset)
    assert sum(row.params for row in report.rows if row.group == "FFN") == mlp == 3 * 2_048 * 10_944 + 26 * (
        2_048 * 64 + 64 * 3 * 2_048 * 1_408 + 3 * 2_048 * 2 * 1_408)
