"""The LM head: the final D→V projection to the vocabulary's logits, its own weight or the embedding's."""

from acct import Component, hookimpl

FLOPS = "2 * context_length * d_model * vocab_size"
SHAPE = ("context_length", "d_model", "vocab_size")
# cs336 keeps the logits and the cross-entropy over them; Korthikanti et al. count layers only
# PyTorch (transformers' ForCausalLMLoss): log_softmax's fp32 output (4·T·V, the logits upcast first), the
# labels padded by one (int64, 8·(T + 1)); under autocast the head keeps a bf16 copy of its fp32 input
PYTORCH = ("autocast * activation_bytes * context_length * d_model + 4 * context_length * vocab_size"
           " + 8 * (context_length + 1)")
ACTIVATIONS = {
    "cs336": "2 * activation_bytes * context_length * vocab_size",
    "korthikanti": 0,
    "korthikanti_recompute": 0,
    "eager": PYTORCH,
    "sdpa": PYTORCH,
}


@hookimpl
def acct_register_components(register):
    register(
        Component(
            name="lm_head",
            slot="lm_head",
            variant="untied",
            group="LM head",
            params="d_model * vocab_size",
            flops=FLOPS,
            shape=SHAPE,
            bias="vocab_size",
            activations=ACTIVATIONS,
            unembedding=True,
            description="LM head (its own D×V weight)",
            default=True,
        )
    )
    register(
        Component(
            name="lm_head",
            slot="lm_head",
            variant="tied",
            group="LM head",
            params=0,
            flops=FLOPS,
            shape=SHAPE,
            bias="vocab_size",
            activations=ACTIVATIONS,
            unembedding=True,
            description="LM head (tied: the token embedding's weight)",
            note="the LM head is tied: it shares the token embedding's V×D weight, so it adds no "
            "parameters (counted once, in token_embedding); its FLOPs are unchanged",
        )
    )
