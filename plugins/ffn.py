"""Position-wise feed-forward networks: SwiGLU, W2·(SiLU(W1·x) ⊙ W3·x)."""

from acct import Component, Input, hookimpl


@hookimpl
def acct_register_inputs(register):
    register(Input("d_ff", "feed-forward hidden width", symbol="F"))


@hookimpl
def acct_register_components(register):
    for name, what in (("ffn_w1", "gate W1"), ("ffn_w3", "up W3")):
        register(
            Component(
                name=name,
                slot="ffn",
                variant="swiglu",
                group="FFN",
                params="d_model * d_ff",
                flops="2 * context_length * d_model * d_ff",
                per_layer=True,
                shape=("context_length", "d_model", "d_ff"),
                description=f"SwiGLU {what}: D→F",
                default=True,
            )
        )
    register(
        Component(
            name="ffn_w2",
            slot="ffn",
            variant="swiglu",
            group="FFN",
            params="d_ff * d_model",
            flops="2 * context_length * d_ff * d_model",
            per_layer=True,
            shape=("context_length", "d_ff", "d_model"),
            description="SwiGLU down W2: F→D",
        )
    )
