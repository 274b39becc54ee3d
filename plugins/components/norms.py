"""Normalization layers: norms_per_block in every block (where they sit is the block's design) and one final."""

from acct import Component, Input, hookimpl

# Where a block's norms sit changes nothing but how many there are: 2 pre-norm (before attention,
# before the FFN: GPT-2, Llama); 1 in a parallel block whose attention and FFN read one normed
# input (GPT-J, Phi-2, Falcon-7B); 2 in a parallel block with a norm for each (GPT-NeoX/Pythia,
# Falcon-40B); 4 sandwich, before and after attention and the FFN (Gemma-2/3).
PLACEMENT = "norms per block: 2 pre-norm, 1 or 2 parallel block, 4 sandwich"

# variant: (params of one norm, what it is, what it holds, non-matmul FLOPs per element).
# Elementwise, so no matmul FLOPs. Per element: RMSNorm 4 (square, sum, scale, gain); LayerNorm 7
# (sum, subtract the mean, square, sum, scale, gain, bias), 6 without its bias, 5 with neither gain
# nor bias (OLMo-1's non-parametric LayerNorm); the per-row rsqrt is not counted.
NORMS = {
    "rmsnorm": ("d_model", "RMSNorm", "gain only", 4),
    "layernorm": ("2 * d_model", "LayerNorm", "gain and bias", 7),
    "layernorm_nobias": ("d_model", "LayerNorm", "gain only, no bias", 6),
    "nonparametric": (0, "LayerNorm", "no parameters", 5),
}


@hookimpl
def acct_register_inputs(register):
    register(Input("norms_per_block", PLACEMENT, symbol="N_n", default=2))


# Activations: cs336 keeps each norm's output; Korthikanti et al. each block norm's input
# (2sbh per norm) and nothing outside the layers; with full recomputation only the layer's
# input (2sbh), which this row carries whatever the number of norms.
BLOCK_ACTIVATIONS = {
    "cs336": "norms_per_block * activation_bytes * context_length * d_model",
    "korthikanti": "norms_per_block * activation_bytes * context_length * d_model",
    "korthikanti_recompute": "activation_bytes * context_length * d_model",
}
FINAL_ACTIVATIONS = {
    "cs336": "activation_bytes * context_length * d_model",
    "korthikanti": 0,
    "korthikanti_recompute": 0,
}
# What autograd keeps for one RMSNorm as transformers writes it (LlamaRMSNorm: x.to(fp32), x·rsqrt(mean(x²) + ε),
# weight · that.to(dtype)): the fp32 input (4·T·D: x itself when it is fp32, else its copy), the fp32 rsqrt
# per token (4·T), the normalized values in the model's dtype (b_w·T·D) and the norm's output, which the
# projections after it keep (b_w·T·D) — unless autocast, where each projection keeps its own bf16 copy.
RMSNORM_KEPT = "context_length * (4 * d_model + 4 + (2 - autocast) * weight_bytes * d_model)"
PYTORCH = ("eager", "sdpa")


def _block_params(per_norm):
    """N_n norms: `2 * norms_per_block * d_model` for `2 * d_model` each."""
    if per_norm == 0:
        return 0
    factor, _, width = per_norm.rpartition(" * ")
    return f"{factor + ' * ' if factor else ''}norms_per_block * {width}"


@hookimpl
def acct_register_components(register):
    for variant, (per_norm, what, parts, per_element) in NORMS.items():
        common = dict(slot="norm", variant=variant, group="norms", flops=0)
        register(
            Component(
                name="block_norms",
                params=_block_params(per_norm),
                per_layer=True,
                description=f"{what} ×N_n per block ({parts})",
                default=variant == "rmsnorm",
                activations={**BLOCK_ACTIVATIONS, **({k: f"norms_per_block * {RMSNORM_KEPT}" for k in PYTORCH}
                                                      if variant == "rmsnorm" else {})},
                flops_other=f"{per_element} * norms_per_block * context_length * d_model",
                tensors="0" if per_norm == 0 else "2 * norms_per_block" if variant == "layernorm" else "norms_per_block",
                # read by every column that counts norms, so it is never set and silently unread
                requires=("norms_per_block",),
                note="" if variant != "nonparametric" else
                "the norms are non-parametric LayerNorms (no gain, no bias: OLMo-1): no parameters, "
                "their elementwise FLOPs still count",
                **common,
            )
        )
        register(
            Component(
                name="final_norm",
                params=per_norm,
                description=f"final {what} ({parts})",
                tensors="0" if per_norm == 0 else "2" if variant == "layernorm" else "1",
                activations={**FINAL_ACTIVATIONS, **({k: RMSNORM_KEPT for k in PYTORCH} if variant == "rmsnorm" else {})},
                flops_other=f"{per_element} * context_length * d_model",
                **common,
            )
        )
