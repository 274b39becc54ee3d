"""Hugging Face importers for LG AI Research's EXAONE-4: exaone4.
Field defaults: transformers 5.24's config classes."""

from acct import Importer, hookimpl

from .common import (LLAMA_IGNORES, LLAMA_MAPS, basic, full_attention, gated_ffn, heads, layer_types, no_null_head_dim,
                     norm, partial_rotary, rope, tied, windowed)


def exaone4(c):
    no_null_head_dim(c, "Exaone4Attention")
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads, kv_default=32)
    num_layers = c.get("num_hidden_layers")
    tied(c, False)
    norm(c, "rmsnorm", "RMSNorm (gain), 2 per block, after attention and after the MLP (inside the residual)")
    c.choose("qk_norm", "head", "Exaone4Attention q_norm, k_norm: RMSNorm over head_dim")
    gated_ffn(c)
    window = c.get("sliding_window", 4096)
    count = layer_types(c, num_layers)
    source = "layer_types"
    if count is None:
        if window is None:
            raise c.unsupported("sliding_window", None, "without layer_types makes Exaone4Config divide by a "
                                "sliding_window_pattern of 0; list the layers in layer_types")
        pattern = c.get("sliding_window_pattern", 4)
        if isinstance(pattern, str) and pattern and set(pattern) <= {"L", "G"}:
            # "LLLG" means a window of len(pattern): every len-th layer full (the config's documented alias)
            pattern = len(pattern)
        if isinstance(pattern, bool) or not isinstance(pattern, int) or pattern < 1:
            raise c.bad("sliding_window_pattern", c.get("sliding_window_pattern"), "a whole number of at least 1 "
                        "or a string of L and G")
        count = sum(1 for i in range(num_layers) if (i + 1) % pattern)
        source = f"sliding_window_pattern = {pattern}: every {pattern}th layer full"
    if window is None:
        count = 0  # no window: every layer attends to all keys and rotates
    windowed(c, count, num_layers, source) if count else full_attention(c)
    if window is None or count == num_layers:
        rope(c, d_head)
        return
    fraction, field = partial_rotary(c)
    if fraction is not None and fraction != 1:
        raise c.unsupported(field, float(fraction), "(EXAONE-4 rotates whole heads)")
    if count == 0:
        c.choose("position", "none", f"{source}: no sliding layer, and only sliding layers rotate (NoPE)")
        return
    c.choose("position", "rope_some_layers", "Exaone4Attention: with a sliding window set, rotary positions in the "
             "sliding layers only")
    c.set("rotary_layers", count, f"{source}: the {count} sliding layers")


IMPORTERS = (
    Importer("exaone4", "EXAONE-4: norms after each sublayer, q/k RMSNorm, sliding and full layers", exaone4,
             maps=LLAMA_MAPS + ("sliding_window", "sliding_window_pattern", "layer_types"), ignores=LLAMA_IGNORES),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
