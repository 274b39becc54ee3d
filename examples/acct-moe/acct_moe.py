"""A mixture-of-experts FFN for acct: num_experts SwiGLU experts and a router, top_k experts per token."""

import acct


@acct.hookimpl
def acct_register_inputs(register):
    register(acct.Input("num_experts", "experts per MoE layer", symbol="E"))
    register(acct.Input("top_k", "experts each token is routed to", symbol="k"))
    register(
        acct.Input(
            "idle_experts",
            "experts a token skips (top_k must not exceed num_experts)",
            default="num_experts - top_k",
            minimum=0,
            settable=False,
        )
    )


@acct.hookimpl
def acct_register_components(register):
    common = dict(slot="ffn", variant="moe", group="FFN", per_layer=True)
    register(
        acct.Component(
            name="moe_router",
            params="d_model * num_experts",
            flops="2 * context_length * d_model * num_experts",
            shape=("context_length", "d_model", "num_experts"),
            description="router: D→E logits",
            requires=("idle_experts",),
            activations={"cs336": "activation_bytes * context_length * num_experts"},
            **common,
        )
    )
    # Every expert's weights are parameters; each token runs through top_k of them,
    # so the FLOPs are those of top_k dense SwiGLU FFNs over T tokens.
    # cs336's count for a SwiGLU FFN (W1 and SiLU outputs, W2's output), for top_k copies of each token
    activations = {
        "moe_w1": "2 * activation_bytes * top_k * context_length * d_ff",
        "moe_w3": 0,
        "moe_w2": "activation_bytes * top_k * context_length * d_model",
    }
    for name, k, n, what in (
        ("moe_w1", "d_model", "d_ff", "gate W1: D→F"),
        ("moe_w3", "d_model", "d_ff", "up W3: D→F"),
        ("moe_w2", "d_ff", "d_model", "down W2: F→D"),
    ):
        register(
            acct.Component(
                name=name,
                params=f"num_experts * {k} * {n}",
                flops=f"2 * top_k * context_length * {k} * {n}",
                shape=("context_length", k, n),
                batch="top_k",
                description=f"experts' SwiGLU {what}, ×E weights, top_k active",
                activations={"cs336": activations[name]},
                **common,
            )
        )
