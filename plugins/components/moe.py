"""Mixture of experts (ffn = "moe"): a router, E routed SwiGLU experts of which each token visits k,
shared experts every token visits, and dense SwiGLU FFNs in the layers that are not MoE.

Parameters count every expert; `params_active` and the FLOPs count the k experts a token is
routed to (the FLOPs of k dense SwiGLU FFNs of width F_e over T tokens), plus the router and
the shared experts. The MoE layers are `moe_layers` of the `num_layers` (the rest are dense):
only the count matters, so dense layers first (DeepSeek's first_k_dense_replace) and an MoE
layer every n-th layer (decoder_sparse_step, moe_layer_freq) are both written as L_moe.
"""

from acct import Component, Input, hookimpl

MOE_NOTE = (
    "mixture of experts: parameters count all E routed experts, active parameters and FLOPs the k "
    "each token is routed to; a routed expert's activations count each token once per expert it "
    "visits (k·T tokens), as a dense FFN over k·T tokens would"
)


@hookimpl
def acct_register_inputs(register):
    register(Input("num_experts", "routed experts per MoE layer", symbol="E"))
    register(Input("experts_per_token", "routed experts each token visits (top-k)", symbol="k"))
    register(Input("d_ff_expert", "hidden width of one routed expert", symbol="F_e"))
    register(Input("num_shared_experts", "shared experts every token visits", symbol="E_s", default=0, minimum=0))
    register(
        Input(
            "d_ff_shared",
            "hidden width of the shared experts together (one gated FFN)",
            symbol="F_s",
            default="num_shared_experts * d_ff_expert",
            minimum=0,
        )
    )
    register(
        Input(
            "shared_expert_gate",
            "1 if a sigmoid gate Linear(D, 1) scales the shared experts' output (Qwen2-MoE), else 0",
            symbol="g_s",
            default=0,
            minimum=0,
        )
    )
    register(Input("moe_layers", "layers whose FFN is a mixture of experts", symbol="L_moe",
                   default="num_layers", minimum=0))
    # checks, derived and never set: each must come out at least 0
    register(Input("idle_experts", "experts a token skips (experts_per_token must not exceed num_experts)",
                   default="num_experts - experts_per_token", minimum=0, settable=False))
    register(Input("dense_layers", "layers with a dense FFN (moe_layers must not exceed num_layers)",
                   default="num_layers - moe_layers", minimum=0, settable=False))
    register(Input("ungated_shared", "1 − shared_expert_gate (shared_expert_gate must be 0 or 1)",
                   default="1 - shared_expert_gate", minimum=0, settable=False))


# Bytes kept for the backward pass, as the dense SwiGLU FFN's (plugins/components/ffn.py) at each row's own
# width and token count: cs336 keeps W1's and the activation's outputs and W2's output;
# Korthikanti et al. the input, W1's and W3's outputs, W2's input and a 1-byte dropout mask. The
# MoE layer's input is kept once, with the router (as the router's logits); routed experts keep
# their gathered copies of it (k·T tokens).
def _activations(tokens, width, role, keeps_input):
    a = "activation_bytes"
    if role == "w1":
        cs336 = f"2 * {a} * {tokens} * {width}"
        korthikanti = f"{a} * {tokens} * (d_model + {width})" if keeps_input else f"{a} * {tokens} * {width}"
    elif role == "w3":
        cs336, korthikanti = 0, f"{a} * {tokens} * {width}"
    else:
        cs336 = f"{a} * {tokens} * d_model"
        korthikanti = f"{a} * {tokens} * {width} + {tokens} * d_model"
    return {"cs336": cs336, "korthikanti": korthikanti, "korthikanti_recompute": 0}


ROUTED = "experts_per_token * context_length"
# Non-matmul FLOPs per element: SiLU 4 and the gate product 1 (as plugins/ffn.py); combining the k
# expert outputs, a multiply by the routing weight and an add per element of each (the last add
# is the residual's); the shared experts' output added, 1 per element.
OTHER = {
    ("expert", "w1"): f"4 * {ROUTED} * d_ff_expert",
    ("expert", "w3"): f"{ROUTED} * d_ff_expert",
    ("expert", "w2"): f"2 * {ROUTED} * d_model",
    ("shared", "w1"): "4 * context_length * d_ff_shared",
    ("shared", "w3"): "context_length * d_ff_shared",
    ("shared", "w2"): "context_length * d_model",
    ("dense", "w1"): "4 * context_length * d_ff",
    ("dense", "w3"): "context_length * d_ff",
    ("dense", "w2"): "context_length * d_model",
}


def _swiglu(kind, width, multiplicity, what, routed=False):
    """W1, W3, W2 of a SwiGLU FFN of hidden width `width`: one per layer, or (routed) E of them
    of which each token visits k."""
    rows = []
    for role, k, n, does in (("w1", "d_model", width, "gate W1: D→{}"), ("w3", "d_model", width, "up W3: D→{}"),
                             ("w2", width, "d_model", "down W2: {}→D")):
        symbol = {"d_ff_expert": "F_e", "d_ff_shared": "F_s", "d_ff": "F"}[width]
        one = f"{k} * {n}"
        rows.append(
            Component(
                name=f"{kind}_{role}",
                slot="ffn",
                variant="moe",
                group="FFN",
                params=f"num_experts * {one}" if routed else one,
                params_active=f"experts_per_token * {one}" if routed else None,
                flops=f"2 * {ROUTED} * {one}" if routed else f"2 * context_length * {one}",
                shape=("context_length", k, n),
                batch="experts_per_token" if routed else None,
                multiplicity=multiplicity,
                bias=None if routed else n,  # routed experts carry no bias in any model we know
                # as a dense FFN's (plugins/components/ffn.py): W2 row-parallel, its bias whole on every rank
                tensor_parallel="row" if role == "w2" else "column",
                description=f"{what} {does.format(symbol)}",
                activations=_activations(ROUTED if routed else "context_length", width, role,
                                         keeps_input=routed or kind == "dense"),
                flops_other=OTHER[(kind, role)],
                note=MOE_NOTE if routed and role == "w1" else "",
            )
        )
    return rows


@hookimpl
def acct_register_components(register):
    register(
        Component(
            name="router",
            slot="ffn",
            variant="moe",
            group="FFN",
            params="d_model * num_experts",
            flops="2 * context_length * d_model * num_experts",
            shape=("context_length", "d_model", "num_experts"),
            multiplicity="moe_layers",
            bias="num_experts",  # DeepSeek-V3's e_score_correction_bias, where a preset turns it on
            # Megatron's TopKRouter holds its weight as a plain parameter: whole on every tp rank
            tensor_parallel="replicated",
            description="router: D→E logits",
            requires=("idle_experts", "dense_layers", "ungated_shared"),
            # the MoE layer's input (2sbh) and the router's logits
            activations={"cs336": "activation_bytes * context_length * num_experts",
                         "korthikanti": "activation_bytes * context_length * (d_model + num_experts)",
                         "korthikanti_recompute": 0},
            flops_other="5 * context_length * num_experts",  # softmax: max, subtract, exp, sum, divide
        )
    )
    for row in _swiglu("expert", "d_ff_expert", "moe_layers", "routed experts' SwiGLU (×E weights, k active)",
                       routed=True):
        register(row)
    # shown only when there are shared experts: every token visits them, as one FFN of width F_s
    for row in _swiglu("shared", "d_ff_shared", "moe_layers * min(num_shared_experts, 1)", "shared experts' SwiGLU"):
        register(row)
    register(
        Component(
            name="shared_expert_gate",
            slot="ffn",
            variant="moe",
            group="FFN",
            params="d_model",
            flops="2 * context_length * d_model",
            shape=("context_length", "d_model", 1),
            multiplicity="moe_layers * shared_expert_gate * min(num_shared_experts, 1)",
            tensor_parallel="replicated",  # Megatron's SharedExpertMLP.gate_weight, a plain parameter
            description="shared-expert gate: D→1, sigmoid",
            activations={"cs336": "activation_bytes * context_length",
                         "korthikanti": "activation_bytes * context_length",
                         "korthikanti_recompute": 0},
            # the sigmoid (4 per token) and scaling the shared experts' output (1 per element)
            flops_other="4 * context_length + context_length * d_model",
        )
    )
    for row in _swiglu("dense", "d_ff", "num_layers - moe_layers", "dense layers' SwiGLU"):
        register(row)
