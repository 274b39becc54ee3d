"""Position-wise feed-forward networks: SwiGLU, W2·(SiLU(W1·x) ⊙ W3·x), and GELU, W_out·GELU(W_in·x)."""

from acct import Component, Input, hookimpl


@hookimpl
def acct_register_inputs(register):
    register(Input("d_ff", "feed-forward hidden width", symbol="F"))


# Bytes kept for the backward pass, per row. cs336 counts W1's (or W_in's) output
# and the activation's output (2·T·F), and W2's output (T·D); not W3's. Korthikanti
# et al. (GELU): the input and the GELU input (2sbh + 8sbh), the second linear's
# input and a 1-byte dropout mask (8sbh + sbh); SwiGLU by analogy, with W3's output.
ACTIVATIONS = {
    "ffn_w1": ("2 * activation_bytes * context_length * d_ff",
               "activation_bytes * context_length * (d_model + d_ff)"),
    "ffn_w3": (0, "activation_bytes * context_length * d_ff"),
    "ffn_w2": ("activation_bytes * context_length * d_model",
               "activation_bytes * context_length * d_ff + context_length * d_model"),
    "ffn_in": ("2 * activation_bytes * context_length * d_ff",
               "activation_bytes * context_length * (d_model + d_ff)"),
    "ffn_out": ("activation_bytes * context_length * d_model",
                "activation_bytes * context_length * d_ff + context_length * d_model"),
}


# Non-matmul FLOPs per element: SiLU 4 (negate, exp, add, divide) and the gate product 1; GELU
# (tanh form) 9; the residual add after the FFN 1, counted on its last projection.
OTHER = {
    "ffn_w1": "4 * context_length * d_ff",
    "ffn_w3": "context_length * d_ff",
    "ffn_w2": "context_length * d_model",
    "ffn_in": "9 * context_length * d_ff",
    "ffn_out": "context_length * d_model",
}


def _linear(name, variant, k, n, description, default=False):
    """A k→n projection of the FFN (d_model→d_ff or d_ff→d_model), over T tokens."""
    cs336, korthikanti = ACTIVATIONS[name]
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
        activations={"cs336": cs336, "korthikanti": korthikanti, "korthikanti_recompute": 0},
        flops_other=OTHER[name],
    )


@hookimpl
def acct_register_components(register):
    register(_linear("ffn_w1", "swiglu", "d_model", "d_ff", "SwiGLU gate W1: D→F", default=True))
    register(_linear("ffn_w3", "swiglu", "d_model", "d_ff", "SwiGLU up W3: D→F"))
    register(_linear("ffn_w2", "swiglu", "d_ff", "d_model", "SwiGLU down W2: F→D"))
    # non-gated: two matrices, forward 4·T·D·F
    register(_linear("ffn_in", "gelu", "d_model", "d_ff", "GELU FFN W_in: D→F"))
    register(_linear("ffn_out", "gelu", "d_ff", "d_model", "GELU FFN W_out: F→D"))
