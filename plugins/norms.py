"""Normalization layers: two per block (before attention, before the FFN) and one final."""

from acct import Component, hookimpl


@hookimpl
def acct_register_components(register):
    # RMSNorm has a gain vector of D and no bias; its elementwise FLOPs are not matmuls.
    register(
        Component(
            name="block_norms",
            slot="norm",
            variant="rmsnorm",
            group="norms",
            params="2 * d_model",
            flops=0,
            per_layer=True,
            description="RMSNorm ×2 per block (gain only)",
            default=True,
        )
    )
    register(
        Component(
            name="final_norm",
            slot="norm",
            variant="rmsnorm",
            group="norms",
            params="d_model",
            flops=0,
            description="final RMSNorm (gain only)",
        )
    )
