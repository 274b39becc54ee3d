"""Position information: rotary embeddings (RoPE) rotate Q and K and have no parameters."""

from acct import Component, hookimpl


@hookimpl
def acct_register_components(register):
    register(
        Component(
            name="rope",
            slot="position",
            variant="rope",
            group="embedding",
            params=0,
            flops=0,
            description="rotary position embedding (no parameters; elementwise, no matmul)",
            default=True,
        )
    )
