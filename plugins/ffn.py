"""Position-wise feed-forward networks: SwiGLU, W2·(SiLU(W1·x) ⊙ W3·x), and GELU, W_out·GELU(W_in·x)."""

from acct import Component, Input, hookimpl


@hookimpl
def acct_register_inputs(register):
    register(Input("d_ff", "feed-forward hidden width", symbol="F"))


def _linear(name, variant, k, n, description, default=False):
    """A k→n projection of the FFN (d_model→d_ff or d_ff→d_model), over T tokens."""
    return Component(
        name=name,
        slot="ffn",
        variant=variant,
        group="FFN",
        params=f"{k} * {n}",
        flops=f"2 * context_length * {k} * {n}",
        per_layer=True,
        shape=("context_length", k, n),
        bias=n,
        description=description,
        default=default,
    )


@hookimpl
def acct_register_components(register):
    register(_linear("ffn_w1", "swiglu", "d_model", "d_ff", "SwiGLU gate W1: D→F", default=True))
    register(_linear("ffn_w3", "swiglu", "d_model", "d_ff", "SwiGLU up W3: D→F"))
    register(_linear("ffn_w2", "swiglu", "d_ff", "d_model", "SwiGLU down W2: F→D"))
    # non-gated: two matrices, forward 4·T·D·F
    register(_linear("ffn_in", "gelu", "d_model", "d_ff", "GELU FFN W_in: D→F"))
    register(_linear("ffn_out", "gelu", "d_ff", "d_model", "GELU FFN W_out: F→D"))
