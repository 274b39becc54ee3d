"""Regressions found by tracing other real models' configs through transformers: each a config that
imported wrong or was refused without cause, now checked against transformers 5.24's own count.

The configs themselves are in tests/data/hf/ (COUNTS.md, "Other real models") and tests/test_import.py
counts each one against transformers; this file pins the rules each one broke."""

from __future__ import annotations

import importlib.util
import json

import pytest

from test_import import COUNTS, acct_counts, config, first_layers, hf_counts, refused, write

HAVE_TRANSFORMERS = importlib.util.find_spec("transformers") is not None and importlib.util.find_spec(
    "torch") is not None


def without(data, *keys):
    return {key: value for key, value in data.items() if key not in keys}


# -- fields of real configs that change no count ------------------------------------------


@pytest.mark.parametrize("name, fields", [
    ("gpt2-medium", ("n_special", "predict_special_tokens", "gradient_checkpointing")),  # OpenAI GPT's leftovers
    ("gpt-neox-20b", ("attention_probs_dropout_prob", "hidden_dropout_prob")),  # BERT's dropout names
    ("qwen2.5-7b", ("use_mrope",)),  # Qwen2-VL's rotary split, never read by Qwen2's text model
    ("gemma-2-9b", ("sliding_window_size",)),  # an early Gemma-2 key that Gemma2Config does not read
    ("gemma-3-270m", ("_sliding_window_pattern",)),  # saved beside layer_types, which transformers reads
    ("phi-4-mini-instruct", ("full_attn_mod", "interpolate_factor", "lm_head_bias", "mlp_bias")),  # remote code's
    ("huggyllama-llama-7b", ("max_sequence_length",)),  # LLaMA-1 conversions' copy of max_position_embeddings
    ("distilgpt2", ("_num_labels", "id2label", "label2id")),  # PretrainedConfig's, for classification heads
])
def test_real_config_fields_that_change_no_count(registry, name, fields, tmp_path):
    """Each of these configs stopped the import with 'unknown field'; with or without the fields,
    the count is transformers' (which reads none of them)."""
    data = config(name)
    assert all(field in data for field in fields)
    assert acct_counts(write(tmp_path, data), registry)[0] == COUNTS[name]
    assert acct_counts(write(tmp_path, without(data, *fields)), registry)[0] == COUNTS[name]


@pytest.mark.parametrize("name, field, value, message", [
    ("phi-4-mini-instruct", "lm_head_bias", True, "lm_head_bias = true changes the architecture"),
    ("phi-4-mini-instruct", "mlp_bias", True, "mlp_bias = true changes the architecture"),
    ("phi-4-mini-instruct", "full_attn_mod", 2, "full_attn_mod = 2 changes the architecture"),
])
def test_remote_code_fields_only_at_their_no_op_value(cli, name, field, value, message, tmp_path):
    """Phi-4-mini's remote code reads these; transformers' Phi3 does not, so a checkpoint with a bias
    there has no one right count: refused in one line."""
    assert message in refused(cli, "run", str(write(tmp_path, dict(config(name), **{field: value}))))


def test_a_saved_window_pattern_that_disagrees_is_refused(registry, cli, tmp_path):
    """Without layer_types, transformers builds the layers from sliding_window_pattern (default 6) and
    never reads _sliding_window_pattern: a different one there says two things."""
    data = without(config("gemma-3-270m"), "layer_types")
    assert acct_counts(write(tmp_path, data), registry)[0] == COUNTS["gemma-3-270m"]  # 6 = the default: agrees
    err = refused(cli, "run", str(write(tmp_path, dict(data, _sliding_window_pattern=3), "three.json")))
    assert "model_type 'gemma3_text': _sliding_window_pattern = 3 differs from sliding_window_pattern (6)" in err


# -- num_key_value_heads absent: the config class's default, not one per query head ------------------


@pytest.mark.parametrize("name, default", [
    ("mistral-7b-v0.1", 8), ("mistral-nemo-base-2407", 8), ("mixtral-8x7b-v0.1", 8), ("qwen3-30b-a3b", 4),
    ("gemma-2-2b", 4), ("gemma-3-4b-text", 4), ("starcoder2-3b", 2), ("starcoder2-15b", 2),
    ("smollm3-3b", 4),  # SmolLM3Config (4): acct took 16, 12,582,912 too many at 2 layers
])
def test_absent_kv_heads_take_the_class_default(registry, cli, name, default, tmp_path):
    """MistralConfig (8), MixtralConfig (8), Qwen3MoeConfig (4), Gemma2/3 (4), Starcoder2Config (2), SmolLM3Config (4):
    acct took an absent num_key_value_heads as one per query head, ~11% too many parameters for
    Mistral-7B."""
    data = without(config(name), "num_key_value_heads")
    params = acct_counts(write(tmp_path, data), registry)[0]
    if config(name)["num_key_value_heads"] == default:
        assert params == COUNTS[name]
    else:  # starcoder2-15b: 4 KV heads in the file, 2 by default: 40 layers × 2 × 2 fewer heads of 128 (+ bias)
        assert params == COUNTS[name] - 40 * 2 * 2 * 128 * (6144 + 1)
    status, out, err = cli("import", str(write(tmp_path, data, "absent.json")))
    assert status == 0, err
    assert f"num_kv_heads = {default}  # num_key_value_heads (absent: the config class's default {default})" in out


@pytest.mark.skipif(not HAVE_TRANSFORMERS, reason="needs torch and transformers")
@pytest.mark.parametrize("name", ["qwen3-8b", "starcoder2-15b"])
def test_absent_kv_heads_as_transformers_builds_them(registry, name, tmp_path):
    """Where the file's count differs from the default's (Qwen3-8B: 8 in the file, 32 by default), transformers
    agrees (Qwen3Config: 32, every head of Qwen3-8B)."""
    data = without(config(name), "num_key_value_heads")
    assert acct_counts(write(tmp_path, data), registry)[0] == hf_counts(f"{name}-no-kv", data, "meta", flops=False)[0]


def test_null_kv_heads_is_one_per_query_head(registry, tmp_path):
    """null, unlike absent, is one KV head per query head (LlamaConfig, Qwen2Config: `if None`)."""
    data = dict(config("qwen2.5-0.5b"), num_key_value_heads=None, num_attention_heads=14)
    # 24 layers × (k and v grow from 2 to 14 heads of 64, with their biases)
    assert acct_counts(write(tmp_path, data), registry)[0] == COUNTS["qwen2.5-0.5b"] + 24 * 2 * 12 * 64 * (896 + 1)


# -- Falcon's flags: null is false -------------------------------------------------------------


# transformers 5.24, meta device: multi_query null builds 71 KV heads; parallel_attn null a sequential
# block with a post-attention LayerNorm
FALCON_NULL = {"multi_query": 8_224_576_384, "parallel_attn": 6_922_011_520}


@pytest.mark.parametrize("field", sorted(FALCON_NULL))
def test_falcon_null_flags_are_false(registry, field, tmp_path):
    """FalconConfig's multi_query and parallel_attn default to true but are `bool | None`, and the
    model tests them for truth: acct read null as absent (true)."""
    data = dict(config("falcon-7b-instruct"), **{field: None})
    assert acct_counts(write(tmp_path, data), registry)[0] == FALCON_NULL[field]
    if field == "multi_query":  # 32 layers × (k and v from 1 to 71 heads of 64)
        assert FALCON_NULL[field] == COUNTS["falcon-7b-instruct"] + 32 * 2 * 70 * 64 * 4544
    else:  # 32 layers × one more LayerNorm (weight and bias)
        assert FALCON_NULL[field] == COUNTS["falcon-7b-instruct"] + 32 * 2 * 4544
    if HAVE_TRANSFORMERS:
        assert hf_counts(f"falcon-null-{field}", data, "meta", flops=False)[0] == FALCON_NULL[field]


# -- refused: what acct has no variant for ------------------------------------------------------


def test_falcon_rw_alibi_is_refused(cli, tmp_path):
    """Falcon-RW-1B (alibi = true): ALiBi biases the attention scores by distance; acct has no
    position variant for it, so the import stops in one line rather than count RoPE's FLOPs."""
    from test_import import DATA

    data = json.loads((DATA / "refused" / "falcon-rw-1b.json").read_text())
    err = refused(cli, "run", str(write(tmp_path, data)))
    assert "model_type 'falcon': alibi = true (ALiBi position biases) has no acct position variant" in err


# -- configs as transformers 5 saves them -------------------------------------------------------

# what `config.to_dict()` adds to every model_type's fields (PretrainedConfig's own keys)
FULL_DUMP = {"_name_or_path": "", "architectures": None, "chunk_size_feed_forward": 0, "dtype": None,
             "id2label": {"0": "LABEL_0", "1": "LABEL_1"}, "is_encoder_decoder": False,
             "label2id": {"LABEL_0": 0, "LABEL_1": 1}, "output_attentions": False, "output_hidden_states": False,
             "problem_type": None, "return_dict": True}
# ...and what configs saved by transformers 4 keep of theirs
GENERATION = {"max_length": 4096, "do_sample": True, "temperature": 0.6, "top_p": 0.9, "pruned_heads": {},
              "add_cross_attention": False, "tie_encoder_decoder": False, "is_decoder": False}


@pytest.mark.parametrize("name", ["llama-3.1-70b", "gpt2-medium", "qwen3-235b-a22b", "falcon-40b"])
def test_a_full_dump_counts_as_the_config(registry, name, tmp_path):
    """PretrainedConfig's generic keys (labels, chunking, generation settings) were each an unknown
    field: a config from `to_dict()` or an old save could not be imported at all."""
    data = dict(config(name), **FULL_DUMP, **GENERATION)
    assert acct_counts(write(tmp_path, data), registry) == acct_counts(write(tmp_path, config(name), "plain.json"),
                                                                        registry)


@pytest.mark.parametrize("field, value", [("pruned_heads", {"0": [1]}), ("add_cross_attention", True)])
def test_generic_keys_that_would_change_a_count_are_refused(cli, field, value, tmp_path):
    err = refused(cli, "run", str(write(tmp_path, dict(config("llama-3.1-70b"), **{field: value}))))
    assert f"model_type 'llama': {field} = {json.dumps(value)} changes the architecture" in err


@pytest.mark.parametrize("name, renames, extra", [
    # Qwen3MoeConfig's attribute_map: transformers 5 saves num_experts as num_local_experts
    ("qwen3-235b-a22b", {"num_experts": "num_local_experts"}, {}),
    # DeepSeek: n_routed_experts under the attribute_map's names; qk_head_dim saved as nope + rope
    ("deepseek-v2", {"n_routed_experts": "num_experts"}, {"qk_head_dim": 192}),
    ("deepseek-v3-0324", {"n_routed_experts": "num_local_experts"}, {"qk_head_dim": 192}),
    # GPT-2 and GPT-J: the attribute_map's standard names for n_embd, n_head, n_layer, n_positions
    ("gpt2-medium", {"n_embd": "hidden_size", "n_head": "num_attention_heads", "n_layer": "num_hidden_layers",
                     "n_positions": "max_position_embeddings"}, {}),
    ("gpt4all-j", {"n_embd": "hidden_size", "n_positions": "max_position_embeddings"}, {}),
])
def test_the_attribute_maps_names(registry, name, renames, extra, tmp_path):
    """transformers reads a field under either name of its config class's attribute_map; acct refused
    the other name as an unknown field."""
    data = {renames.get(key, key): value for key, value in config(name).items()}
    assert acct_counts(write(tmp_path, dict(data, **extra)), registry)[0] == COUNTS[name]


@pytest.mark.parametrize("name, extra, message", [
    ("qwen3-235b-a22b", {"num_local_experts": 64}, "num_local_experts = 64: expected num_experts (128), which it "
                                                   "aliases"),
    ("deepseek-v2", {"qk_head_dim": 128}, "qk_head_dim = 128: expected qk_nope_head_dim + qk_rope_head_dim = 192"),
    ("gpt2-medium", {"hidden_size": 768}, "hidden_size = 768: expected n_embd (1024), which it aliases"),
])
def test_two_names_that_disagree_are_refused(cli, name, extra, message, tmp_path):
    assert message in refused(cli, "run", str(write(tmp_path, dict(config(name), **extra))))


# -- MoE fields left out: the config class's defaults -------------------------------------------


@pytest.mark.parametrize("name, fields", [
    # each class's defaults are these models' values, so leaving them out keeps the published count
    ("qwen3-30b-a3b", ("num_experts", "num_experts_per_tok", "moe_intermediate_size")),
    ("qwen1.5-moe-a2.7b", ("num_experts", "num_experts_per_tok", "moe_intermediate_size",
                           "shared_expert_intermediate_size")),
    ("mixtral-8x7b-v0.1", ("num_local_experts", "num_experts_per_tok")),
])
def test_moe_fields_left_out_take_the_class_defaults(registry, name, fields, tmp_path):
    """transformers builds these from the config class's defaults; acct stopped with 'needs the field'."""
    data = without(config(name), *fields)
    assert acct_counts(write(tmp_path, data), registry)[0] == COUNTS[name]


def test_deepseek_v2_without_a_top_k_is_refused_by_name(cli, tmp_path):
    """DeepseekV2Config's num_experts_per_tok defaults to null; the error said `= null` of an absent field."""
    err = refused(cli, "run", str(write(tmp_path, without(config("deepseek-v2"), "num_experts_per_tok"))))
    assert "num_experts_per_tok = null (absent or null: DeepseekV2Config's default) routes to no number" in err


# -- values transformers' strict config classes refuse: refused here too, in one line -------------------


def _transformers_refuses(data):
    """transformers 5.24's config class refuses the file (AutoConfig.for_model raises: no model is built)."""
    import warnings

    from transformers import AutoConfig

    data = dict(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception):
            AutoConfig.for_model(data.pop("model_type"), **data)


@pytest.mark.parametrize("name, extra, message", [
    # LlamaConfig (ArceeConfig, Gemma2/3, DeepseekV2, GPT-NeoX) validate_architecture: hidden_size % heads,
    # even where head_dim says the head's size; acct counted 20 heads of 128 in a 2561-wide model
    ("afm-4.5b-base", {"hidden_size": 2561}, "model_type 'arcee': hidden_size = 2561: expected a multiple of "
                                             "num_attention_heads (20)"),
    ("gemma-2-2b", {"hidden_size": 2305}, "model_type 'gemma2': hidden_size = 2305: expected a multiple of "
                                          "num_attention_heads (8)"),
    # validate_rope: an odd head fully rotated has no pairs to rotate; acct counted a 129-dim head
    ("afm-4.5b-base", {"head_dim": 129}, "model_type 'arcee': head_dim = 129: expected an even head size for RoPE"),
    ("qwen3-0.6b", {"head_dim": 127}, "model_type 'qwen3': head_dim = 127: expected an even head size for RoPE"),
    # rope_scaling / rope_parameters that are not objects: acct skipped them as if absent
    ("afm-4.5b-base", {"rope_scaling": "x"}, "model_type 'arcee': rope_scaling = \"x\": expected an object or null"),
    ("qwen3-0.6b", {"rope_parameters": [1]}, "model_type 'qwen3': rope_parameters = [1]: expected an object or null"),
    # a bool field that the class declares `bool` (not `bool | None`): null was taken as the default
    ("afm-4.5b-base", {"attention_bias": None}, "model_type 'arcee': attention_bias = null: expected true or false"),
    ("llama-3.2-1b", {"mlp_bias": None}, "model_type 'llama': mlp_bias = null: expected true or false"),
    ("qwen3-0.6b", {"tie_word_embeddings": None}, "model_type 'qwen3': tie_word_embeddings = null: expected true or "
                                                  "false"),
    ("starcoderbase-1b", {"multi_query": None}, "model_type 'gpt_bigcode': multi_query = null: expected true or "
                                                "false"),
    # DeepSeek-V3 cut to its dense layers reads no expert field, but DeepseekV3Config checks their types
    ("deepseek-r1", {"num_hidden_layers": 2, "moe_intermediate_size": "x"},
     "model_type 'deepseek_v3': moe_intermediate_size = \"x\": expected a whole number of at least 0"),
])
def test_what_transformers_refuses_is_refused(cli, name, extra, message, tmp_path):
    data = dict(config(name), **extra)
    data.pop("quantization_config", None)
    assert message in refused(cli, "run", str(write(tmp_path, data)))
    if HAVE_TRANSFORMERS:
        _transformers_refuses(data)


@pytest.mark.parametrize("name, field", [
    ("command-r-v01", "use_qk_norm"),  # CohereConfig: bool | None
    ("ernie-4.5-0.3b-pt", "use_bias"),  # Ernie4_5Config: bool | None
    ("falcon-7b-instruct", "bias"), ("falcon-7b-instruct", "alibi"),  # FalconConfig: bool | None
])
def test_null_where_the_class_takes_it_is_false(registry, name, field, tmp_path):
    """These classes declare `bool | None` and the models test the value for truth: null is false, the
    count of the file with the field false (each is false, or absent, in these configs)."""
    assert not config(name).get(field)
    assert acct_counts(write(tmp_path, dict(config(name), **{field: None})), registry)[0] == COUNTS[name]


@pytest.mark.skipif(not HAVE_TRANSFORMERS, reason="needs torch and transformers")
def test_cohere2_reads_the_files_head_dim(registry, tmp_path):
    """Cohere2Config's __post_init__ sets head_dim from hidden_size, but the file's head_dim is set after it
    and Cohere2Attention reads it: acct ignored it (Command-R7B with head_dim 256 counted 128-dim heads)."""
    data = first_layers(dict(config("c4ai-command-r7b-12-2024"), head_dim=256), 2)
    params = acct_counts(write(tmp_path, data), registry)[0]
    assert params == hf_counts("command-r7b-head-256", data, "meta", flops=False)[0]
    # 2 layers × q, k, v, o twice as wide: (32 + 8 + 8) heads × 128 more dims × 4096, and o the same as q
    assert params == acct_counts(write(tmp_path, first_layers(config("c4ai-command-r7b-12-2024"), 2), "plain.json"),
                                 registry)[0] + 2 * (32 + 8 + 8 + 32) * 128 * 4096


def test_a_huge_layer_count_is_refused_not_walked(cli, tmp_path):
    """Cohere2 without layer_types walked every layer for its sliding pattern: 10**30 layers never ended."""
    data = without(dict(config("c4ai-command-r7b-12-2024"), num_hidden_layers=10**30), "layer_types")
    err = refused(cli, "run", str(write(tmp_path, data)))
    assert "model_type 'cohere2': num_hidden_layers = 1000000000000000000000000000000: expected a whole number " \
           "of at most 1,000,000" in err


@pytest.mark.parametrize("name, field", [("deepseek-v2-lite-chat", "n_routed_experts"),
                                         ("ernie-4.5-21b-a3b-pt", "moe_num_experts")])
def test_zero_routed_experts_is_refused(cli, name, field, tmp_path):
    """With 0 routed experts transformers still builds each MoE layer's block (gate, shared experts), which
    acct counted as a dense MLP (DeepSeek-V2-Lite at 2 layers: 581,446,656 against transformers' 531,508,224):
    refused, naming the field."""
    err = refused(cli, "run", str(write(tmp_path, dict(config(name), **{field: 0}))))
    assert f"{field} = 0: expected a whole number of at least 1" in err


@pytest.mark.parametrize("name, field, value, message", [
    ("mixtral-8x7b-v0.1", "num_local_experts", 1, "num_experts_per_tok = 2: expected at most num_local_experts (1)"),
    ("qwen3-30b-a3b", "num_experts", 2, "num_experts_per_tok = 8: expected at most num_experts (2)"),
    ("olmoe-1b-7b-0924", "num_experts", 1, "num_experts_per_tok = 8: expected at most num_experts (1)"),
    ("phi-3.5-moe-instruct", "num_local_experts", 1, "num_experts_per_tok = 2: expected at most num_local_experts (1)"),
    ("granite-3.0-1b-a400m-base", "num_local_experts", 2,
     "num_experts_per_tok = 8: expected at most num_local_experts (2)"),
    ("deepseek-v2-lite", "n_routed_experts", 2, "num_experts_per_tok = 6: expected at most n_routed_experts (2)"),
    ("glm-4.5-air", "n_routed_experts", 2, "num_experts_per_tok = 8: expected at most n_routed_experts (2)"),
    ("ernie-4.5-21b-a3b-pt", "moe_num_experts", 2, "moe_k = 6: expected at most moe_num_experts (2)"),
    ("gpt-oss-20b", "num_local_experts", 2, "num_experts_per_tok = 4: expected at most num_local_experts (2)"),
])
def test_a_top_k_above_the_experts_is_refused_by_field(cli, name, field, value, message, tmp_path):
    """transformers builds a router whose top-k exceeds its experts (torch.topk fails only when it runs); acct
    stopped on the sheet's idle_experts ("the default of plugin 'moe' ... got -1"), naming no config field."""
    data = dict(config(name), **{field: value})
    data.pop("quantization_config", None)
    err = refused(cli, "run", str(write(tmp_path, data)))
    assert message in err and "idle_experts" not in err


@pytest.mark.parametrize("value", [None, "absent"])
def test_nemotron_without_kv_heads_is_refused(cli, value, tmp_path):
    """NemotronConfig declares num_key_value_heads = None and never fills it in; NemotronAttention divides by
    it, so transformers builds no model (TypeError), where acct counted one KV head per query head."""
    data = dict(config("minitron-4b-base"), num_key_value_heads=value)
    if value == "absent":
        data = without(data, "num_key_value_heads")
    err = refused(cli, "run", str(write(tmp_path, data)))
    assert "model_type 'nemotron': num_key_value_heads = null: expected a whole number (absent or null, " \
           "NemotronConfig's default, NemotronAttention divides num_attention_heads by it" in err
    if HAVE_TRANSFORMERS:
        from hf_reference import hf_model

        with pytest.raises(TypeError):
            hf_model(first_layers(data, 2), "meta")


@pytest.mark.parametrize("name, why", [
    ("mistral-7b-v0.1", "the config class takes no null here"),  # MistralConfig: num_key_value_heads: int = 8
    ("mixtral-8x7b-v0.1", "the config class takes no null here"),
    ("phi-3.5-moe-instruct", "the config class takes no null here"),
    ("stablelm-2-1_6b", "the config class takes no null here"),
    ("starcoder2-3b", "the config class takes no null here"),
    ("qwen3-30b-a3b", "the config class takes no null here"),
    ("gemma-3-1b-pt", "the config class takes no null here"),
    ("gpt-oss-20b", "the config class takes no null here"),
    ("qwen1.5-moe-a2.7b", "Qwen2MoeConfig leaves null as it is and Qwen2MoeAttention divides by it"),
])
def test_null_kv_heads_where_transformers_builds_nothing(cli, name, why, tmp_path):
    """These classes refuse num_key_value_heads = null (or, Qwen2-MoE, build nothing from it); acct counted one KV
    head per query head (Mistral-7B at 2 layers: 748,703,744, where no model exists). Llama's and Qwen2's
    `int | None`, filled with num_attention_heads, are test_null_kv_heads_is_one_per_query_head's."""
    data = dict(config(name), num_key_value_heads=None)
    data.pop("quantization_config", None)
    err = refused(cli, "run", str(write(tmp_path, data)))
    assert f"num_key_value_heads = null: expected a whole number ({why})" in err
    if HAVE_TRANSFORMERS and name != "qwen1.5-moe-a2.7b":
        _transformers_refuses(data)


@pytest.mark.parametrize("name, field", [
    ("mixtral-8x7b-v0.1", "num_local_experts"), ("mixtral-8x7b-v0.1", "num_experts_per_tok"),
    ("qwen1.5-moe-a2.7b", "num_experts"), ("qwen1.5-moe-a2.7b", "moe_intermediate_size"),
    ("qwen1.5-moe-a2.7b", "shared_expert_intermediate_size"), ("qwen1.5-moe-a2.7b", "decoder_sparse_step"),
    ("qwen3-30b-a3b", "num_experts"), ("qwen3-30b-a3b", "moe_intermediate_size"),
    ("qwen3-30b-a3b", "decoder_sparse_step"), ("olmoe-1b-7b-0924", "num_experts"),
    ("phi-3.5-moe-instruct", "num_local_experts"),
])
def test_null_moe_fields_of_strict_classes_are_refused(cli, name, field, tmp_path):
    """These config classes declare the expert fields `int`: transformers refuses null, where acct took the class's
    default (Qwen1.5-MoE with moe_intermediate_size null counted 1408-wide experts)."""
    data = dict(config(name), **{field: None})
    err = refused(cli, "run", str(write(tmp_path, data)))
    assert f"{field} = null: expected a whole number (the config class takes no null here)" in err
    if HAVE_TRANSFORMERS:
        _transformers_refuses(data)


def test_granitemoe_null_experts_is_refused(cli, tmp_path):
    """GraniteMoeConfig keeps num_local_experts = null and GraniteMoeParallelExperts cannot be built from it
    (TypeError); acct counted the class's default 8 experts."""
    data = dict(config("granite-3.0-1b-a400m-base"), num_local_experts=None)
    err = refused(cli, "run", str(write(tmp_path, data)))
    assert "num_local_experts = null: expected a whole number (the config class keeps null and transformers cannot " \
           "build the experts from it)" in err


@pytest.mark.parametrize("name, extra, message", [
    # Qwen3Config: head_dim: int (refused); acct took hidden_size // num_attention_heads
    ("qwen3-0.6b", {"head_dim": None}, "head_dim = null: expected a whole number (Qwen3Attention reads it and cannot "
                                       "use null)"),
    # Qwen3MoeConfig: mlp_only_layers: list[int] | None; acct read false as no layer
    ("qwen3-30b-a3b", {"mlp_only_layers": False}, "mlp_only_layers = false: expected a list of layer indices"),
])
def test_qwen3_fields_transformers_refuses(cli, name, extra, message, tmp_path):
    data = dict(config(name), **extra)
    assert message in refused(cli, "run", str(write(tmp_path, data)))
    if HAVE_TRANSFORMERS:
        _transformers_refuses(data)


@pytest.mark.skipif(not HAVE_TRANSFORMERS, reason="needs torch and transformers")
def test_qwen3_moe_null_head_dim_is_refused(cli, tmp_path):
    """Qwen3MoeConfig takes head_dim = null but its rotary embedding cannot (TypeError): no model is built."""
    from hf_reference import hf_model

    data = dict(config("qwen3-30b-a3b"), head_dim=None)
    assert "head_dim = null: expected a whole number (Qwen3MoeAttention reads it" in refused(
        cli, "run", str(write(tmp_path, data)))
    with pytest.raises(TypeError):
        hf_model(first_layers(data, 2), "meta")


@pytest.mark.parametrize("name, extra, message", [
    # 32 heads of 96 → 64 heads of 48: 24 pairs rotate, the file has 48 factors (Phi3Config's validate_rope refuses)
    ("phi-3.5-mini-instruct", {"num_attention_heads": 64, "num_key_value_heads": 64},
     "model_type 'phi3': len(rope_scaling.short_factor) = 48: expected 24, one per pair of the 48 rotated head dims"),
    # 32 heads of 128 → 64 heads of 64: 32 pairs, 64 factors (PhimoeRotaryEmbedding cannot broadcast them)
    ("phi-3.5-moe-instruct", {"num_attention_heads": 64},
     "model_type 'phimoe': len(rope_scaling.short_factor) = 64: expected 32, one per pair of the 64 rotated head dims"),
])
def test_longrope_factors_must_match_the_rotated_dims(cli, name, extra, message, tmp_path):
    """A LongRoPE factor list of the wrong length: transformers builds no model, acct counted one."""
    data = dict(config(name), **extra)
    assert message in refused(cli, "run", str(write(tmp_path, data)))
    if HAVE_TRANSFORMERS:
        from hf_reference import hf_model

        with pytest.raises(Exception):
            hf_model(first_layers(data, 2), "meta")
