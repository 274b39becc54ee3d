"""Position-wise feed-forward networks: gated, W2·(act(W1·x) ⊙ W3·x) with SiLU (SwiGLU) or GELU (GeGLU),
and two-matrix, W_out·act(W_in·x) with GELU or ReLU."""

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


# Non-matmul FLOPs per element of the activation: SiLU 4 (negate, exp, add, divide), GELU (tanh
# form) 9, ReLU 1 (a compare); the gate product 1, on W3; the residual add after the FFN 1, counted
# on its last projection.
ACTIVATION_FLOPS = {"silu": 4, "gelu": 9, "relu": 1}
OTHER = {
    "ffn_w3": "context_length * d_ff",
    "ffn_w2": "context_length * d_model",
    "ffn_out": "context_length * d_model",
}

# variant: (activation function, rows); gated variants have three matrices, the others two
VARIANTS = {
    "swiglu": ("silu", "SwiGLU", ("ffn_w1", "ffn_w3", "ffn_w2")),
    "geglu": ("gelu", "GeGLU", ("ffn_w1", "ffn_w3", "ffn_w2")),
    "gelu": ("gelu", "GELU FFN", ("ffn_in", "ffn_out")),
    "relu": ("relu", "ReLU FFN", ("ffn_in", "ffn_out")),
}
# Megatron's linear_fc2 (the F→D projection) is a RowParallelLinear: its weight splits by F, its
# bias stays whole on every tensor-parallel rank; linear_fc1 (W1 and W3 fused, or W_in) is column-parallel
ROW_PARALLEL = ("ffn_w2", "ffn_out")
ROLES = {  # row: (k, n, what it does)
    "ffn_w1": ("d_model", "d_ff", "gate W1: D→F"),
    "ffn_w3": ("d_model", "d_ff", "up W3: D→F"),
    "ffn_w2": ("d_ff", "d_model", "down W2: F→D"),
    "ffn_in": ("d_model", "d_ff", "W_in: D→F"),
    "ffn_out": ("d_ff", "d_model", "W_out: F→D"),
}


# What autograd keeps for transformers' SwiGLU MLP, down_proj(act_fn(gate_proj(x)) * up_proj(x)): the gate's
# output (SiLU's input) and the up projection's, SiLU's output and the product (down_proj's input), all in
# the compute dtype; under autocast gate_proj and up_proj each keep a bf16 copy of their fp32 input.
PYTORCH = {
    "ffn_w1": "autocast * activation_bytes * context_length * d_model + activation_bytes * context_length * d_ff",
    "ffn_w3": "autocast * activation_bytes * context_length * d_model + activation_bytes * context_length * d_ff",
    "ffn_w2": "2 * activation_bytes * context_length * d_ff",
}


def linear(name, variant, k, n, description, activation_flops, default=False):
    """A k→n projection of the FFN (d_model→d_ff or d_ff→d_model), over T tokens; the first
    projection carries the activation function's non-matmul FLOPs (`activation_flops` per element).
    Other FFN plugins (extra_variants' squared ReLU, xIELU) make their rows with it too."""
    cs336, korthikanti = ACTIVATIONS[name]
    other = OTHER.get(name) or f"{activation_flops} * context_length * d_ff"
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
        tensor_parallel="row" if name in ROW_PARALLEL else "column",
        description=description,
        default=default,
        activations={"cs336": cs336, "korthikanti": korthikanti, "korthikanti_recompute": 0,
                     **({"eager": PYTORCH[name], "sdpa": PYTORCH[name]} if variant == "swiglu" else {})},
        flops_other=other,
    )


@hookimpl
def acct_register_components(register):
    # gated: three matrices, forward 6·T·D·F; non-gated: two, forward 4·T·D·F
    for variant, (activation, what, rows) in VARIANTS.items():
        for name in rows:
            k, n, role = ROLES[name]
            register(linear(name, variant, k, n, f"{what} {role}", ACTIVATION_FLOPS[activation],
                            default=variant == "swiglu"))
