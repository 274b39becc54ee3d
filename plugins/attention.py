"""Scaled dot-product attention: the scores QKᵀ and the weighted sum of values, per head.

Activations kept for the backward pass: cs336 counts the scores and the softmax
(2·H·T² elements) and the weighted sum (T·D); Korthikanti et al. count the
softmax output in 16-bit and its 1-byte dropout mask (3·a·s²·b bytes) and the
dropout output that multiplies V (2·a·s²·b).
Decoding one token at position t attends to t keys over all heads: 2·t·D each.
"""

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
            activations={
                "cs336": "2 * activation_bytes * num_heads * context_length ** 2",
                "korthikanti": "(activation_bytes + 1) * num_heads * context_length ** 2",
                "korthikanti_recompute": 0,
            },
            flops_decode="2 * decode_position * d_model",
            attention_product=True,
            kv_cache="context_length * num_kv_heads * d_head",  # the keys this product reads
            # softmax with its scaling, 6 FLOPs per score: scale, max, subtract, exp, sum, divide
            flops_other="6 * num_heads * context_length ** 2",
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
            activations={
                "cs336": "activation_bytes * context_length * d_model",
                "korthikanti": "activation_bytes * num_heads * context_length ** 2",
                "korthikanti_recompute": 0,
            },
            flops_decode="2 * decode_position * d_model",
            attention_product=True,
            kv_cache="context_length * num_kv_heads * d_head",  # the values this product reads
        )
    )
