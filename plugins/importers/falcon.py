"""Hugging Face importers for TII's Falcon: falcon.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import ATTENTION_ROWS, DROPOUT, EPS, ROPE, ROPE_MAPS, basic, biases, heads, norm, plain_ffn, rope, tied


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


IMPORTERS = (
    Importer("falcon", "Falcon: multi-query or grouped KV, parallel attention, LayerNorm, GELU MLP", falcon,
             maps=("vocab_size", "hidden_size", "n_embed", "num_hidden_layers", "num_attention_heads",
                   "num_kv_heads", "multi_query", "new_decoder_architecture", "parallel_attn",
                   "num_ln_in_parallel_attn", "bias", "ffn_hidden_size", "activation", "tie_word_embeddings",
                   "max_position_embeddings", "alibi") + ROPE_MAPS,
             # head_dim: FalconConfig's is a property (hidden_size // num_attention_heads), a key is not read
             ignores=DROPOUT + ROPE + EPS + ("apply_residual_connection_post_layernorm", "head_dim")),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
