"""The textbook GPT-2 presets against counts derived by hand and the numbers in DESIGN.md.

Textbook shape (CS336): SwiGLU, RMSNorm (gain only), RoPE, untied LM head, no biases,
d_ff = 4·D. With V = 50,257 and T = 1,024:

    params = 2·V·D                      (token embedding + LM head)
           + L·(4·D² + 3·D·F + 2·D)     (Q, K, V, O; W1, W3, W2; two RMSNorms)
           + D                          (final RMSNorm)
    forward FLOPs = L·(8·T·D² + 4·T²·D + 6·T·D·F) + 2·T·D·V
"""

from pathlib import Path

import pytest

from acct.model.config import tomllib

PRESETS = Path(__file__).resolve().parent.parent / "presets"

V, T = 50_257, 1_024
SHAPES = {  # name: (L, D, H)
    "gpt2-small": (12, 768, 12),
    "gpt2-medium": (24, 1024, 16),
    "gpt2-large": (36, 1280, 20),
    "gpt2-xl": (48, 1600, 25),
}
# Published in the issue and DESIGN.md; the hand formulas below must agree with them.
PARAMS = {"gpt2-small": 190_460_160, "gpt2-medium": 505_629_696, "gpt2-large": 1_072_469_760, "gpt2-xl": 2_127_057_600}
FLOPS = {
    "gpt2-small": 349_630_365_696,
    "gpt2-medium": 1_033_109_504_000,
    "gpt2-large": 2_257_754_521_600,
    "gpt2-xl": 4_513_336_524_800,
}


def hand_params(L, D):
    F = 4 * D
    return 2 * V * D + L * (4 * D * D + 3 * D * F + 2 * D) + D


def hand_flops(L, D, context=T):
    F = 4 * D
    return L * (8 * context * D * D + 4 * context * context * D + 6 * context * D * F) + 2 * context * D * V


@pytest.mark.parametrize("name", SHAPES)
def test_params_and_forward_flops(report_of, name):
    L, D, _ = SHAPES[name]
    report = report_of(name)
    assert PARAMS[name] == hand_params(L, D)
    assert FLOPS[name] == hand_flops(L, D)
    assert report.params == PARAMS[name]
    assert report.flops == FLOPS[name]
    assert sum(row.params for row in report.rows) == report.params
    assert sum(row.flops for row in report.rows) == report.flops


def test_gpt2_xl_per_layer_breakdown(report_of):
    report = report_of("gpt2-xl")
    flops = {row.name: row.flops_each for row in report.rows}
    assert flops["q_proj"] + flops["k_proj"] + flops["v_proj"] == 15_728_640_000  # 3·2·T·D²
    assert flops["attn_scores"] == 3_355_443_200  # 2·T²·D, not twice that
    assert flops["attn_values"] == 3_355_443_200
    assert flops["out_proj"] == 5_242_880_000
    assert flops["ffn_w1"] + flops["ffn_w3"] == 41_943_040_000
    assert flops["ffn_w2"] == 20_971_520_000
    assert flops["ffn_w1"] + flops["ffn_w3"] + flops["ffn_w2"] == 62_914_560_000
    assert report.flops_per_layer == 90_596_966_400
    assert flops["lm_head"] == 164_682_137_600
    assert report.flops == 48 * 90_596_966_400 + 164_682_137_600 == 4_513_336_524_800
    assert report.params_per_layer == 4 * 1600**2 + 3 * 1600 * 6400 + 2 * 1600 == 40_963_200


def test_gpt2_xl_memory(report_of):
    memory = {dtype: size for dtype, _, size in report_of("gpt2-xl").memory}
    assert memory["fp32"] == 4 * 2_127_057_600 == 8_508_230_400  # 7.92 GiB, 8.51 GB
    assert memory["bf16 / fp16"] == 4_254_115_200
    assert memory["int8"] == 2_127_057_600


def test_gpt2_xl_at_long_context(report_of):
    report = report_of("gpt2-xl", context_length=16_384)
    assert report.flops == hand_flops(48, 1600, context=16_384) == 149_522_795_724_800
    assert report.params == 2_127_057_600  # RoPE: context length adds no parameters
    attention = next(g for g in report.groups if g.name == "attention scores and values")
    # 48·4·16384²·1600 / 149,522,795,724,800 = 55.15%
    assert attention.flops == 48 * 4 * 16_384**2 * 1600 == 82_463_372_083_200
    assert round(attention.flops_share * 1000) == 552


@pytest.mark.parametrize("name", SHAPES)
def test_presets_name_every_variant(registry, name):
    variants = tomllib.loads((PRESETS / f"{name}.toml").read_text())["variants"]
    # every slot with a default; optional slots (qk_norm) only when the model has the feature
    assert set(variants) == set(registry.defaults)
