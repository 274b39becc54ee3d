"""Normalization layers: two per block (before attention, before the FFN) and one final."""

from acct import Component, hookimpl

# variant: (params per block, params of the final norm, what it holds); elementwise, so no matmul FLOPs
NORMS = {
    "rmsnorm": ("2 * d_model", "d_model", "RMSNorm", "gain only"),
    "layernorm": ("4 * d_model", "2 * d_model", "LayerNorm", "gain and bias"),
}


@hookimpl
def acct_register_components(register):
    for variant, (per_block, final, what, parts) in NORMS.items():
        common = dict(slot="norm", variant=variant, group="norms", flops=0)
        register(
            Component(
                name="block_norms",
                params=per_block,
                per_layer=True,
                description=f"{what} ×2 per block ({parts})",
                default=variant == "rmsnorm",
                **common,
            )
        )
        register(Component(name="final_norm", params=final, description=f"final {what} ({parts})", **common))
