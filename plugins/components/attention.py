"""Scaled dot-product attention: the scores QKᵀ and the weighted sum of values, per head.

Variants: `dot_product` (every layer attends to all T keys), `sliding_window` (L_loc
layers attend to at most W keys, the others to all T) and `mla` (multi-head latent
attention's products; its projections are in acct.plugins.components.mla).

Activations kept for the backward pass: cs336 counts the scores and the softmax
(2·H·T·keys elements) and the weighted sum (T·H·d_v); Korthikanti et al. count the
softmax output in 16-bit and its 1-byte dropout mask (3·a·s·keys·b bytes) and the
dropout output that multiplies V (2·a·s·keys·b), keys = s for dense attention.
Decoding one token at position t attends to t keys over all heads: 2·t·H·d_k and 2·t·H·d_v.
"""

from acct import Component, Input, hookimpl

WINDOW = "min(sliding_window, context_length)"

# What autograd keeps, as transformers' attention functions run (keys and values repeated to all H
# heads by repeat_kv first). sdpa (a fused kernel): Q and K, the causal mask (T×T in the compute dtype,
# made per layer), the log-sum-exp (fp32, per head and query); V and the output. eager: Q and Kᵀ, the
# softmax's fp32 output (H·T·T) and, when the compute dtype is not fp32, its cast copy that multiplies
# V; V and the output made contiguous for the projection after it.
PYTORCH_SCORES = {
    "sdpa": "activation_bytes * context_length * (2 * num_heads * d_head + context_length)"
            " + 4 * num_heads * context_length",
    "eager": "2 * activation_bytes * context_length * num_heads * d_head"
             " + (4 + activation_bytes * min(1, 4 - activation_bytes)) * num_heads * context_length ** 2",
}
PYTORCH_VALUES = {
    "sdpa": "2 * activation_bytes * context_length * num_heads * d_head_v",
    "eager": "2 * activation_bytes * context_length * num_heads * d_head_v",
}

SLIDING_NOTE = (
    "sliding-window attention: QKᵀ and attention·V of the local layers are counted over "
    "min(W, T) keys per query, what a windowed kernel computes, and their KV cache holds at most "
    "W tokens; a masked dense kernel (eager attention) computes all T keys: `--convention dense` "
    "shows that count"
)

MLA_NOTE = (
    "multi-head latent attention: the KV cache holds, per token and layer, the compressed latent "
    "(kv_lora_rank) and the shared rotary key (qk_rope_head_dim), as MLA-aware kernels (and "
    "transformers' DeepSeek-V2/V3 cache) hold it; QKᵀ and attention·V are counted over the "
    "up-projected heads (d_k = qk_nope + qk_rope, d_v), as the model's forward computes them"
)


@hookimpl
def acct_register_inputs(register):
    register(Input("sliding_window", "keys a sliding-window layer attends to (its window)", symbol="W"))
    register(Input("local_layers", "sliding-window layers (the others attend to all keys)", symbol="L_loc",
                   default="num_layers", minimum=0))


def products(variant, keys="context_length", decode_keys="decode_position", multiplicity=None, suffix="",
             kv_scores="context_length * num_kv_heads * d_head",
             kv_values="context_length * num_kv_heads * d_head_v", default=False, note="", requires_variants=None,
             kv_split="min(gpus, num_kv_heads)"):
    """The two products over the sequence of one attention kind, each query attending to `keys`
    keys (`decode_keys` when decoding); a windowed kind states the dense count in flops_dense."""
    windowed = keys != "context_length"
    dense = ("2 * context_length ** 2 * num_heads * d_head", "2 * context_length ** 2 * num_heads * d_head_v")
    common = dict(slot="attention", variant=variant, group="attention scores and values", params=0,
                  batch="num_heads", attention_product=True, requires_variants=requires_variants or {},
                  # tensor parallelism splits the cache by KV heads; beyond H_kv devices, heads repeat
                  kv_split=kv_split,
                  **({"multiplicity": multiplicity} if multiplicity else {"per_layer": True}))
    scores = Component(
        name=f"attn_scores{suffix}",
        # per head (T×d_k)·(d_k×keys), H heads
        flops=f"2 * context_length * {keys} * num_heads * d_head" if windowed else dense[0],
        shape=("context_length", "d_head", keys),
        description="scores QKᵀ" + (" over the window" if windowed else ""),
        default=default,
        note=note,
        activations={
            "cs336": f"2 * activation_bytes * num_heads * context_length * {keys}" if windowed
            else "2 * activation_bytes * num_heads * context_length ** 2",
            "korthikanti": f"(activation_bytes + 1) * num_heads * context_length * {keys}" if windowed
            else "(activation_bytes + 1) * num_heads * context_length ** 2",
            "korthikanti_recompute": 0,
            **({} if windowed else PYTORCH_SCORES),
        },
        flops_decode=f"2 * {decode_keys} * num_heads * d_head",
        kv_cache=kv_scores,  # the keys this product reads
        # softmax with its scaling, 6 FLOPs per score: scale, max, subtract, exp, sum, divide
        flops_other=f"6 * num_heads * context_length * {keys}" if windowed else "6 * num_heads * context_length ** 2",
        flops_dense=dense[0] if windowed else None,
        **common,
    )
    values = Component(
        name=f"attn_values{suffix}",
        # per head (T×keys)·(keys×d_v), H heads
        flops=f"2 * context_length * {keys} * num_heads * d_head_v" if windowed else dense[1],
        shape=("context_length", keys, "d_head_v"),
        description="weighted values softmax(QKᵀ/√d_k)·V" + (" over the window" if windowed else ""),
        activations={
            "cs336": "activation_bytes * context_length * num_heads * d_head_v",
            "korthikanti": f"activation_bytes * num_heads * context_length * {keys}" if windowed
            else "activation_bytes * num_heads * context_length ** 2",
            "korthikanti_recompute": 0,
            **({} if windowed else PYTORCH_VALUES),
        },
        flops_decode=f"2 * {decode_keys} * num_heads * d_head_v",
        kv_cache=kv_values,  # the values this product reads
        flops_dense=dense[1] if windowed else None,
        **common,
    )
    return scores, values


@hookimpl
def acct_register_components(register):
    for row in products("dot_product", default=True):
        register(row)
    # sliding-window layers beside full ones: L − L_loc full layers, L_loc windowed
    for row in products("sliding_window", multiplicity="num_layers - local_layers"):
        register(row)
    for row in products("sliding_window", keys=WINDOW, decode_keys="min(decode_position, sliding_window)",
                        multiplicity="local_layers", suffix="_local",
                        kv_scores=f"{WINDOW} * num_kv_heads * d_head",
                        kv_values=f"{WINDOW} * num_kv_heads * d_head_v", note=SLIDING_NOTE):
        register(row)
    # MLA: the products of the up-projected heads; the cache holds the latent and the rotary key
    for row in products("mla", kv_scores="context_length * (kv_lora_rank + qk_rope_head_dim)", kv_values=0,
                        note=MLA_NOTE, requires_variants={"qkv": ("mla", "mla_lora")},
                        kv_split=1):  # every device up-projects the whole latent for its heads
        register(row)
