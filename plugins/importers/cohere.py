"""Hugging Face importers for Cohere's Command-R (cohere) and Command-R7B / A (cohere2): cohere, cohere2.
Field defaults: transformers 5.24's config classes."""

from fractions import Fraction

from acct import Importer, hookimpl

from .common import (ATTENTION_ROWS, DECODER_IGNORES, DECODER_MAPS, basic, biases, full_attention, gated_ffn, heads,
                     layer_types, no_null_head_dim, norm, partial_rotary, rope, tied)


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


def _some_layers_rotate(c, d_head, count, source, where):
    """Rotary positions in `count` of the layers, none in the others (whole heads: the classes here read
    no partial rotary factor)."""
    fraction, field = partial_rotary(c)
    if fraction is not None and fraction != 1:
        raise c.unsupported(field, float(fraction), f"({where} rotates whole heads; transformers ignores it)")
    c.choose("position", "rope_some_layers", f"{where}: rotary positions in some layers only, none in the "
             "others (no parameters)")
    c.set("rotary_layers", count, source)


def cohere(c):
    d_head = _cohere_common(c, True)
    rope(c, d_head)
    if c.flag("use_qk_norm", False, nullable=True):
        c.choose("qk_norm", "head_layernorm", "use_qk_norm = true: CohereLayerNorm over (heads, head_dim) for q "
                 "and k, a gain per head")
    full_attention(c)


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
        full_attention(c)
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


IMPORTERS = (
    Importer("cohere", "Cohere Command-R: parallel block, one bias-free LayerNorm, tied", cohere,
             maps=DECODER_MAPS + ("head_dim", "attention_bias", "use_qk_norm"),
             ignores=DECODER_IGNORES + ("logit_scale",)),
    Importer("cohere2", "Cohere Command-R7B / A: cohere with sliding layers (rotary only there)", cohere2,
             maps=DECODER_MAPS + ("head_dim", "attention_bias", "sliding_window", "layer_types",
                                  "sliding_window_pattern"),
             ignores=DECODER_IGNORES + ("logit_scale", "cache_implementation", "use_parallel_embedding"),
             # Cohere's own fields, which Cohere2Config does not read (transformers builds a gated MLP, a
             # parallel block, a tied head, whole-head rotary, sliding layers first): only the values it builds
             # are accepted, since another would describe a checkpoint transformers miscounts
             fixed={"use_gated_activation": True, "use_parallel_block": True, "use_embedding_sharing": True,
                    "rotary_pct": 1.0, "position_embedding_type": "rope_gptj",
                    "order_of_interleaved_layers": "local_attn_first"}),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
