"""Hugging Face importers for Stability AI's StableLM: stablelm.
Field defaults: transformers 5.24's config classes."""

from fractions import Fraction

from acct import Importer, hookimpl

from .common import (DECODER_IGNORES, DECODER_MAPS, basic, biases, full_attention, gated_ffn, heads, norm,
                     partial_rotary, rope, tied)


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
    full_attention(c)


IMPORTERS = (
    Importer("stablelm", "StableLM (2, 3B-4E1T): partial rotary, LayerNorm, optional q/k/v biases", stablelm,
             maps=DECODER_MAPS + ("use_qkv_bias", "use_parallel_residual", "qk_layernorm"),
             ignores=DECODER_IGNORES),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
