"""Every preset under presets/ gives its published parameter count, exactly; the newest architectures
(sandwich norms with sliding-window layers, MLA with MoE after a dense layer) also against
transformers' own model classes and by hand."""

import json
from pathlib import Path

import pytest

from conftest import PRESETS

HF = Path(__file__).resolve().parent / "data" / "hf"

# name: (published parameter count, where it is published)
PUBLISHED = {
    "gpt2-small": (190_460_160, "DESIGN.md, the textbook shape"),
    "gpt2-medium": (505_629_696, "DESIGN.md"),
    "gpt2-large": (1_072_469_760, "DESIGN.md"),
    "gpt2-xl": (2_127_057_600, "DESIGN.md"),
    "openai-gpt2-small": (124_439_808, "openai-community/gpt2 model card"),
    "openai-gpt2-medium": (354_823_168, "openai-community/gpt2-medium"),
    "openai-gpt2-large": (774_030_080, "openai-community/gpt2-large"),
    "openai-gpt2-xl": (1_557_611_200, "openai-community/gpt2-xl"),
    "llama-2-7b": (6_738_415_616, "meta-llama/Llama-2-7b-hf safetensors"),
    "llama-3-8b": (8_030_261_248, "meta-llama/Meta-Llama-3-8B safetensors"),
    "llama-2-70b": (68_976_648_192, "meta-llama/Llama-2-70b-hf safetensors"),
    "llama-3.2-1b": (1_235_814_400, "meta-llama/Llama-3.2-1B safetensors"),
    "mistral-7b-v0.1": (7_241_732_096, "mistralai/Mistral-7B-v0.1 safetensors"),
    "qwen3-0.6b": (596_049_920, "Qwen/Qwen3-0.6B"),
    "gemma-2b": (2_506_172_416, "google/gemma-2b"),
    "gemma-2-2b": (2_614_341_888, "google/gemma-2-2b"),
    "phi-2": (2_779_683_840, "microsoft/phi-2"),
    "pythia-1b": (1_011_781_632, "EleutherAI/pythia-1b"),
    "falcon-7b": (6_921_720_704, "tiiuae/falcon-7b"),
    "olmo-1b": (1_176_764_416, "allenai/OLMo-1B-hf"),
    "mixtral-8x7b": (46_702_792_704, "mistralai/Mixtral-8x7B-v0.1"),
    "qwen1.5-moe-a2.7b": (14_315_784_192, "Qwen/Qwen1.5-MoE-A2.7B"),
    "deepseek-v2-lite": (15_706_484_224, "deepseek-ai/DeepSeek-V2-Lite"),
    # Table 1 gives 540.35B; the exact count is derived by hand in tests/test_sources.py
    "palm-540b": (540_356_474_880, "Chowdhery et al. 2022, Table 1 and §2"),
    # Table 2.1 gives 175.0B: 96·(12·D² + 13·D) + (V + T)·D + 2·D with GPT-2's block and vocabulary
    "gpt3-175b": (174_604_259_328, "Brown et al. 2020, Table 2.1 and §2.1"),
}


def test_every_preset_has_its_published_count():
    assert sorted(path.stem for path in PRESETS.glob("*.toml")) == sorted(PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_count(report_of, name):
    report = report_of(name)
    assert report.params == PUBLISHED[name][0]
    assert sum(row.params for row in report.rows) == report.params


def test_gemma_2_2b_by_hand(report_of):
    """Sandwich norms (four per block), GQA with d_k = 256 ≠ D/H, GeGLU, tied; 13 of 26 layers windowed."""
    V, D, L, H, H_kv, d, F, T, W = 256_000, 2_304, 26, 8, 4, 256, 9_216, 8_192, 4_096
    report = report_of("gemma-2-2b")
    block = D * H * d + 2 * D * H_kv * d + H * d * D + 3 * D * F + 4 * D
    assert report.params == V * D + L * block + D == 2_614_341_888
    projections = 2 * T * (D * H * d + 2 * D * H_kv * d + H * d * D + 3 * D * F)
    full, local = 2 * 2 * T * T * H * d, 2 * 2 * T * W * H * d
    assert report.flops == L * projections + 13 * full + 13 * local + 2 * T * D * V
    assert not report.uniform_layers


def test_deepseek_v2_lite_by_hand(report_of):
    """MLA (query direct, kv_lora_rank 512, rope 64, nope 128, v 128), one dense layer, then 26 MoE
    layers of 64 routed experts (6 per token) and 2 shared, all of width 1,408."""
    V, D, L, H, r_kv, d_r, d_n, d_v = 102_400, 2_048, 27, 16, 512, 64, 128, 128
    F, E, k, F_e, E_s = 10_944, 64, 6, 1_408, 2
    attention = D * H * (d_n + d_r) + D * (r_kv + d_r) + r_kv + r_kv * H * (d_n + d_v) + H * d_v * D
    expert = 3 * D * F_e
    moe = D * E + E * expert + E_s * expert
    report = report_of("deepseek-v2-lite")
    assert report.params == 2 * V * D + L * (attention + 2 * D) + 3 * D * F + 26 * moe + D
    assert report.params_active == report.params - 26 * (E - k) * expert == 2_661_150_208


def _hf(name):
    from hf_reference import hf_model

    return hf_model(json.loads((HF / f"{name}.json").read_text()))


@pytest.mark.parametrize("preset, config", [("gemma-2-2b", "gemma-2-2b"), ("deepseek-v2-lite", "deepseek-v2-lite")])
def test_transformers_builds_the_same_parameter_count(report_of, preset, config):
    pytest.importorskip("transformers")
    from hf_reference import hf_params

    assert hf_params(_hf(config)) == report_of(preset).params


def test_gemma_2_2b_flops_against_flop_counter(report_of):
    """At T = 64 and a window of 16, transformers' eager attention masks a dense product: its count is
    acct's `dense` convention, and acct's windowed count is less by exactly the masked keys."""
    pytest.importorskip("transformers")
    from hf_reference import hf_flops, hf_model

    config = json.loads((HF / "gemma-2-2b.json").read_text())
    config.update(sliding_window=16, num_hidden_layers=4, vocab_size=1_000)
    total, _ = hf_flops(hf_model(config), 64)
    report = report_of("gemma-2-2b", context_length=64, sliding_window=16, num_layers=4, local_layers=2,
                       vocab_size=1_000)
    H, d, T, W = 8, 256, 64, 16
    masked = 2 * 2 * 2 * T * (T - W) * H * d  # two local layers, QKᵀ and attention·V
    dense = next(c for c in report.counting if c.name == "dense")
    assert total == dense.forward == report.flops + masked


def test_mla_decoding_up_projects_the_cached_latents(cli):
    """From the latent cache, each decode step at position t runs kv_b_proj over all t latents:
    2·t·r_kv·H·(d_nope + d_v) per layer, as transformers' DeepSeek forward does."""
    status, out, err = cli("infer", str(PRESETS / "deepseek-v2-lite.toml"), "-f", "json")
    assert status == 0, err
    rows = {row["name"]: row for row in json.loads(out)["rows"]}
    assert rows["kv_b_proj"]["flops_decode"] == 27 * 2 * 4_096 * 512 * 16 * (128 + 128) == 463_856_467_968
