"""Variants the Hugging Face importers of hf_more need beyond the builtin families' (each exact for the
models it names):

- ffn = "relu2": the two-matrix MLP with a squared ReLU, W_out·relu(W_in·x)² (Nemotron's "relu2").
- qk_norm = "head_layernorm": a LayerNorm without bias over each head's d_k values, with its own gain per
  head (StableLM's qk_layernorm, Cohere's use_qk_norm): H·d_k + H_kv·d_k gains.
- position = "rope_local": rotary positions in the sliding-window layers only (local_layers of them), none
  in the full layers (Cohere2's interleaved layers): no parameters, as rope.
"""

from acct import Component, hookimpl
from acct.plugins.ffn import ACTIVATIONS, OTHER, ROLES

# Non-matmul FLOPs per element of the activation: ReLU 1 (a compare), its square 1 (a multiply)
RELU2_FLOPS = 2
WIDTHS = {"q_norm": "num_heads * d_head", "k_norm": "num_kv_heads * d_head"}


@hookimpl
def acct_register_components(register):
    for name in ("ffn_in", "ffn_out"):
        k, n, role = ROLES[name]
        cs336, korthikanti = ACTIVATIONS[name]
        register(Component(
            name=name,
            slot="ffn",
            variant="relu2",
            group="FFN",
            params=f"{k} * {n}",
            flops=f"2 * context_length * {k} * {n}",
            per_layer=True,
            shape=("context_length", k, n),
            bias=n,
            description=f"squared-ReLU FFN {role}",
            activations={"cs336": cs336, "korthikanti": korthikanti, "korthikanti_recompute": 0},
            flops_other=OTHER.get(name) or f"{RELU2_FLOPS} * context_length * d_ff",
        ))
    for name, what in (("q_norm", "queries"), ("k_norm", "keys")):
        kept = f"activation_bytes * context_length * {WIDTHS[name]}"
        register(Component(
            name=name,
            slot="qk_norm",
            variant="head_layernorm",
            group="norms",
            params=WIDTHS[name],
            flops=0,
            per_layer=True,
            description=f"LayerNorm of the {what} over each head's d_k values, a gain per head (no bias)",
            activations={"cs336": kept, "korthikanti": kept, "korthikanti_recompute": 0},
            # per element, as the bias-free LayerNorm in acct.plugins.norms: sum, subtract the mean,
            # square, sum, scale, gain
            flops_other=f"6 * context_length * {WIDTHS[name]}",
        ))
    register(Component(
        name="rope_local",
        slot="position",
        variant="rope_local",
        group="embedding",
        params=0,
        flops=0,
        activations={"*": 0},
        description="rotary position embedding in the local (sliding-window) layers only (no parameters)",
        # as acct.plugins.position's rope (3 FLOPs per rotated value), in local_layers layers
        flops_other="3 * local_layers * context_length * (num_heads + num_kv_heads) * rotary_dims",
        requires=("rotary_fraction", "rotary_dims", "unrotated_dims", "local_layers"),
    ))
