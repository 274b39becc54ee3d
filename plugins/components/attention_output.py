"""The attention output projection W_O: the H heads' values, H·d_v wide, back to D, per block."""

from acct import Component, hookimpl


@hookimpl
def acct_register_components(register):
    register(
        Component(
            name="out_proj",
            slot="attention_output",
            variant="linear",
            group="attention projections",
            params="num_heads * d_head_v * d_model",
            flops="2 * context_length * num_heads * d_head_v * d_model",
            per_layer=True,
            shape=("context_length", "num_heads * d_head_v", "d_model"),
            bias="d_model",
            # Megatron's linear_proj is a RowParallelLinear: W_O splits by its input (the heads), its
            # bias stays whole on every tensor-parallel rank, added after the all-reduce
            tensor_parallel="row",
            description="output projection W_O",
            # cs336: its output; Korthikanti et al.: its input (2sbh, H·d_v wide) and a 1-byte
            # dropout mask over its output (sbh)
            activations={
                "cs336": "activation_bytes * context_length * d_model",
                "korthikanti": "activation_bytes * context_length * num_heads * d_head_v + context_length * d_model",
                "korthikanti_recompute": 0,
                # PyTorch: its input is the attention's output, kept there (in the compute dtype)
                "eager": 0, "sdpa": 0,
            },
            default=True,
            flops_other="context_length * d_model",  # the residual add after attention, 1 per element
        )
    )
