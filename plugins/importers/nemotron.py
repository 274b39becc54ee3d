"""Hugging Face importers for NVIDIA's Nemotron and Minitron: nemotron.
Field defaults: transformers 5.24's config classes."""

from fractions import Fraction

from acct import Importer, hookimpl

from .common import (ATTENTION_ROWS, DECODER_IGNORES, DECODER_MAPS, basic, biases, full_attention, heads, norm,
                     partial_rotary, rope, tied)


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
    full_attention(c)


IMPORTERS = (
    Importer("nemotron", "Nemotron / Minitron: squared-ReLU MLP, LayerNorm1P, partial rotary", nemotron,
             maps=DECODER_MAPS + ("head_dim", "attention_bias", "mlp_bias"),
             ignores=DECODER_IGNORES + ("norm_eps",)),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
