"""Hugging Face importers for Hugging Face's SmolLM3: smollm3.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import (ATTENTION_ROWS, LLAMA_IGNORES, LLAMA_MAPS, basic, biases, flag, full_attention, gated_ffn, heads,
                     layer_types, no_null_head_dim, norm, partial_rotary, rope, tied, windowed)


def smollm3(c):
    no_null_head_dim(c, "SmolLM3Attention")
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads, kv_default=4)  # SmolLM3Config's default, absent
    num_layers = c.get("num_hidden_layers")
    tied(c, True)
    bias, source = flag(c, "attention_bias", False)
    if bias:
        biases(c, ATTENTION_ROWS, f"{source} (q, k, v and o projections)")
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block")
    gated_ffn(c)
    if c.flag("mlp_bias", False):
        biases(c, ("FFN",), "mlp_bias = true")
    flags = c.get("no_rope_layers", None)
    if flags is None:
        interval = c.integer("no_rope_layer_interval", 4)
        flags = [int((i + 1) % interval != 0) for i in range(num_layers)]
        source = f"no_rope_layer_interval = {interval}: every {interval}th layer has no rotary positions"
    else:
        if not isinstance(flags, list) or len(flags) != num_layers or any(
                flag not in (0, 1) or isinstance(flag, bool) for flag in flags):
            raise c.bad("no_rope_layers", flags, f"{num_layers} entries, each 1 (rotary) or 0 (none)")
        source = "no_rope_layers"
    rotary = sum(flags)
    if rotary == num_layers:
        rope(c, d_head)
    elif rotary == 0:
        c.choose("position", "none", f"{source}: no layer rotates (NoPE)")
    else:
        fraction, field = partial_rotary(c)
        if fraction is not None and fraction != 1:
            raise c.unsupported(field, float(fraction), "(SmolLM3 rotates whole heads)")
        c.choose("position", "rope_some_layers", f"{source}: rotary positions in some layers, none in the others")
        c.set("rotary_layers", rotary, f"{source}: {rotary} of {num_layers} layers rotate")
    kinds = layer_types(c, num_layers)
    if not c.flag("use_sliding_window", False) or c.get("sliding_window", None) is None:
        full_attention(c)
        return
    if kinds is None:  # SmolLM3Config: the layers without rotary positions slide
        count, where = num_layers - rotary, f"use_sliding_window = true: the {num_layers - rotary} layers without rotary"
    else:
        count, where = kinds, "use_sliding_window = true, layer_types"
    windowed(c, count, num_layers, where)


IMPORTERS = (
    Importer("smollm3", "SmolLM3: GQA, no rotary positions in every 4th layer, tied", smollm3,
             maps=LLAMA_MAPS + ("attention_bias", "mlp_bias", "no_rope_layers", "no_rope_layer_interval",
                                "use_sliding_window", "sliding_window", "layer_types"),
             ignores=LLAMA_IGNORES + ("max_window_layers",)),  # not read by SmolLM3,
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
