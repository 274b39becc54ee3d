"""More Hugging Face importers, each mapped onto acct's variants where its counts are exactly expressible:
olmoe, cohere, cohere2, stablelm, nemotron, phimoe (RMSNorm/LayerNorm decoders with RoPE) and gpt_bigcode, opt,
gpt_neo (learned positions, two-matrix MLP). Field defaults: transformers 5.24's config classes; a field
read by the modeling code through getattr (head_dim) is honoured where transformers honours it.
"""

from fractions import Fraction

from acct import Importer, hookimpl

from .hf_common import not_null, top_k_within
from .hf_common import (ATTENTION_ROWS, DROPOUT, EPS, ROPE, ROPE_MAPS, ROUTING, alias, basic, biases, gated_ffn, heads,
                        layer_types, norm, partial_rotary, plain_ffn, rope, tied)
from .hf_helpers import no_null_head_dim

LLAMA_MAPS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
              "intermediate_size", "max_position_embeddings", "tie_word_embeddings", "hidden_act") + ROPE_MAPS
LLAMA_IGNORES = DROPOUT + ROPE + EPS


def _flag_source(c, name, default):
    return f"{name} = true" if c.get(name, None) is not None else f"{name} (absent: {str(default).lower()})"


def _full(c):
    c.choose("attention", "dot_product", "full causal attention in every layer")


# -- RoPE decoders -------------------------------------------------------------------


def olmoe(c):
    not_null(c, ("num_experts", "num_local_experts", "num_experts_per_tok"))  # OlmoeConfig: int
    no_null_head_dim(c, "OlmoeAttention")
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads)
    tied(c, False)
    rope(c, d_head)
    if c.flag("attention_bias", False):
        biases(c, ATTENTION_ROWS, "attention_bias = true (q, k, v and o projections)")
    norm(c, "rmsnorm", "OlmoeRMSNorm (gain), 2 per block")
    c.choose("qk_norm", "proj", "OlmoeAttention q_norm, k_norm: RMSNorm over the whole projection")
    act = c.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise c.unsupported("hidden_act", act, "in MoE experts (acct's moe experts are SwiGLU)")
    experts = alias(c, "num_experts", "num_local_experts")  # OlmoeConfig's attribute_map
    c.choose("ffn", "moe", "OlmoeSparseMoeBlock: a router (no bias) and routed SwiGLU experts in every layer")
    for name, field, default in (("num_experts", experts, 64), ("experts_per_token", "num_experts_per_tok", 8)):
        value = c.integer(field, default)
        c.set(name, value, field if c.get(field, None) is not None else f"{field} (absent: the config class's "
              f"default {default})")
    width = c.integer("intermediate_size")
    top_k_within(c)
    c.set("d_ff_expert", width, "intermediate_size (each expert's width)")
    c.set("d_ff", width, "intermediate_size (every layer is MoE: the ×0 dense rows read it)")
    _full(c)


def _cohere_common(c, d_head_from_config):
    d_model, num_heads = basic(c)
    if d_head_from_config:
        # CohereAttention: getattr(config, "head_dim", hidden_size // num_attention_heads)
        no_null_head_dim(c, "CohereAttention")
        d_head, _ = heads(c, d_model, num_heads)
    else:
        d_head, _ = heads(c, d_model, num_heads, head_dim=None)
    tied(c, True)
    if c.flag("attention_bias", False):
        biases(c, ATTENTION_ROWS, "attention_bias = true (q, k, v and o projections)")
    norm(c, "layernorm_nobias", "CohereLayerNorm (weight, no bias): one feeds attention and MLP in parallel", 1,
         "input_layernorm only, attention and MLP in parallel")
    gated_ffn(c)
    return d_head


def cohere(c):
    d_head = _cohere_common(c, True)
    rope(c, d_head)
    if c.flag("use_qk_norm", False, nullable=True):
        c.choose("qk_norm", "head_layernorm", "use_qk_norm = true: CohereLayerNorm over (heads, head_dim) for q "
                 "and k, a gain per head")
    _full(c)


def cohere2(c):
    # Cohere2Config's __post_init__ sets head_dim = hidden_size // num_attention_heads, but a head_dim in the
    # file is set after it (an extra key) and Cohere2Attention reads it: the file's head_dim is the head's size
    d_head = _cohere_common(c, True)
    num_layers = c.get("num_hidden_layers")
    count = layer_types(c, num_layers)
    source = "layer_types"
    if count is None:
        pattern = c.integer("sliding_window_pattern", 4)
        count = sum(1 for i in range(num_layers) if (i + 1) % pattern)
        source = f"sliding_window_pattern = {pattern}: every {pattern}th layer full" if "sliding_window_pattern" in c \
            else "sliding_window_pattern (absent: 4): every 4th layer full"
    if count and c.get("sliding_window", 4096) is None:
        raise c.unsupported("sliding_window", None, "leaves the layers typed sliding without a window and without "
                            "rotary positions, which no acct variant says")
    if count == 0:
        c.choose("position", "none", f"{source}: no sliding layer, and only sliding layers rotate (NoPE)")
        _full(c)
        return
    window = c.integer("sliding_window", 4096)
    c.choose("attention", "sliding_window", f"{source}: {count} of {num_layers} layers slide")
    c.set("sliding_window", window, "sliding_window" if c.get("sliding_window", None) is not None
          else "sliding_window (absent: 4096)")
    if count == num_layers:
        rope(c, d_head, Fraction(1), "")
        return
    c.set("local_layers", count, source)
    _some_layers_rotate(c, d_head, count, f"{source}: the {count} sliding layers", "Cohere2Attention")


def _some_layers_rotate(c, d_head, count, source, where):
    """Rotary positions in `count` of the layers, none in the others (whole heads: the classes here read
    no partial rotary factor)."""
    fraction, field = partial_rotary(c)
    if fraction is not None and fraction != 1:
        raise c.unsupported(field, float(fraction), f"({where} rotates whole heads; transformers ignores it)")
    c.choose("position", "rope_some_layers", f"{where}: rotary positions in some layers only, none in the "
             "others (no parameters)")
    c.set("rotary_layers", count, source)


def stablelm(c):
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads, head_dim=None, kv_default=32)  # StableLmConfig's default
    tied(c, False)
    fraction, source = partial_rotary(c, default=Fraction(1, 4))
    rope(c, d_head, fraction, source)
    if c.flag("use_qkv_bias", False):
        biases(c, ("q_proj", "k_proj", "v_proj"), "use_qkv_bias = true (q, k, v projections; o_proj never)")
    if c.flag("use_parallel_residual", False):
        norm(c, "layernorm", "nn.LayerNorm (weight and bias): one feeds attention and MLP in parallel", 1,
             "use_parallel_residual = true: input_layernorm only")
    else:
        norm(c, "layernorm", "nn.LayerNorm (weight and bias), 2 per block")
    gated_ffn(c)
    if c.flag("qk_layernorm", False):
        c.choose("qk_norm", "head_layernorm", "qk_layernorm = true: a bias-free LayerNorm per head for q and k")
    _full(c)


def nemotron(c):
    d_model, num_heads = basic(c)
    if c.get("num_key_value_heads", None) is None:  # NemotronConfig's default, never filled in
        raise c.bad("num_key_value_heads", None, "a whole number (absent or null, NemotronConfig's default, "
                    "NemotronAttention divides num_attention_heads by it: transformers cannot build the model)")
    d_head, _ = heads(c, d_model, num_heads)
    tied(c, False)
    fraction, source = partial_rotary(c, default=Fraction(1, 2))
    rope(c, d_head, fraction, source)
    if c.flag("attention_bias", False):
        biases(c, ATTENTION_ROWS, "attention_bias = true (q, k, v and o projections)")
    norm(c, "layernorm", "NemotronLayerNorm1P (weight and bias, as (1 + w)), 2 per block")
    act = c.get("hidden_act", "relu2")
    if act != "relu2":
        raise c.unsupported("hidden_act", act, "is an MLP activation without an acct variant beside relu2")
    c.set("d_ff", c.integer("intermediate_size"), "intermediate_size")
    c.choose("ffn", "relu2", "hidden_act = \"relu2\": up and down projections, squared ReLU")
    if c.flag("mlp_bias", False):
        biases(c, ("FFN",), "mlp_bias = true (up and down projections)")
    _full(c)


def phimoe(c):
    not_null(c, ("num_local_experts", "num_experts_per_tok"))  # PhimoeConfig: int
    no_null_head_dim(c, "PhimoeAttention")
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads, kv_default=8)  # PhimoeConfig's default
    num_layers = c.get("num_hidden_layers")
    tied(c, False)
    rope(c, d_head)
    if c.flag("attention_bias", False):
        biases(c, ATTENTION_ROWS, "attention_bias = true (q, k, v and o projections)")
    if c.flag("lm_head_bias", False):
        biases(c, ("lm_head",), "lm_head_bias = true")
    norm(c, "layernorm", "nn.LayerNorm (weight and bias), 2 per block")
    act = c.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise c.unsupported("hidden_act", act, "in MoE experts (acct's moe experts are SwiGLU)")
    c.choose("ffn", "moe", "PhimoeSparseMoeBlock: a router (no bias) and num_local_experts SwiGLU experts in every "
             "layer")
    for name, field, default in (("num_experts", "num_local_experts", 16), ("experts_per_token", "num_experts_per_tok",
                                                                            2)):
        c.set(name, c.integer(field, default), field if c.get(field, None) is not None
              else f"{field} (absent: the config class's default {default})")
    width = c.integer("intermediate_size")
    top_k_within(c)
    c.set("d_ff_expert", width, "intermediate_size (each expert's width)")
    c.set("d_ff", width, "intermediate_size (every layer is MoE: the ×0 dense rows read it)")
    if c.get("sliding_window", None) is None:
        _full(c)
    else:
        c.choose("attention", "sliding_window", "sliding_window set: every layer slides")
        c.set("sliding_window", c.integer("sliding_window"), "sliding_window")
    del num_layers


# -- learned positions, two-matrix MLP ----------------------------------------------------------


def _learned(c, field, rows, extra=0, why=""):
    c.choose("position", "learned", f"a learned table of {field}" + (f" + {extra} rows" if extra else "") +
             (f" ({why})" if why else ""))
    c.set("max_positions", rows, field if not extra else f"{field} + {extra} ({why})")


def gpt_bigcode(c):
    names = [alias(c, name, other) for name, other in (
        ("n_positions", "max_position_embeddings"), ("n_embd", "hidden_size"), ("n_layer", "num_hidden_layers"),
        ("n_head", "num_attention_heads"))]
    positions_field, hidden, layers, head_field = names
    d_model, num_heads = basic(c, context=positions_field, hidden=hidden, layers=layers, heads=head_field)
    if c.flag("multi_query", True):
        kv_heads, kv_source = 1, _flag_source(c, "multi_query", True) + ": one key/value head"
    else:
        kv_heads, kv_source = num_heads, "multi_query = false"
    heads(c, d_model, num_heads, kv_field=None, head_dim=None, kv_heads=kv_heads, kv_source=kv_source,
          names=(hidden, head_field))
    _learned(c, positions_field, c.integer(positions_field))
    tied(c, True)
    norm(c, "layernorm", "LayerNorm (weight and bias), 2 per block")
    inner = c.get("n_inner", None)
    plain_ffn(c, "activation_function", "gelu_pytorch_tanh", width_value=c.integer("n_inner") if inner is not None
              else 4 * d_model, width_source="n_inner" if inner is not None else "n_inner (null: 4 * n_embd)")
    biases(c, ATTENTION_ROWS + ("FFN",), "GPTBigCode's c_attn, c_proj, c_fc and mlp.c_proj all carry biases")
    _full(c)


def opt(c):
    d_model, num_heads = basic(c)
    heads(c, d_model, num_heads, kv_field=None, head_dim=None)
    projection = c.get("word_embed_proj_dim", None)
    if projection is not None and projection != d_model:
        raise c.unsupported("word_embed_proj_dim", projection, f"differs from hidden_size ({d_model}): OPT then adds "
                            "project_in and project_out matrices, which acct's rows do not have")
    positions = c.integer("max_position_embeddings")
    _learned(c, "max_position_embeddings", positions + 2, 2, "OPTLearnedPositionalEmbedding's offset of 2")
    tied(c, True)
    norm(c, "layernorm", "LayerNorm (weight and bias), 2 per block")
    plain_ffn(c, "activation_function", "relu", "ffn_dim")
    if c.flag("enable_bias", True):
        biases(c, ATTENTION_ROWS + ("FFN",), _flag_source(c, "enable_bias", True) +
               " (q, k, v, out_proj, fc1 and fc2)")
    _full(c)


def gpt_neo(c):
    layers = alias(c, "num_layers", "num_hidden_layers")
    head_field = alias(c, "num_heads", "num_attention_heads")
    d_model, num_heads = basic(c, layers=layers, heads=head_field)
    heads(c, d_model, num_heads, kv_field=None, head_dim=None, names=("hidden_size", head_field))
    num_layers = c.get(layers)
    _learned(c, "max_position_embeddings", c.integer("max_position_embeddings"))
    tied(c, True)
    norm(c, "layernorm", "LayerNorm (weight and bias), 2 per block")
    inner = c.get("intermediate_size", None)
    plain_ffn(c, "activation_function", "gelu_new", width_value=c.integer("intermediate_size") if inner is not None
              else 4 * d_model, width_source="intermediate_size" if inner is not None
              else "intermediate_size (null: 4 * hidden_size)")
    biases(c, ("out_proj", "FFN"), "GPT-Neo: q, k, v unbiased; out_proj, c_fc and c_proj biased")
    kinds = _neo_layers(c, c.get("attention_types", [[["global", "local"], 12]]))
    if len(kinds) != num_layers:
        raise c.bad("attention_types", c.get("attention_types", None), f"{num_layers} layers in all ({layers})")
    saved = c.get("attention_layers", None)
    if saved is not None and saved != kinds:
        raise c.unsupported("attention_layers", saved, "differs from what attention_types expands to, which "
                            "transformers reads instead")
    local = kinds.count("local")
    if not local:
        c.choose("attention", "dot_product", "attention_types: every layer global")
        return
    c.choose("attention", "sliding_window", f"attention_types: {local} of {num_layers} layers local")
    c.set("sliding_window", c.integer("window_size", 256), "window_size" if c.get("window_size", None) is not None
          else "window_size (absent: 256)")
    if local != num_layers:
        c.set("local_layers", local, "attention_types")


def _neo_layers(c, types):
    """GPTNeoConfig.expand_attention_types_params: [[kinds, repeat], ...] -> one kind per layer."""
    layers = []
    expected = "a list of [[\"global\" or \"local\", ...], count] pairs"
    if not isinstance(types, list):
        raise c.bad("attention_types", types, expected)
    for item in types:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], list) and isinstance(item[1], int)
                and not isinstance(item[1], bool) and 0 <= item[1] <= 100_000
                and all(kind in ("global", "local") for kind in item[0])):
            raise c.bad("attention_types", types, expected)
        layers.extend(item[0] * item[1])
        if len(layers) > 1_000_000:
            raise c.bad("attention_types", types, "at most 1,000,000 layers")
    return layers


GPT_NAMES = ("max_position_embeddings", "hidden_size", "num_hidden_layers", "num_attention_heads")
IMPORTERS = (
    Importer("olmoe", "OLMoE: routed SwiGLU experts in every layer, q/k RMSNorm over the projection", olmoe,
             maps=LLAMA_MAPS + ("head_dim", "attention_bias", "num_experts", "num_local_experts",
                                "num_experts_per_tok"),
             ignores=LLAMA_IGNORES + ROUTING + ("clip_qkv",)),
    Importer("cohere", "Cohere Command-R: parallel block, one bias-free LayerNorm, tied", cohere,
             maps=LLAMA_MAPS + ("head_dim", "attention_bias", "use_qk_norm"),
             ignores=LLAMA_IGNORES + ("logit_scale",)),
    Importer("cohere2", "Cohere Command-R7B / A: cohere with sliding layers (rotary only there)", cohere2,
             maps=LLAMA_MAPS + ("head_dim", "attention_bias", "sliding_window", "layer_types",
                                "sliding_window_pattern"),
             ignores=LLAMA_IGNORES + ("logit_scale", "cache_implementation", "use_parallel_embedding"),
             # Cohere's own fields, which Cohere2Config does not read (transformers builds a gated MLP, a
             # parallel block, a tied head, whole-head rotary, sliding layers first): only the values it builds
             # are accepted, since another would describe a checkpoint transformers miscounts
             fixed={"use_gated_activation": True, "use_parallel_block": True, "use_embedding_sharing": True,
                    "rotary_pct": 1.0, "position_embedding_type": "rope_gptj",
                    "order_of_interleaved_layers": "local_attn_first"}),
    Importer("stablelm", "StableLM (2, 3B-4E1T): partial rotary, LayerNorm, optional q/k/v biases", stablelm,
             maps=LLAMA_MAPS + ("use_qkv_bias", "use_parallel_residual", "qk_layernorm"),
             ignores=LLAMA_IGNORES),
    Importer("nemotron", "Nemotron / Minitron: squared-ReLU MLP, LayerNorm1P, partial rotary", nemotron,
             maps=LLAMA_MAPS + ("head_dim", "attention_bias", "mlp_bias"),
             ignores=LLAMA_IGNORES + ("norm_eps",)),
    Importer("phimoe", "Phi-3.5-MoE: LayerNorm, biased attention and head, 16 routed SwiGLU experts", phimoe,
             maps=LLAMA_MAPS + ("head_dim", "attention_bias", "lm_head_bias", "num_local_experts",
                                "num_experts_per_tok", "sliding_window"),
             ignores=LLAMA_IGNORES + ROUTING + ("input_jitter_noise",)),
    Importer("gpt_bigcode", "GPT-BigCode / StarCoder / SantaCoder: GPT-2 with multi-query attention", gpt_bigcode,
             maps=("vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "n_inner", "activation_function",
                   "tie_word_embeddings", "multi_query") + GPT_NAMES,
             ignores=DROPOUT + EPS + ("scale_attn_weights", "attention_softmax_in_fp32",
                                      "scale_attention_softmax_in_fp32", "n_ctx", "inference_runner",
                                      "max_batch_size", "max_sequence_length", "pad_key_length", "pre_allocate_kv_cache",
                                      "validate_runner_input",
                                      "summary_type", "summary_use_proj", "summary_activation",
                                      "summary_proj_to_labels", "summary_first_dropout"),
             fixed={"add_cross_attention": False}),
    Importer("opt", "OPT: learned positions (offset 2), LayerNorm, ReLU MLP, biases, tied", opt,
             maps=("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "ffn_dim",
                   "max_position_embeddings", "word_embed_proj_dim", "activation_function", "enable_bias",
                   "tie_word_embeddings"),
             ignores=DROPOUT + ("dropout", "activation_dropout", "layerdrop", "init_std", "scale_embedding"),
             # post-norm OPT (opt-350m) builds no final LayerNorm; gainless norms have no parameters: neither
             # is mapped, so only the usual values are accepted
             fixed={"do_layer_norm_before": True, "layer_norm_elementwise_affine": True,
                    "_remove_final_layer_norm": False}),
    Importer("gpt_neo", "GPT-Neo: learned positions, alternating global and local (windowed) attention", gpt_neo,
             maps=("vocab_size", "max_position_embeddings", "hidden_size", "num_layers", "num_hidden_layers",
                   "num_heads", "num_attention_heads", "intermediate_size", "activation_function",
                   "tie_word_embeddings", "attention_types", "attention_layers", "window_size"),
             ignores=DROPOUT + EPS + ("resid_dropout", "embed_dropout", "summary_type", "summary_use_proj",
                                      "summary_activation", "summary_proj_to_labels", "summary_first_dropout")),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
