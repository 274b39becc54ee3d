"""QK-norm: RMSNorm of the queries and keys before QKᵀ, over each head (Qwen3, Gemma-3) or the whole projection (OLMo-2).

An optional slot (no default variant): a model has it only if its preset chooses
`qk_norm = "head"` or `"proj"`. Both normalize the same T·(H + H_kv)·d_k values; they differ in
their gains: one d_k vector shared by all heads (`head`), or one gain per value of the
projection (`proj`).
"""

from acct import Component, hookimpl

# variant: (q_norm's gain, k_norm's gain, over what)
GAINS = {
    "head": ("d_head", "d_head", "over each head's d_k values, one gain shared by the heads"),
    "proj": ("num_heads * d_head", "num_kv_heads * d_head", "over the whole projection"),
}
WIDTHS = {"q_norm": "num_heads * d_head", "k_norm": "num_kv_heads * d_head"}


@hookimpl
def acct_register_components(register):
    for variant, (q_gain, k_gain, over) in GAINS.items():
        for name, gain, what in (("q_norm", q_gain, "queries"), ("k_norm", k_gain, "keys")):
            # cs336 and Korthikanti et al. keep the normed Q and K that QKᵀ reads (its input, the
            # projection's output, is counted on the projection)
            kept = f"activation_bytes * context_length * {WIDTHS[name]}"
            register(Component(
                name=name,
                slot="qk_norm",
                variant=variant,
                group="norms",
                params=gain,
                flops=0,
                per_layer=True,
                description=f"RMSNorm of the {what} {over} (gain only)",
                activations={"cs336": kept, "korthikanti": kept, "korthikanti_recompute": 0},
                # per element, as RMSNorm in acct.plugins.components.norms: square, sum, scale, gain
                flops_other=f"4 * context_length * {WIDTHS[name]}",
            ))
