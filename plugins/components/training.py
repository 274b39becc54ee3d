"""What the components' training and inference columns read: activation bytes, the decode position,
and the activation-counting conventions their `activations` formulas are written for."""

from acct import ActivationConvention, Input, hookimpl


@hookimpl
def acct_register_inputs(register):
    register(Input("activation_bytes", "bytes per activation value", symbol="b_act", default=4))
    register(
        Input("decode_position", "position of the token being decoded (keys it attends to)", symbol="t",
              default="context_length")
    )


@hookimpl
def acct_register_activations(register):
    register(ActivationConvention(
        "cs336",
        "CS336 (assignment 1): per block the two norms, Q, K, V, QKᵀ, softmax, the weighted sum of values, the "
        "output projection, W1, SiLU and W2; then the final norm, the logits and the cross-entropy",
        default=True,
    ))
    register(ActivationConvention(
        "korthikanti",
        "Korthikanti et al. 2022, 'Reducing Activation Recomputation in Large Transformer Models', §4.1: "
        "s·b·h·(34 + 5·a·s/h) bytes per layer with 16-bit activations and 1-byte dropout masks, no "
        "recomputation (SwiGLU by analogy); outside the layers nothing",
    ))
    register(ActivationConvention(
        "sdpa",
        "what PyTorch's autograd keeps with a fused attention kernel (transformers' attn_implementation=\"sdpa\"): "
        "per attention the queries, keys and values (at all H heads), the output, the log-sum-exp and the "
        "causal mask, no T×T scores; every other tensor as the modeling code saves it, in its dtype; the "
        "step's peak phase by phase (forward, backward, optimizer step)",
        phases=True,
    ))
    register(ActivationConvention(
        "eager",
        "what PyTorch's autograd keeps with unfused attention (transformers' attn_implementation=\"eager\"): "
        "per attention the queries, keys and values (at all H heads), the T×T softmax probabilities in fp32 "
        "(and their copy in the compute dtype), the output; every other tensor as the modeling code saves it; "
        "the step's peak phase by phase (forward, backward, optimizer step)",
        phases=True,
    ))
    register(ActivationConvention(
        "korthikanti_recompute",
        "Korthikanti et al. 2022 with full recomputation: each layer keeps only its input, 2·s·b·h bytes in 16-bit",
    ))
