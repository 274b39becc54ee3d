"""Hugging Face importers for decoders with a two-matrix MLP and LayerNorm: gpt2, gpt_neox, gptj, falcon,
phi, starcoder2 (field defaults: transformers 5.24's config classes)."""

from fractions import Fraction

from acct import Importer, hookimpl

from .hf_common import (ATTENTION_ROWS, alias, DROPOUT, EPS, ROPE, ROPE_MAPS, basic, biases, every_layer_windowed, heads,
                        partial_rotary, plain_ffn, norm, rope, tied)

SUMMARY = ("summary_type", "summary_use_proj", "summary_activation", "summary_proj_to_labels",
           "summary_first_dropout")


def _gpt_names(c):
    """GPT-2's and GPT-J's field names, or the attribute_map's aliases where a config uses those:
    (n_positions, n_embd, n_layer, n_head)."""
    return tuple(alias(c, name, other) for name, other in (
        ("n_positions", "max_position_embeddings"), ("n_embd", "hidden_size"), ("n_layer", "num_hidden_layers"),
        ("n_head", "num_attention_heads")))


GPT_ALIASES = ("max_position_embeddings", "hidden_size", "num_hidden_layers", "num_attention_heads")


def gpt2(c):
    positions_field, hidden, layers, head_field = _gpt_names(c)
    d_model, num_heads = basic(c, context=positions_field, hidden=hidden, layers=layers, heads=head_field)
    heads(c, d_model, num_heads, kv_field=None, head_dim=None, names=(hidden, head_field))
    positions = c.integer(positions_field)
    c.choose("position", "learned", f"GPT2Model.wpe: a learned table of {positions_field}")
    c.set("max_positions", positions, positions_field)
    tied(c, True)
    norm(c, "layernorm", "LayerNorm (weight and bias), 2 per block")
    inner = c.get("n_inner", None)
    plain_ffn(c, "activation_function", "gelu_new", width_value=c.integer("n_inner") if inner is not None
              else 4 * d_model, width_source="n_inner" if inner is not None else "n_inner (null: 4 * n_embd)")
    biases(c, ("attention projections", "FFN"), "GPT-2's Conv1D layers (c_attn, c_proj, c_fc) all carry biases")
    c.choose("attention", "dot_product", "full causal attention in every layer")


def gpt_neox(c):
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads, kv_field=None, head_dim=None)
    tied(c, False)
    fraction, source = partial_rotary(c, default=Fraction(1, 4), legacy="rotary_pct")
    rope(c, d_head, fraction, source)
    # two LayerNorms per block, in parallel (use_parallel_residual) or in sequence: the same count
    norm(c, "layernorm", "LayerNorm (weight and bias), 2 per block")
    plain_ffn(c, "hidden_act", "gelu", "intermediate_size")
    if c.flag("attention_bias", True):
        biases(c, ATTENTION_ROWS, "attention_bias = true (query_key_value and dense)"
               if c.get("attention_bias", None) is not None else "attention_bias (absent: true)")
    biases(c, ("FFN",), "GPTNeoXMLP: dense_h_to_4h and dense_4h_to_h always carry biases")
    c.choose("attention", "dot_product", "full causal attention in every layer")


def gptj(c):
    positions_field, hidden, layers, head_field = _gpt_names(c)
    d_model, num_heads = basic(c, context=positions_field, hidden=hidden, layers=layers, heads=head_field)
    d_head, _ = heads(c, d_model, num_heads, kv_field=None, head_dim=None, names=(hidden, head_field))
    tied(c, False)
    rotary = c.get("rotary_dim", 64)
    if rotary is None:
        rope(c, d_head, Fraction(1), "rotary_dim = null: the whole head")
    else:
        dims = c.integer("rotary_dim")
        if dims > d_head:
            raise c.bad("rotary_dim", dims, f"at most the head width {d_head}")
        rope(c, d_head, Fraction(dims, d_head), "rotary_dim")
    norm(c, "layernorm", "GPTJBlock: one LayerNorm (ln_1) feeds attention and MLP in parallel", 1,
         "GPTJBlock: ln_1 only, attention and MLP in parallel")
    inner = c.get("n_inner", None)
    plain_ffn(c, "activation_function", "gelu_new", width_value=c.integer("n_inner") if inner is not None
              else 4 * d_model, width_source="n_inner" if inner is not None else "n_inner (null: 4 * n_embd)")
    biases(c, ("FFN", "lm_head"), "GPT-J: fc_in, fc_out and lm_head carry biases, attention none")
    c.choose("attention", "dot_product", "full causal attention in every layer")


def _falcon_flag(c, name, default):
    """FalconConfig declares its flags `bool | None` and the model tests them for truth: null is
    false even where the default is true (multi_query, parallel_attn). Returns (value, source)."""
    if name in c and c.get(name) is None:
        return False, f"{name} = null (false)"
    value = c.flag(name, default)
    return value, f"{name} = {str(value).lower()}" if name in c else f"{name} (absent: {str(default).lower()})"


def falcon(c):
    hidden = "hidden_size" if "hidden_size" in c or "n_embed" not in c else "n_embed"
    d_model, num_heads = basic(c, context_default=2048, hidden=hidden)
    new = c.flag("new_decoder_architecture", False, nullable=True)
    multi_query, multi_query_source = _falcon_flag(c, "multi_query", True)
    if new:
        kv_heads = c.integer("num_kv_heads", num_heads)
        kv_source = "new_decoder_architecture = true: num_kv_heads"
    elif multi_query:
        kv_heads, kv_source = 1, "multi_query = true (num_kv_heads unread): one key/value head"
    else:
        kv_heads, kv_source = num_heads, multi_query_source
    d_head, _ = heads(c, d_model, num_heads, kv_field="num_kv_heads", head_dim=None, kv_heads=kv_heads,
                      kv_source=kv_source)
    tied(c, True)
    if c.flag("alibi", False, nullable=True):
        raise c.unsupported("alibi", True, "(ALiBi position biases) has no acct position variant")
    rope(c, d_head)
    parallel, parallel_source = _falcon_flag(c, "parallel_attn", True)
    lns = c.get("num_ln_in_parallel_attn", None)
    lns_source = "num_ln_in_parallel_attn"
    if lns is None:
        lns = 2 if new else 1
        lns_source += f" (absent: {lns})"
    if not parallel:
        if new:
            raise c.unsupported("parallel_attn", False, "with new_decoder_architecture = true builds norms its "
                                "forward does not use (inconsistent in transformers)")
        count, source = 2, f"{parallel_source}: input and post-attention LayerNorms"
    elif lns == 2 and not new:
        raise c.unsupported("num_ln_in_parallel_attn", lns, "without new_decoder_architecture builds norms its "
                            "forward does not use (inconsistent in transformers)")
    elif lns in (1, 2):
        count, source = lns, f"parallel_attn = true, {lns_source} = {lns}"
    else:
        raise c.bad("num_ln_in_parallel_attn", lns, "1 or 2")
    norm(c, "layernorm", "LayerNorm (weight and bias)", count, source)
    width = c.get("ffn_hidden_size", None)
    plain_ffn(c, "activation", "gelu", width_value=c.integer("ffn_hidden_size") if width is not None
              else 4 * d_model, width_source="ffn_hidden_size" if width is not None
              else "ffn_hidden_size (absent: 4 * hidden_size)")
    if c.flag("bias", False, nullable=True):
        biases(c, ATTENTION_ROWS + ("FFN",), "bias = true (query_key_value, dense, dense_h_to_4h, dense_4h_to_h)")
    c.choose("attention", "dot_product", "full causal attention in every layer")


def phi(c):
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads)
    tied(c, False)
    fraction, source = partial_rotary(c, default=Fraction(1, 2))
    rope(c, d_head, fraction, source)
    norm(c, "layernorm", "PhiDecoderLayer: one LayerNorm feeds attention and MLP in parallel", 1,
         "PhiDecoderLayer: input_layernorm only, attention and MLP in parallel")
    plain_ffn(c, "hidden_act", "gelu_new", "intermediate_size")
    biases(c, ATTENTION_ROWS + ("FFN", "lm_head"), "Phi: q, k, v, dense, fc1, fc2 and lm_head all carry biases")
    c.choose("attention", "dot_product", "full causal attention in every layer")


def starcoder2(c):
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads, kv_default=2)  # Starcoder2Config's default, absent
    tied(c, True)
    rope(c, d_head)
    norm(c, "layernorm", "nn.LayerNorm (weight and bias, whatever norm_type says), 2 per block")
    plain_ffn(c, "hidden_act", "gelu_pytorch_tanh", "intermediate_size")
    if c.flag("use_bias", True):
        biases(c, ATTENTION_ROWS + ("FFN",), "use_bias = true" if c.get("use_bias", None) is not None
               else "use_bias (absent: true)")
    every_layer_windowed(c, c.get("num_hidden_layers"))


GPT_IGNORES = DROPOUT + EPS + SUMMARY + ("n_ctx", "scale_attn_weights")
IMPORTERS = (
    Importer("gpt2", "GPT-2: learned positions, LayerNorm, GELU MLP, biases everywhere, tied", gpt2,
             maps=("vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "n_inner", "activation_function",
                   "tie_word_embeddings") + GPT_ALIASES,
             # n_special, predict_special_tokens: OpenAI GPT's fields, left in gpt2-medium's and gpt2-large's
             # config.json; GPT2Config does not read them (no extra embedding rows)
             ignores=GPT_IGNORES + ("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "n_special",
                                    "predict_special_tokens", "gradient_checkpointing"),
             fixed={"add_cross_attention": False}),
    Importer("gpt_neox", "GPT-NeoX / Pythia: partial rotary, two LayerNorms, parallel residual", gpt_neox,
             maps=("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                   "max_position_embeddings", "tie_word_embeddings", "hidden_act", "attention_bias",
                   "rotary_pct") + ROPE_MAPS,
             ignores=DROPOUT + ROPE + EPS + ("use_parallel_residual", "is_decoder")),
    Importer("gptj", "GPT-J: one LayerNorm, parallel attention and MLP, partial rotary, lm_head bias", gptj,
             maps=("vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "n_inner", "activation_function",
                   "tie_word_embeddings", "rotary_dim") + GPT_ALIASES,
             ignores=GPT_IGNORES + ("rotary", "gradient_checkpointing")),
    Importer("falcon", "Falcon: multi-query or grouped KV, parallel attention, LayerNorm, GELU MLP", falcon,
             maps=("vocab_size", "hidden_size", "n_embed", "num_hidden_layers", "num_attention_heads",
                   "num_kv_heads", "multi_query", "new_decoder_architecture", "parallel_attn",
                   "num_ln_in_parallel_attn", "bias", "ffn_hidden_size", "activation", "tie_word_embeddings",
                   "max_position_embeddings", "alibi") + ROPE_MAPS,
             # head_dim: FalconConfig's is a property (hidden_size // num_attention_heads), a key is not read
             ignores=DROPOUT + ROPE + EPS + ("apply_residual_connection_post_layernorm", "head_dim")),
    Importer("phi", "Phi (1, 1.5, 2): parallel block with one LayerNorm, partial rotary, biases", phi,
             maps=("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                   "head_dim", "intermediate_size", "max_position_embeddings", "tie_word_embeddings",
                   "hidden_act") + ROPE_MAPS,
             ignores=DROPOUT + ROPE + EPS,
             # q_layernorm/k_layernorm would be LayerNorm(d_head) with bias: no acct variant yet
             fixed={"qk_layernorm": False}),
    Importer("starcoder2", "StarCoder2: GQA, LayerNorm, GELU MLP, biases, sliding window", starcoder2,
             maps=("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                   "head_dim", "intermediate_size", "max_position_embeddings", "tie_word_embeddings",
                   "hidden_act", "use_bias", "sliding_window") + ROPE_MAPS,
             # norm_type and mlp_type are not Starcoder2Config fields: transformers always builds LayerNorm
             # and the plain MLP
             ignores=DROPOUT + ROPE + EPS + ("norm_type", "mlp_type")),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
