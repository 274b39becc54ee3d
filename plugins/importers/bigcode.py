"""Hugging Face importers for BigCode's GPT-BigCode (StarCoder, SantaCoder) and StarCoder2: gpt_bigcode, starcoder2.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import (ATTENTION_ROWS, DROPOUT, EPS, GPT_ALIASES, ROPE, ROPE_MAPS, alias, basic, biases,
                     every_layer_windowed, flag_source, full_attention, heads, learned_positions, norm, plain_ffn, rope,
                     tied)


def gpt_bigcode(c):
    names = [alias(c, name, other) for name, other in (
        ("n_positions", "max_position_embeddings"), ("n_embd", "hidden_size"), ("n_layer", "num_hidden_layers"),
        ("n_head", "num_attention_heads"))]
    positions_field, hidden, layers, head_field = names
    d_model, num_heads = basic(c, context=positions_field, hidden=hidden, layers=layers, heads=head_field)
    if c.flag("multi_query", True):
        kv_heads, kv_source = 1, flag_source(c, "multi_query", True) + ": one key/value head"
    else:
        kv_heads, kv_source = num_heads, "multi_query = false"
    heads(c, d_model, num_heads, kv_field=None, head_dim=None, kv_heads=kv_heads, kv_source=kv_source,
          names=(hidden, head_field))
    learned_positions(c, positions_field, c.integer(positions_field))
    tied(c, True)
    norm(c, "layernorm", "LayerNorm (weight and bias), 2 per block")
    inner = c.get("n_inner", None)
    plain_ffn(c, "activation_function", "gelu_pytorch_tanh", width_value=c.integer("n_inner") if inner is not None
              else 4 * d_model, width_source="n_inner" if inner is not None else "n_inner (null: 4 * n_embd)")
    biases(c, ATTENTION_ROWS + ("FFN",), "GPTBigCode's c_attn, c_proj, c_fc and mlp.c_proj all carry biases")
    full_attention(c)


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


IMPORTERS = (
    Importer("gpt_bigcode", "GPT-BigCode / StarCoder / SantaCoder: GPT-2 with multi-query attention", gpt_bigcode,
             maps=("vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "n_inner", "activation_function",
                   "tie_word_embeddings", "multi_query") + GPT_ALIASES,
             ignores=DROPOUT + EPS + ("scale_attn_weights", "attention_softmax_in_fp32",
                                      "scale_attention_softmax_in_fp32", "n_ctx", "inference_runner",
                                      "max_batch_size", "max_sequence_length", "pad_key_length", "pre_allocate_kv_cache",
                                      "validate_runner_input",
                                      "summary_type", "summary_use_proj", "summary_activation",
                                      "summary_proj_to_labels", "summary_first_dropout"),
             fixed={"add_cross_attention": False}),
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
