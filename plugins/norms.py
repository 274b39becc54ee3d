"""Normalization layers: two per block (before attention, before the FFN) and one final."""

from acct import Component, hookimpl

# variant: (params per block, params of the final norm, what it holds, non-matmul FLOPs per element).
# Elementwise, so no matmul FLOPs. Per element: RMSNorm 4 (square, sum, scale, gain); LayerNorm 7
# (sum, subtract the mean, square, sum, scale, gain, bias); the per-row rsqrt is not counted.
NORMS = {
    "rmsnorm": ("2 * d_model", "d_model", "RMSNorm", "gain only", 4),
    "layernorm": ("4 * d_model", "2 * d_model", "LayerNorm", "gain and bias", 7),
}


# Activations: cs336 keeps each norm's output; Korthikanti et al. each block norm's
# input (2sbh twice) and nothing outside the layers; with full recomputation only
# the layer's input (2sbh), counted here.
BLOCK_ACTIVATIONS = {
    "cs336": "2 * activation_bytes * context_length * d_model",
    "korthikanti": "2 * activation_bytes * context_length * d_model",
    "korthikanti_recompute": "activation_bytes * context_length * d_model",
}
FINAL_ACTIVATIONS = {
    "cs336": "activation_bytes * context_length * d_model",
    "korthikanti": 0,
    "korthikanti_recompute": 0,
}


@hookimpl
def acct_register_components(register):
    for variant, (per_block, final, what, parts, per_element) in NORMS.items():
        common = dict(slot="norm", variant=variant, group="norms", flops=0)
        register(
            Component(
                name="block_norms",
                params=per_block,
                per_layer=True,
                description=f"{what} ×2 per block ({parts})",
                default=variant == "rmsnorm",
                activations=BLOCK_ACTIVATIONS,
                flops_other=f"{2 * per_element} * context_length * d_model",
                **common,
            )
        )
        register(
            Component(
                name="final_norm",
                params=final,
                description=f"final {what} ({parts})",
                activations=FINAL_ACTIVATIONS,
                flops_other=f"{per_element} * context_length * d_model",
                **common,
            )
        )
