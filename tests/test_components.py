"""Every builtin component, row by row, for GPT-2 XL (V=50,257 T=1,024 L=48 D=1,600 H=25 F=6,400)."""

import pytest

from acct.reports.run import shape_text

V, T, L, D, H, F = 50_257, 1_024, 48, 1_600, 25, 6_400
d_k = D // H

# name: (group, per layer?, params each, forward FLOPs each, shape as displayed)
EXPECTED = {
    "token_embedding": ("embedding", False, V * D, 0, None),
    "rope": ("embedding", False, 0, 0, None),
    "q_proj": ("attention projections", True, D * D, 2 * T * D * D, "(T×D)·(D×H·d_k)"),
    "k_proj": ("attention projections", True, D * D, 2 * T * D * D, "(T×D)·(D×H_kv·d_k)"),
    "v_proj": ("attention projections", True, D * D, 2 * T * D * D, "(T×D)·(D×H_kv·d_v)"),
    "attn_scores": ("attention scores and values", True, 0, 2 * H * T * d_k * T, "H × (T×d_k)·(d_k×T)"),
    "attn_values": ("attention scores and values", True, 0, 2 * H * T * T * d_k, "H × (T×T)·(T×d_v)"),
    "out_proj": ("attention projections", True, D * D, 2 * T * D * D, "(T×H·d_v)·(H·d_v×D)"),
    "ffn_w1": ("FFN", True, D * F, 2 * T * D * F, "(T×D)·(D×F)"),
    "ffn_w3": ("FFN", True, D * F, 2 * T * D * F, "(T×D)·(D×F)"),
    "ffn_w2": ("FFN", True, F * D, 2 * T * F * D, "(T×F)·(F×D)"),
    "block_norms": ("norms", True, 2 * D, 0, None),
    "final_norm": ("norms", False, D, 0, None),
    "lm_head": ("LM head", False, D * V, 2 * T * D * V, "(T×D)·(D×V)"),
}


def test_the_rows_are_exactly_the_builtin_components(report_of):
    assert [row.name for row in report_of("gpt2-xl").rows] == list(EXPECTED)


@pytest.mark.parametrize("name", EXPECTED)
def test_builtin_component(report_of, name):
    group, per_layer, params, flops, shape = EXPECTED[name]
    row = next(row for row in report_of("gpt2-xl").rows if row.name == name)
    assert (row.group, row.per_layer, row.params_each, row.flops_each, row.shape) == (
        group, per_layer, params, flops, shape,
    )
    multiplicity = L if per_layer else 1
    assert row.multiplicity == multiplicity
    assert row.params == params * multiplicity
    assert row.flops == flops * multiplicity


def test_displayed_formulas_use_the_literature_notation(report_of):
    rows = {row.name: row for row in report_of("gpt2-xl").rows}
    # the attention width is H·d_k (= D for GPT-2, not for Gemma or Qwen3), so it is shown as such
    assert rows["q_proj"].params_display == "D·H·d_k"
    assert rows["q_proj"].flops_display == "2·T·D·H·d_k"
    assert rows["k_proj"].params_display == "D·H_kv·d_k"
    assert rows["out_proj"].params_display == "H·d_v·D"
    assert rows["attn_scores"].flops_display == "2·T²·H·d_k"
    assert rows["attn_values"].flops_display == "2·T²·H·d_v"
    assert rows["ffn_w1"].flops_display == "2·T·D·F"
    assert rows["lm_head"].flops_display == "2·T·D·V"
    assert rows["token_embedding"].params_display == "V·D"


def test_matmul_flops_agree_with_their_shapes(registry):
    """2·batch·m·k·n from the stated shape equals the FLOPs formula, for every builtin matmul,
    on a shape where H·d_k ≠ D and every width differs from the others."""
    values = {"vocab_size": 1000, "context_length": 96, "num_layers": 3, "d_model": 120,
              "num_heads": 8, "d_head": 17, "d_head_v": 13, "d_ff": 352, "num_kv_heads": 2,
              "sliding_window": 40, "local_layers": 2, "kv_lora_rank": 24, "q_lora_rank": 36,
              "qk_rope_head_dim": 5,
              "num_experts": 6, "experts_per_token": 2, "d_ff_expert": 88, "d_ff_shared": 176}
    checked = 0
    for components in registry.variants.values():
        for row in components:
            if row.shape is None:
                continue
            product = 2 * (row.batch.evaluate(values) if row.batch else 1)
            for side in row.shape:
                product *= side.evaluate(values)
            assert row.flops.evaluate(values) == product, row.spec.name
            checked += 1
    assert checked >= 10


def test_shape_text_for_batched_products(registry):
    row = registry.variants[("attention", "dot_product")][0]
    assert shape_text(row, {"context_length": "T", "d_head": "d_k", "num_heads": "H"}) == "H × (T×d_k)·(d_k×T)"
