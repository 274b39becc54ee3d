"""The attention output projection W_O: D×D per block."""

from acct import Component, hookimpl


@hookimpl
def acct_register_components(register):
    register(
        Component(
            name="out_proj",
            slot="attention_output",
            variant="linear",
            group="attention projections",
            params="d_model ** 2",
            flops="2 * context_length * d_model ** 2",
            per_layer=True,
            shape=("context_length", "d_model", "d_model"),
            bias="d_model",
            description="output projection W_O",
            # cs336: its output; Korthikanti et al.: its input (2sbh) and a 1-byte dropout mask (sbh)
            activations={
                "cs336": "activation_bytes * context_length * d_model",
                "korthikanti": "(activation_bytes + 1) * context_length * d_model",
                "korthikanti_recompute": 0,
            },
            default=True,
            flops_other="context_length * d_model",  # the residual add after attention, 1 per element
        )
    )
