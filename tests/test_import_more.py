"""The importers of plugins/hf_granite.py, hf_more.py and hf_recent.py beyond the shared table of
tests/test_import.py (which checks each of their configs against transformers): how each layer rule is
read, the non-matmul counts of their new variants, and every way they refuse a config, in one line."""

from __future__ import annotations

import json

import pytest

from acct.model.model import build_model
from acct.model.sources import load_source
from test_import import DATA, acct_counts, config, hf_counts, refused, tiny, write


def values(registry, source, **overrides):
    preset = load_source(source, lambda: registry)
    return build_model(preset, registry, overrides, outputs=(), non_matmul=True).sheet.evaluate()


def rows(cli, name, *extra):
    status, out, err = cli("run", str(DATA / f"{name}.json"), "--non-matmul", "-f", "json", *extra)
    assert status == 0, err
    return {(row["slot"], row["name"]): row for row in json.loads(out)["rows"]}


@pytest.mark.parametrize("name, expected", [
    # OPTLearnedPositionalEmbedding holds max_position_embeddings + 2 rows (its offset of 2)
    ("opt-125m", ["max_positions = 2050  # max_position_embeddings + 2 (OPTLearnedPositionalEmbedding's offset of 2)",
                  'ffn = "relu"']),
    # attention_types [[["global", "local"], 6]]: layers 1, 3, ..., 11 local, a window of 256
    ("gpt-neo-125m", ["local_layers = 6  # attention_types", "sliding_window = 256  # window_size",
                      'biases = [\n    "out_proj"']),
    # multi_query: one key/value head of 128 dims
    ("starcoderbase-1b", ["num_kv_heads = 1  # multi_query = true: one key/value head", "max_positions = 8192"]),
    # sliding_window_pattern 4: layers 3, 7, ..., 31 full and without rotary positions
    ("c4ai-command-r7b-12-2024", ["local_layers = 24  # sliding_window_pattern = 4", "rotary_layers = 24",
                                  'position = "rope_some_layers"']),
    # no_rope_layers: every 4th of 36 layers has no rotary positions
    ("smollm3-3b", ["rotary_layers = 27  # no_rope_layers: 27 of 36 layers rotate", 'lm_head = "tied"']),
    # "LLLG" × 16: 48 sliding layers, which alone rotate
    ("exaone-4.0-32b", ["local_layers = 48  # layer_types", "rotary_layers = 48", 'qk_norm = "head"']),
    ("stablelm-2-12b", ["norms_per_block = 1  # use_parallel_residual = true", 'qk_norm = "head_layernorm"',
                        'rotary_fraction = "1/4"']),
    ("minitron-4b-base", ['ffn = "relu2"', 'rotary_fraction = "1/2"', 'norm = "layernorm"']),
    ("glm-4-9b-0414", ["norms_per_block = 4", 'rotary_fraction = "1/2"']),
    ("apertus-8b-2509", ['ffn = "xielu"', 'qk_norm = "head"']),
    ("gpt-oss-20b", ['attention_sinks = "per_head"', 'expert_biases = "routed"', '"router",  # GptOssTopKRouter',
                     "local_layers = 12  # layer_types", "sliding_window = 128"]),
    ("granite-3.0-1b-a400m-base", ["num_experts = 32  # num_local_experts", "d_ff_expert = 512"]),
    # layer 0 dense; the frozen e_score_correction_bias is a parameter to transformers, so the router's bias counts
    ("ernie-4.5-21b-a3b-pt", ["moe_layers = 27  # moe_layer_start_index = 1, moe_layer_end_index = 27",
                              '"router",  # Ernie4_5_MoeStatics', "num_shared_experts = 2"]),
    ("glm-4.5-air", ["moe_layers = 45  # num_hidden_layers - first_k_dense_replace = 46 - 1", "num_shared_experts = 1",
                     "d_ff = 10944  # intermediate_size", 'rotary_fraction = "1/2"']),
])
def test_layer_rules(cli, name, expected):
    status, out, err = cli("import", str(DATA / f"{name}.json"))
    assert status == 0, err
    for line in expected:
        assert line in out, out


def test_non_matmul_counts_of_the_new_variants(cli):
    t = 64
    # SmolLM3-3B: 27 rotating layers, 16 query + 4 key heads of 128 dims, 3 FLOPs per rotated value
    smol = rows(cli, "smollm3-3b", "--set", f"context_length={t}")
    assert smol[("position", "rope_some_layers")]["flops_other"] == 3 * 27 * t * (16 + 4) * 128
    # Minitron-4B: squared ReLU, 2 FLOPs per element of T × 9,216, in 32 layers
    minitron = rows(cli, "minitron-4b-base", "--set", f"context_length={t}")
    assert minitron[("ffn", "ffn_in")]["flops_other"] == 32 * 2 * t * 9216
    # StableLM-2-12B: bias-free LayerNorm (6 per element) over 32 query heads and 8 key heads of 160 dims,
    # a gain per head: 32·160 and 8·160 parameters per layer, 40 layers
    stable = rows(cli, "stablelm-2-12b", "--set", f"context_length={t}")
    assert stable[("qk_norm", "q_norm")]["flops_other"] == 40 * 6 * t * 32 * 160
    assert (stable[("qk_norm", "q_norm")]["params"], stable[("qk_norm", "k_norm")]["params"]) == (
        40 * 32 * 160, 40 * 8 * 160)
    # Apertus-8B: xIELU's alpha_p and alpha_n in each of 32 layers; 11 FLOPs per element of T × 21,504
    apertus = rows(cli, "apertus-8b-2509", "--set", f"context_length={t}")
    assert apertus[("ffn", "ffn_xielu")]["params"] == 2 * 32
    assert apertus[("ffn", "ffn_in")]["flops_other"] == 32 * 11 * t * 21504


def test_gpt_oss_sinks_and_expert_biases(cli):
    """gpt-oss-20b's 24 layers: 64 sinks each; 32 experts with 2·2,880 + 2,880 bias values each, of which
    the 4 a token visits are active."""
    gpt = rows(cli, "gpt-oss-20b")
    assert gpt[("attention_sinks", "attention_sinks")]["params"] == 24 * 64
    assert gpt[("expert_biases", "expert_biases")]["params"] == 24 * 32 * (2 * 2880 + 2880)
    status, out, _ = cli("run", str(DATA / "gpt-oss-20b.json"), "-f", "json")
    active = json.loads(out)["totals"]["params_active"]
    status, out, _ = cli("run", str(DATA / "gpt-oss-20b.json"), "-f", "json", "--set", "num_experts=4")
    # with only the 4 visited experts every expert's parameters are active, so the active count is that model's
    # total, but for the router, which scores all 32 experts: 24 layers × (2,880 weights + 1 bias) × 28 more
    assert active == json.loads(out)["totals"]["params"] + 24 * (2880 + 1) * (32 - 4)


def test_rotary_layers_cannot_exceed_the_layers(cli):
    err = refused(cli, "run", str(DATA / "smollm3-3b.json"), "--set", "rotary_layers=37")
    assert "unrotated_layers" in err


@pytest.mark.parametrize("name, extra, message", [
    ("opt-125m", {"word_embed_proj_dim": 512},
     "word_embed_proj_dim = 512 differs from hidden_size (768): OPT then adds project_in and project_out"),
    ("opt-125m", {"do_layer_norm_before": False}, "do_layer_norm_before = false changes the architecture"),
    ("opt-125m", {"activation_function": "silu"}, 'activation_function = "silu" is an MLP activation without'),
    ("gpt-neo-125m", {"attention_types": [[["global", "local"], 5]]},
     "attention_types = [[[\"global\", \"local\"], 5]]: expected 12 layers in all (num_layers)"),
    ("gpt-neo-125m", {"attention_types": [[["global", "sparse"], 6]]}, "expected a list of [["),
    ("gpt-neo-125m", {"attention_layers": ["global"] * 12},
     "attention_layers = [\"global\", \"global\", \"global\", \"global\", \"global\", \"globa... differs from what "
     "attention_types expands to"),
    ("c4ai-command-r7b-12-2024", {"sliding_window": None},
     "sliding_window = null leaves the layers typed sliding without a window and without rotary positions"),
    ("minitron-4b-base", {"hidden_act": "gelu"}, 'hidden_act = "gelu" is an MLP activation without an acct variant'),
    ("afm-4.5b-base", {"hidden_act": "silu"}, 'hidden_act = "silu" is an MLP activation without an acct variant'),
    ("apertus-8b-2509", {"qk_norm": False}, "qk_norm = false changes the architecture"),
    ("hunyuan-7b-instruct", {"mlp_bias": True}, "mlp_bias = true changes the architecture"),
    ("c4ai-command-r7b-12-2024", {"use_gated_activation": False}, "use_gated_activation = false changes the"),
    ("helium-1-preview-2b", {"head_dim": 64},
     "head_dim = 64 × num_attention_heads (20) differs from hidden_size (2560)"),
    ("smollm3-3b", {"no_rope_layers": [1] * 35}, "no_rope_layers = [1, 1,"),
    ("exaone-4.0-32b", {"sliding_window_pattern": "LLXG", "layer_types": None},
     "sliding_window_pattern = \"LLXG\": expected a whole number of at least 1 or a string of L and G"),
    ("olmoe-1b-7b-0924", {"hidden_act": "gelu"}, "in MoE experts (acct's moe experts are SwiGLU)"),
    ("granite-3.0-1b-a400m-base", {"num_local_experts": 0}, "num_local_experts = 0: expected a whole number"),
    ("stablelm-2-1_6b", {"head_dim": 128}, "unknown field head_dim = 128"),
])
def test_refused_in_one_line(cli, tmp_path, name, extra, message):
    data = dict(config(name), **extra)
    err = refused(cli, "run", str(write(tmp_path, data)))
    assert message in err, err
    assert data["model_type"] in err


def test_exaone_pattern_string_is_its_length(registry, tmp_path):
    """sliding_window_pattern "LLLG" (without layer_types) slides 3 of every 4 layers, as layer_types lists."""
    data = dict(config("exaone-4.0-32b"))
    listed = values(registry, DATA / "exaone-4.0-32b.json")
    del data["layer_types"]
    assert values(registry, write(tmp_path, data))["local_layers"] == listed["local_layers"] == 48


def test_the_readme_granite_plugin_needs_the_builtin_disabled(cli):
    """Two importers of one model_type are an error naming both; --disable hf_granite lets a plugin take it."""
    from conftest import ROOT

    plugin = ROOT / "examples" / "granite-importer" / "granite.py"
    err = refused(cli, "run", str(DATA / "granite-3.0-2b-base.json"), "-p", str(plugin))
    assert "importer 'granite' is already registered by plugin 'hf_granite'" in err


def small(name, **extra):
    """The config, shrunk to 2 layers of width 64 (tiny's sizes, and the GPT-style names'), with `extra`
    (a field set to DROP is left out)."""
    data = config(name)
    heads = data.get("num_attention_heads") or data.get("n_head") or data.get("num_heads")
    data = tiny(dict(data, num_attention_heads=heads))
    if "n_embd" in data:
        data.update(n_embd=64, n_head=4, n_layer=2, n_inner=96, n_positions=128)
    if "num_layers" in data:
        data.update(num_layers=2, num_heads=4, attention_types=[[["global", "local"], 1]])
        data.pop("attention_layers")
    if "ffn_dim" in data:
        data.update(ffn_dim=96, word_embed_proj_dim=64)
    for key in ("layer_types", "no_rope_layers"):
        if isinstance(data.get(key), list):
            data[key] = data[key][:2]
    if "n_embd" in data or "num_layers" in data:
        del data["num_attention_heads"], data["num_hidden_layers"]
    if "pad_token_id" in data:
        data["pad_token_id"] = 0  # within the tiny vocabulary
    data.update(extra)
    return {key: value for key, value in data.items() if value is not DROP and (value is not None or key in extra)}


DROP = object()  # as a value in `extra`: leave the field out


@pytest.mark.parametrize("name, extra", [
    # granitemoeshared has no real checkpoint's config here: granitemoe's with a shared expert of 48
    ("granite-3.0-1b-a400m-base", {"model_type": "granitemoeshared", "shared_intermediate_size": 48}),
    ("granite-3.0-1b-a400m-base", {"model_type": "granitemoeshared", "shared_intermediate_size": 0}),
    ("opt-125m", {"enable_bias": False}),
    ("opt-125m", {"tie_word_embeddings": False, "activation_function": "gelu"}),
    ("gpt-neo-125m", {"attention_types": [[["global"], 2]], "intermediate_size": 100}),
    ("gpt-neo-125m", {"attention_types": [[["local"], 2]], "window_size": 128}),
    ("starcoderbase-1b", {"multi_query": False, "n_inner": None}),
    ("stablelm-2-1_6b", {"use_parallel_residual": True, "qk_layernorm": True, "use_qkv_bias": False}),
    ("command-r-v01", {"use_qk_norm": True, "attention_bias": True, "head_dim": 32}),
    ("c4ai-command-r7b-12-2024", {"sliding_window_pattern": 2, "sliding_window": 128}),
    ("minitron-4b-base", {"attention_bias": True, "mlp_bias": True, "partial_rotary_factor": 0.25}),
    ("glm-4-9b-hf", {"attention_bias": False, "head_dim": DROP}),  # absent: GlmConfig's 128, 4 heads of 128
    ("smollm3-3b", {"use_sliding_window": True, "sliding_window": 128, "layer_types": None, "attention_bias": True,
                    "no_rope_layers": None, "no_rope_layer_interval": 2}),
    ("exaone-4.0-32b", {"layer_types": None, "sliding_window_pattern": 2, "sliding_window": 128}),
    ("ernie-4.5-0.3b-pt", {"use_bias": True}),
    ("seed-oss-36b-base", {"attention_out_bias": True, "mlp_bias": True, "attention_bias": False}),
    ("granite-3.0-2b-base", {"mlp_bias": True, "attention_bias": True}),
    ("olmoe-1b-7b-0924", {"attention_bias": True}),
    ("glm-4.5-air", {"use_qk_norm": True, "attention_bias": False, "first_k_dense_replace": 2}),
    ("ernie-4.5-21b-a3b-pt", {"moe_layer_interval": 2, "moe_layer_start_index": 0, "moe_num_shared_experts": 0}),
])
def test_fields_off_their_published_value_agree_with_transformers(registry, tmp_path, name, extra):
    """A field each published config above leaves at one value, flipped: transformers' parameters and
    forward FLOPs at 64 tokens (a 2-layer model of width 64, run on the CPU) are acct's."""
    pytest.importorskip("transformers")
    data = small(name, **extra)
    key = f"{name}-{sorted(extra.items())}"
    assert acct_counts(write(tmp_path, data), registry, context_length=64) == hf_counts(key, data, "cpu")


BARE = dict(vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=1, num_attention_heads=4,
            num_key_value_heads=2, pad_token_id=0, max_position_embeddings=128)


@pytest.mark.parametrize("model_type, head_dim, q_width", [
    ("glm", DROP, 4 * 128),  # GlmConfig's default head_dim is 128, not hidden_size // heads
    ("seed_oss", DROP, 4 * 128),
    ("seed_oss", None, 64),  # SeedOssConfig fills null with hidden_size // heads (16)
    ("ernie4_5", None, 64),
    ("arcee", DROP, 64),
    ("nemotron", None, 64),
])
def test_head_dim_absent_or_null_as_the_config_class_reads_it(registry, tmp_path, model_type, head_dim, q_width):
    """The same 1-layer model of width 64 and 4 heads: q_proj is 64 × q_width, and acct's parameters are
    transformers'."""
    pytest.importorskip("transformers")
    data = {key: value for key, value in dict(BARE, model_type=model_type, head_dim=head_dim).items()
            if value is not DROP}
    values_ = values(registry, write(tmp_path, data))
    assert values_["num_heads"] * values_["d_head"] == q_width
    assert acct_counts(write(tmp_path, data), registry)[0] == hf_counts(f"bare-{model_type}-{head_dim}", data,
                                                                        "meta", flops=False)[0]


@pytest.mark.parametrize("model_type, head_dim, message", [
    ("glm", None, "head_dim = null: expected a whole number (GlmAttention reads it and cannot use null)"),
    ("cohere", None, "(CohereAttention reads it and cannot use null)"),
    ("hunyuan_v1_dense", DROP, "HunYuanDenseV1Attention reads it; absent or null, transformers fails"),
    ("helium", DROP, "head_dim = 128 × num_attention_heads (4) differs from hidden_size (64)"),
])
def test_head_dim_transformers_cannot_use_is_refused(cli, tmp_path, model_type, head_dim, message):
    data = {key: value for key, value in dict(BARE, model_type=model_type, head_dim=head_dim).items()
            if value is not DROP}
    assert message in refused(cli, "run", str(write(tmp_path, data)))
