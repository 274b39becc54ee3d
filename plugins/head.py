"""The LM head: the final D→V projection to the vocabulary's logits."""

from acct import Component, hookimpl


@hookimpl
def acct_register_components(register):
    register(
        Component(
            name="lm_head",
            slot="lm_head",
            variant="untied",
            group="LM head",
            params="d_model * vocab_size",
            flops="2 * context_length * d_model * vocab_size",
            shape=("context_length", "d_model", "vocab_size"),
            description="LM head (its own D×V weight)",
            default=True,
        )
    )
