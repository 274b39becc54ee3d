"""Hugging Face importers for IBM Granite (granite, granitemoe, granitemoeshared): Llama's shape, with multipliers
(embedding_multiplier, attention_multiplier, residual_multiplier, logits_scaling) that scale activations
and logits but hold no parameter and multiply no matrix. Field defaults: transformers 5.24's config classes.

Its own plugin (hf_granite), so that `--disable hf_granite` drops just these (the README's importer example is a
Granite importer plugin, which would otherwise collide with the builtin one).
"""

from acct import Importer, hookimpl

from .common import (ATTENTION_ROWS, DROPOUT, EPS, ROPE, ROPE_MAPS, ROUTING, basic, biases, gated_ffn, heads,
                     no_null_head_dim, norm, not_null, rope, tied, top_k_within)

MULTIPLIERS = ("embedding_multiplier", "attention_multiplier", "residual_multiplier", "logits_scaling")
MAPS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
        "intermediate_size", "max_position_embeddings", "tie_word_embeddings", "hidden_act",
        "attention_bias") + ROPE_MAPS


def _granite(c):
    """What both share: returns num_layers."""
    no_null_head_dim(c, "GraniteAttention")
    d_model, num_heads = basic(c)
    d_head, _ = heads(c, d_model, num_heads)  # num_key_value_heads null or absent: one per query head
    tied(c, False)
    rope(c, d_head)
    if c.flag("attention_bias", False):
        biases(c, ATTENTION_ROWS, "attention_bias = true (q, k, v and o projections)")
    norm(c, "rmsnorm", "GraniteRMSNorm (gain), 2 per block")
    c.choose("attention", "dot_product", "full causal attention in every layer")
    return c.get("num_hidden_layers")


def granite(c):
    _granite(c)
    gated_ffn(c)
    if c.flag("mlp_bias", False):
        biases(c, ("FFN",), "mlp_bias = true (gate, up and down projections)")


def granitemoe(c):
    # GraniteMoeConfig: int | None, kept as null, and GraniteMoeParallelExperts cannot be built from it
    not_null(c, ("num_local_experts",), "the config class keeps null and transformers cannot "
             "build the experts from it")
    num_layers = _granite(c)
    act = c.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise c.unsupported("hidden_act", act, "in MoE experts (acct's moe experts are SwiGLU)")
    experts = c.integer("num_local_experts", 8)  # GraniteMoeConfig's defaults: 8 experts, top 2
    c.choose("ffn", "moe", "GraniteMoeMoE: a router (no bias) and num_local_experts SwiGLU experts in every layer")
    c.set("num_experts", experts, "num_local_experts" if c.get("num_local_experts", None) is not None
          else "num_local_experts (absent: the config class's default 8)")
    c.set("experts_per_token", c.integer("num_experts_per_tok", 2), "num_experts_per_tok"
          if c.get("num_experts_per_tok", None) is not None else "num_experts_per_tok (absent: the config class's "
          "default 2)")
    width = c.integer("intermediate_size")
    top_k_within(c)
    c.set("d_ff_expert", width, "intermediate_size (each expert's width)")
    c.set("d_ff", width, "intermediate_size (every layer is MoE: the ×0 dense rows read it)")
    del num_layers


def granitemoeshared(c):
    granitemoe(c)
    shared = c.integer("shared_intermediate_size", 0, minimum=0)
    if shared:
        c.set("num_shared_experts", 1, "shared_intermediate_size > 0: one shared SwiGLU MLP (GraniteMoeSharedMLP)")
        c.set("d_ff_shared", shared, "shared_intermediate_size")


IGNORES = DROPOUT + ROPE + EPS + MULTIPLIERS
IMPORTERS = (
    Importer("granite", "IBM Granite (3.x dense): Llama's shape, with multipliers that change no count", granite,
             maps=MAPS + ("mlp_bias",), ignores=IGNORES),
    Importer("granitemoe", "IBM Granite MoE (3.x): routed SwiGLU experts of intermediate_size in every layer",
             granitemoe, maps=MAPS + ("num_local_experts", "num_experts_per_tok"), ignores=IGNORES + ROUTING),
    Importer("granitemoeshared", "IBM Granite MoE with a shared expert: granitemoe plus one shared SwiGLU MLP",
             granitemoeshared, maps=MAPS + ("num_local_experts", "num_experts_per_tok", "shared_intermediate_size"),
             ignores=IGNORES + ROUTING),
)


@hookimpl
def acct_register_importers(register):
    for importer in IMPORTERS:
        register(importer)
