"""Builtin variants and the presets that reproduce published parameter counts exactly.

Each published count is sum(p.numel()) of the released model (tied weights once),
as printed in its model card or computed from its config.json; each is also
derived here by hand from the config, so a wrong formula and a wrong constant
both fail.
"""

import pytest

from acct.model.config import load_preset
from acct.errors import AcctError
from acct.model.model import build_model
from acct.reports.run import make_report
from conftest import PRESETS


def openai_gpt2(L, D, V=50_257, P=1_024):
    """GPT-2 as released: wte + wpe + L·(ln_1, c_attn with bias, c_proj with bias, ln_2,
    c_fc with bias, c_proj with bias) + ln_f; the LM head is tied to wte."""
    F = 4 * D
    block = 2 * D + (3 * D * D + 3 * D) + (D * D + D) + 2 * D + (D * F + F) + (F * D + D)
    return V * D + P * D + L * block + 2 * D


def llama(V, D, L, H, kv, F):
    """embed + L·(q, k, v, o without bias; SwiGLU w1, w3, w2; two RMSNorms) + final norm + untied head."""
    d_k = D // H
    block = 2 * D * D + 2 * D * kv * d_k + 3 * D * F + 2 * D
    return V * D + L * block + D + D * V


PUBLISHED = {
    "openai-gpt2-small": (124_439_808, openai_gpt2(12, 768)),
    "openai-gpt2-medium": (354_823_168, openai_gpt2(24, 1024)),
    "openai-gpt2-large": (774_030_080, openai_gpt2(36, 1280)),
    "openai-gpt2-xl": (1_557_611_200, openai_gpt2(48, 1600)),
    "llama-2-7b": (6_738_415_616, llama(32_000, 4096, 32, 32, 32, 11_008)),
    "llama-3-8b": (8_030_261_248, llama(128_256, 4096, 32, 32, 8, 14_336)),
    "mistral-7b-v0.1": (7_241_732_096, llama(32_000, 4096, 32, 32, 8, 14_336)),
}


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_parameter_counts(report_of, name):
    published, by_hand = PUBLISHED[name]
    assert published == by_hand
    assert report_of(name).params == published


@pytest.mark.parametrize("name", PUBLISHED)
def test_presets_cite_their_source(name):
    preset = load_preset(PRESETS / f"{name}.toml")
    assert "config" in preset.source
    published = f"{PUBLISHED[name][0]:,}"
    assert published in preset.source


def test_tied_head_saves_exactly_v_times_d_and_keeps_its_flops(registry):
    preset = load_preset(PRESETS / "gpt2-xl.toml")
    untied = make_report(build_model(preset, registry))
    preset.choose("lm_head", "tied", "--variant")
    tied = make_report(build_model(preset, registry))
    assert untied.params - tied.params == 50_257 * 1_600 == 80_411_200
    assert tied.flops == untied.flops == 4_513_336_524_800
    lm_head = next(row for row in tied.rows if row.name == "lm_head")
    assert lm_head.params == 0 and lm_head.flops == 2 * 1024 * 1600 * 50_257
    assert "shares the token embedding's V×D weight" in lm_head.note


def test_gelu_ffn_costs_4_t_d_f(report_of):
    rows = {row.name: row for row in report_of("openai-gpt2-small").rows}
    T, D, F = 1024, 768, 3072
    assert rows["ffn_in"].flops_each + rows["ffn_out"].flops_each == 4 * T * D * F
    assert (rows["ffn_in"].params_each, rows["ffn_out"].params_each) == (D * F + F, F * D + D)
    assert rows["ffn_in"].params_display == "D·F + F"


def test_layernorm_learned_positions_and_biases(report_of):
    rows = {row.name: row for row in report_of("openai-gpt2-small").rows}
    assert rows["block_norms"].params_each == 2 * (2 * 768)  # two LayerNorms, gain and bias
    assert rows["final_norm"].params_each == 2 * 768
    assert rows["learned_positions"].params == 1024 * 768 and rows["learned_positions"].flops == 0
    assert rows["q_proj"].params_each == 768 * 768 + 768
    assert rows["q_proj"].params_display == "D·H·d_k + H·d_k"


def test_learned_positions_refuse_a_context_beyond_the_table(report_of):
    with pytest.raises(AcctError, match="2,048 tokens do not fit the 1,024 learned positions"):
        report_of("openai-gpt2-small", context_length=2048)


def test_position_variants_other_than_learned_add_no_parameters(registry):
    preset = load_preset(PRESETS / "gpt2-small.toml")
    counts = {}
    for variant in ("rope", "none"):
        preset.choose("position", variant, "--variant")
        counts[variant] = make_report(build_model(preset, registry)).params
    preset.choose("position", "learned", "--variant")
    learned = make_report(build_model(preset, registry)).params
    assert counts["rope"] == counts["none"] == 190_460_160
    assert learned - counts["rope"] == 1024 * 768


def test_gqa_projections_and_attention_over_all_query_heads(report_of):
    report = report_of("llama-3-8b")
    rows = {row.name: row for row in report.rows}
    T, D, H, kv = 8192, 4096, 32, 8
    d_k = D // H
    assert rows["k_proj"].params_each == rows["v_proj"].params_each == D * kv * d_k == 4_194_304
    assert rows["k_proj"].flops_each == 2 * T * D * kv * d_k
    assert rows["k_proj"].shape == "(T×D)·(D×H_kv·d_k)"
    assert rows["q_proj"].params_each == D * D
    # QKᵀ and attention·V run over all H query heads, as the model computes them
    assert rows["attn_scores"].flops_each == 2 * H * T * d_k * T
    assert any("counted over all num_heads query heads" in note for note in report.notes)


def test_multi_query_attention(report_of):
    rows = {row.name: row for row in report_of("llama-3-8b", num_kv_heads=1).rows}
    assert rows["k_proj"].params_each == 4096 * 128


def test_gqa_heads_must_divide(report_of):
    with pytest.raises(AcctError, match="queries_per_kv = num_heads / num_kv_heads gives 32/3"):
        report_of("llama-3-8b", num_kv_heads=3)


def test_an_input_no_chosen_component_reads_is_an_error(report_of):
    with pytest.raises(AcctError, match=r"--set max_positions: no chosen component reads it "
                       r"\(it is read by position = learned\)"):
        report_of("gpt2-xl", max_positions=5000)


def test_biases_name_components_or_groups(tmp_path, registry):
    text = (PRESETS / "llama-3-8b.toml").read_text()
    path = tmp_path / "qwen-like.toml"
    path.write_text('biases = ["q_proj", "k_proj", "v_proj"]\n' + text)  # Qwen2 biases Q, K, V only
    report = make_report(build_model(load_preset(path), registry))
    assert report.params == 8_030_261_248 + 32 * (4096 + 1024 + 1024)
    for bad, message in (("q_porj", "no chosen component or group is named 'q_porj' (did you mean q_proj,"),
                         ("block_norms", "the component 'block_norms' has no layer that carries a bias; those "
                                         "that can: q_proj, k_proj, v_proj, out_proj, ffn_w1, ffn_w3, ffn_w2, lm_head"),
                         # a group with no linear layer is refused the same way, never silently ignored
                         ("embedding", "the group 'embedding' has no layer that carries a bias"),
                         ("norms", "the group 'norms' has no layer that carries a bias")):
        path.write_text(f'biases = ["{bad}"]\n' + text)
        with pytest.raises(AcctError) as error:
            build_model(load_preset(path), registry)
        assert str(error.value).startswith(f"{path}: biases: ") and message in str(error.value)
