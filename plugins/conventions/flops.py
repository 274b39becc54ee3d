"""FLOP-counting conventions from the literature (Kaplan, Chinchilla, PaLM, Megatron-LM, Korthikanti), set side by
side with acct's exact matmul count (the default), its MACs and its causal and dense counts."""

from acct import Convention, hookimpl

# the Megatron-LM formula's bracket, in its own symbols: s = T, h = D, l = L, V; {s} is 6 for the
# model FLOPs, 3 for Korthikanti et al.'s hardware FLOPs with selective recomputation
MEGATRON = "(1 + context_length / ({s} * d_model) + vocab_size / ({k} * num_layers * d_model))"
PER_SEQUENCE = "batch_size * context_length"


def with_backward(name, description, source, forward, default=False):
    """A convention whose training count is 3 × its forward (backward = 2 × forward)."""
    return Convention(name=name, description=description, source=source, forward=forward,
                      training=f"3 * ({forward})", default=default)


# long: a table of declarations, one register() per named convention with its source; read as a list
@hookimpl
def acct_register_conventions(register):
    register(with_backward(
        name="matmul",
        description="acct's default: every matrix multiply, 2·m·k·n, causal mask not halved; no N: the LM head "
        "counted whether tied or untied, the lookup tables not (no matmul); backward = 2 × forward",
        source="this tool; Kaplan et al. 2020 and Hoffmann et al. 2022 for backward = 2 × forward",
        forward="flops_matmul * batch_size",
        default=True,
    ))
    register(with_backward(
        name="macs",
        description="multiply-accumulates: half the matmul FLOPs (what many profilers print as 'FLOPs')",
        source="e.g. fvcore, ptflops, thop",
        forward="flops_matmul * batch_size / 2",
    ))
    register(with_backward(
        name="causal",
        description="matmul, with QKᵀ and attention·V halved for the causal mask",
        source="e.g. FlashAttention's FLOP counts for causal attention (Dao 2023)",
        forward="(flops_matmul - flops_attention / 2) * batch_size",
    ))
    register(with_backward(
        name="kaplan",
        description="C_forward ≈ 2N + 2·n_layer·n_ctx·d_attn per token, d_attn = H·d_k; N the non-embedding "
        "parameters a token uses (an MoE layer's k routed experts, not all E): without the token and position "
        "tables and without the LM head, tied or untied (Table 1 leaves the de-embedding's 2·d_model·n_vocab out "
        "of C_forward); training 3 × forward (≈ 6N per token)",
        source="Kaplan et al. 2020, 'Scaling Laws for Neural Language Models', Table 1 and §2.1",
        forward=f"(2 * params_active_nonembedding + 2 * num_layers * context_length * num_heads * d_head)"
        f" * {PER_SEQUENCE}",
    ))
    register(with_backward(
        name="chinchilla",
        description="no N: the matmuls (the LM head's 2·T·D·V whether tied or untied), plus the embedding as a "
        "one-hot matmul (2·T·V·D) and the softmax (3·H·T² per layer); backward = 2 × forward",
        source="Hoffmann et al. 2022, 'Training Compute-Optimal Large Language Models', Appendix F",
        forward="(flops_matmul + 2 * context_length * vocab_size * d_model"
        " + 3 * num_layers * num_heads * context_length ** 2) * batch_size",
    ))
    register(Convention(
        name="palm",
        description="training 6N + 12·L·H·Q·T per token, Q the head width; N all the parameters a token uses, "
        "the token table included (a tied head's weight once, an untied head's besides); forward a third of it",
        source="Chowdhery et al. 2022, 'PaLM: Scaling Language Modeling with Pathways', Appendix B "
        "(6N + 12·L·H·Q·T with N = 540.35B gives PaLM 540B's 46.2% MFU at 238.3K tokens/s on 6144 TPU v4)",
        forward=f"(2 * params_active + 4 * num_layers * num_heads * d_head * context_length)"
        f" * {PER_SEQUENCE}",
        training=f"(6 * params_active + 12 * num_layers * num_heads * d_head * context_length)"
        f" * {PER_SEQUENCE}",
    ))
    register(Convention(
        name="megatron",
        description="72·B·s·l·h²·(1 + s/6h + V/12lh) per iteration (forward and backward, no recomputation); "
        "forward 24·B·s·l·h²·(…); no N: a 4h GELU block's matmuls from l, h, s, and the logit layer's "
        "V/12lh whether tied or untied (no lookup table)",
        source="Narayanan et al. 2021, 'Efficient Large-Scale Language Model Training on GPU Clusters "
        "Using Megatron-LM', §5.1 and Appendix",
        forward=f"24 * {PER_SEQUENCE} * num_layers * d_model ** 2 * " + MEGATRON.format(s=6, k=12),
        training=f"72 * {PER_SEQUENCE} * num_layers * d_model ** 2 * " + MEGATRON.format(s=6, k=12),
    ))
    register(Convention(
        name="megatron_recompute",
        description="96·B·s·l·h²·(1 + s/6h + V/16lh) per iteration: with full activation recomputation "
        "the forward pass runs twice (the logit layer's once); no N, as megatron",
        source="Narayanan et al. 2021, §5.1 (equation for F with activation recomputation)",
        forward=f"24 * {PER_SEQUENCE} * num_layers * d_model ** 2 * " + MEGATRON.format(s=6, k=12),
        training=f"96 * {PER_SEQUENCE} * num_layers * d_model ** 2 * " + MEGATRON.format(s=6, k=16),
    ))
    register(Convention(
        name="korthikanti_hfu",
        description="hardware FLOPs with selective recomputation, as Korthikanti et al. count them: "
        "72·B·s·l·h²·(1 + s/3h + V/12lh) per iteration, 12·B·s²·h per layer above megatron's model FLOPs "
        "(three times the forward of QKᵀ and attention·V); acct's own selective recomputation "
        "(--recompute selective, gpu.flops_recompute) adds that forward once, 4·B·s²·h per layer, the count "
        "one derives; forward as megatron",
        source="Korthikanti et al. 2022, 'Reducing Activation Recomputation in Large Transformer Models', "
        "Table 5 (175B: 51.4% MFU, 52.8% HFU; 530B: 56.0%, 57.0%), which this formula reproduces",
        forward=f"24 * {PER_SEQUENCE} * num_layers * d_model ** 2 * " + MEGATRON.format(s=6, k=12),
        training=f"72 * {PER_SEQUENCE} * num_layers * d_model ** 2 * " + MEGATRON.format(s=3, k=12),
    ))
    register(with_backward(
        name="dense",
        description="matmul, with every windowed attention product counted as a dense kernel computes it "
        "(all T keys, as a masked eager implementation does)",
        source="this tool; what PyTorch's FlopCounterMode counts for a sliding-window layer run with a mask",
        forward="flops_dense * batch_size",
    ))
