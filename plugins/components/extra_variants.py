"""Variants the Hugging Face importers need beyond the builtin families' (each exact for the
models it names):

- ffn = "relu2": the two-matrix MLP with a squared ReLU, W_out·relu(W_in·x)² (Nemotron's "relu2").
- qk_norm = "head_layernorm": a LayerNorm without bias over each head's d_k values, with its own gain per
  head (StableLM's qk_layernorm, Cohere's use_qk_norm): H·d_k + H_kv·d_k gains.
- ffn = "xielu": the two-matrix MLP with xIELU (Apertus), whose two scalars alpha_p and alpha_n are
  trainable parameters of each layer's MLP.
- attention_sinks = "per_head" (an optional slot): a learned logit per query head that joins each
  softmax (GPT-OSS's sinks): H parameters per layer, no matmul.
- expert_biases = "routed" (an optional slot, with ffn = "moe"): a bias on each routed expert's gate/up
  (2·F_e) and down (D) projections (GPT-OSS): E·(2·F_e + D) parameters per MoE layer; the adds are
  elementwise, no matmul.
- position = "rope_some_layers": rotary positions in rotary_layers of the layers, none in the others
  (Cohere2's and EXAONE-4's full layers, SmolLM3's every 4th layer): no parameters, as rope.
"""

from acct import Component, Input, hookimpl
from acct.plugins.components.ffn import ROLES, linear

# Non-matmul FLOPs per element of the activation: ReLU 1 (a compare), its square 1 (a multiply); xIELU
# computes both branches and selects one: positive x·x·alpha_p + beta·x (4), negative
# alpha_n·(expm1(min(x, eps)) − x) + beta·x (6), the select (1)
ACTIVATION_FLOPS = {"relu2": 2, "xielu": 11}
NAMES = {"relu2": "squared-ReLU", "xielu": "xIELU"}
WIDTHS = {"q_norm": "num_heads * d_head", "k_norm": "num_kv_heads * d_head"}


@hookimpl
def acct_register_inputs(register):
    register(Input("rotary_layers", "layers whose attention rotates q and k (position = rope_some_layers)",
                   symbol="L_rot", default="num_layers", minimum=0))
    register(Input("unrotated_layers", "layers without rotary positions (rotary_layers must not exceed num_layers)",
                   default="num_layers - rotary_layers", minimum=0, settable=False))


# long: a table of declarations, one Component per variant row; splitting it would scatter the table
@hookimpl
def acct_register_components(register):
    for variant in ("relu2", "xielu"):
        for name in ("ffn_in", "ffn_out"):
            k, n, role = ROLES[name]
            register(linear(name, variant, k, n, f"{NAMES[variant]} FFN {role}", ACTIVATION_FLOPS[variant]))
    register(Component(
        name="ffn_xielu",
        slot="ffn",
        variant="xielu",
        group="FFN",
        params=2,
        flops=0,
        per_layer=True,
        description="xIELU's trainable alpha_p and alpha_n (one scalar each per layer)",
        activations={"*": 0},
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
            # per element, as the bias-free LayerNorm in acct.plugins.components.norms: sum, subtract the mean,
            # square, sum, scale, gain
            flops_other=f"6 * context_length * {WIDTHS[name]}",
        ))
    register(Component(
        name="rope_some_layers",
        slot="position",
        variant="rope_some_layers",
        group="embedding",
        params=0,
        flops=0,
        activations={"*": 0},
        description="rotary position embedding in rotary_layers of the layers, none in the others (no parameters)",
        # as acct.plugins.components.position's rope (3 FLOPs per rotated value), in rotary_layers layers
        flops_other="3 * rotary_layers * context_length * (num_heads + num_kv_heads) * rotary_dims",
        requires=("rotary_fraction", "rotary_dims", "unrotated_dims", "rotary_layers", "unrotated_layers"),
    ))
    register(Component(
        name="attention_sinks",
        slot="attention_sinks",
        variant="per_head",
        group="attention scores and values",
        params="num_heads",
        flops=0,
        per_layer=True,
        description="a learned sink logit per query head, joined to each softmax (no matmul)",
        activations={"*": 0},
        # one more logit per query row and head, exponentiated and summed with the rest: 2 per (row, head)
        flops_other="2 * context_length * num_heads",
    ))
    register(Component(
        name="expert_biases",
        slot="expert_biases",
        variant="routed",
        group="FFN",
        params="num_experts * (2 * d_ff_expert + d_model)",
        params_active="experts_per_token * (2 * d_ff_expert + d_model)",  # the k experts a token visits
        flops=0,
        multiplicity="moe_layers",
        description="biases of each routed expert's gate, up (F_e each) and down (D) projections",
        activations={"*": 0},
        # the k experts a token visits add their biases: 2·F_e + D per token and expert
        flops_other="experts_per_token * context_length * (2 * d_ff_expert + d_model)",
        requires_variants={"ffn": ("moe",)},
    ))
