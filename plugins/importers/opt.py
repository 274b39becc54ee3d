"""Hugging Face importers for Meta's OPT: opt.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import (ATTENTION_ROWS, DROPOUT, basic, biases, flag_source, full_attention, heads, learned_positions,
                     norm, plain_ffn, tied)


def opt(c):
    d_model, num_heads = basic(c)
    heads(c, d_model, num_heads, kv_field=None, head_dim=None)
    projection = c.get("word_embed_proj_dim", None)
    if projection is not None and projection != d_model:
        raise c.unsupported("word_embed_proj_dim", projection, f"differs from hidden_size ({d_model}): OPT then adds "
                            "project_in and project_out matrices, which acct's rows do not have")
    positions = c.integer("max_position_embeddings")
    learned_positions(c, "max_position_embeddings", positions + 2, 2, "OPTLearnedPositionalEmbedding's offset of 2")
    tied(c, True)
    norm(c, "layernorm", "LayerNorm (weight and bias), 2 per block")
    plain_ffn(c, "activation_function", "relu", "ffn_dim")
    if c.flag("enable_bias", True):
        biases(c, ATTENTION_ROWS + ("FFN",), flag_source(c, "enable_bias", True) +
               " (q, k, v, out_proj, fc1 and fc2)")
    full_attention(c)


IMPORTERS = (
    Importer("opt", "OPT: learned positions (offset 2), LayerNorm, ReLU MLP, biases, tied", opt,
             maps=("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "ffn_dim",
                   "max_position_embeddings", "word_embed_proj_dim", "activation_function", "enable_bias",
                   "tie_word_embeddings"),
             ignores=DROPOUT + ("dropout", "activation_dropout", "layerdrop", "init_std", "scale_embedding"),
             # post-norm OPT (opt-350m) builds no final LayerNorm; gainless norms have no parameters: neither
             # is mapped, so only the usual values are accepted
             fixed={"do_layer_norm_before": True, "layer_norm_elementwise_affine": True,
                    "_remove_final_layer_norm": False}),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
