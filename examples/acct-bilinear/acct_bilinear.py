"""A bilinear FFN for acct (ffn = "bilinear"): W2·((W1·x) ⊙ (W3·x)), a GLU with no activation (Shazeer 2020)."""

import acct


@acct.hookimpl
def acct_register_components(register):
    # The same three D×F matrices as SwiGLU, so the same parameters and matmul FLOPs; with no
    # activation function, only the elementwise product (1 per element) and the residual add.
    for name, k, n, what, other in (
        ("bilinear_w1", "d_model", "d_ff", "W1: D→F", "context_length * d_ff"),
        ("bilinear_w3", "d_model", "d_ff", "W3: D→F", 0),
        ("bilinear_w2", "d_ff", "d_model", "W2: F→D", "context_length * d_model"),
    ):
        register(
            acct.Component(
                name=name,
                slot="ffn",
                variant="bilinear",
                group="FFN",
                params=f"{k} * {n}",
                flops=f"2 * context_length * {k} * {n}",
                shape=("context_length", k, n),
                per_layer=True,
                bias=n,
                description=f"bilinear FFN {what}",
                # keeps W1's and W3's outputs for the product's backward, and W2's output
                activations={"*": f"activation_bytes * context_length * {n}"},
                flops_other=other,
            )
        )
