"""Scaled dot-product attention: the scores QKᵀ and the weighted sum of values, per head."""

from acct import Component, hookimpl


@hookimpl
def acct_register_components(register):
    # Per head (T×d_k)·(d_k×T), H heads: 2·H·T·d_k·T = 2·T²·D, since H·d_k = D.
    register(
        Component(
            name="attn_scores",
            slot="attention",
            variant="dot_product",
            group="attention scores and values",
            params=0,
            flops="2 * context_length ** 2 * d_model",
            per_layer=True,
            shape=("context_length", "d_head", "context_length"),
            batch="num_heads",
            description="scores QKᵀ",
            default=True,
        )
    )
    register(
        Component(
            name="attn_values",
            slot="attention",
            variant="dot_product",
            group="attention scores and values",
            params=0,
            flops="2 * context_length ** 2 * d_model",
            per_layer=True,
            shape=("context_length", "context_length", "d_head"),
            batch="num_heads",
            description="weighted values softmax(QKᵀ/√d_k)·V",
        )
    )
