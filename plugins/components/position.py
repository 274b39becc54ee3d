"""Position information: rotary (RoPE, no parameters; on all or part of each head), a learned table, or none."""

from acct import Component, Input, hookimpl


@hookimpl
def acct_register_inputs(register):
    register(
        Input(
            "max_positions",
            "positions a learned position table holds",
            symbol="P",
            default="context_length",
        )
    )
    register(
        Input(
            "rotary_fraction",
            "share of each head's dims RoPE rotates (partial rotary: Phi-2 0.4, Pythia 0.25)",
            default=1,
            minimum=0,
            integer=False,
        )
    )
    register(
        Input(
            "rotary_dims",
            "dims of each head RoPE rotates (rotary_fraction·d_head must be whole)",
            symbol="d_rot",
            default="rotary_fraction * d_head",
            minimum=0,
            settable=False,
        )
    )
    register(
        Input(
            "unrotated_dims",
            "dims of each head RoPE leaves alone (rotary_fraction must not exceed 1)",
            default="d_head - rotary_dims",
            minimum=0,
            settable=False,
        )
    )
    register(
        Input(
            "spare_positions",
            "learned positions beyond the context (context_length must not exceed max_positions)",
            default="max_positions - context_length",
            minimum=0,
            settable=False,
            message="{context_length} tokens do not fit the {max_positions} learned positions",
        )
    )


ROPE_KEPT = "2 * weight_bytes * context_length * rotary_dims"


@hookimpl
def acct_register_components(register):
    common = dict(slot="position", group="embedding", flops=0, activations={"*": 0})
    register(
        Component(
            name="rope",
            # PyTorch keeps the cos and sin tables (T × rotary dims, in the model's dtype) that every layer's
            # rotation multiplies by, once per step: position ids are (1, T), shared by the batch
            variant="rope",
            params=0,
            description="rotary position embedding (no parameters; elementwise, no matmul)",
            default=True,
            # rotating the first rotary_dims of each query head (H of them) and key head (H_kv) in
            # every layer: per pair of values 4 multiplies and 2 adds, 3 FLOPs per value
            flops_other="3 * num_layers * context_length * (num_heads + num_kv_heads) * rotary_dims",
            # evaluated whenever RoPE is chosen, so a fraction that leaves part of a dim, or exceeds
            # 1, is an error even when the non-matmul FLOPs are not asked for
            requires=("rotary_fraction", "rotary_dims", "unrotated_dims"),
            kept_once={"eager": ROPE_KEPT, "sdpa": ROPE_KEPT},
            **common,
            # inv_freq and original_inv_freq, rotary_dims / 2 fp32 values each (transformers' rotary embedding)
            buffers="4 * rotary_dims",
        )
    )
    register(
        Component(
            name="learned_positions",
            variant="learned",
            params="max_positions * d_model",
            description="learned position embedding (a lookup: no FLOPs)",
            requires=("spare_positions",),
            embedding_table=True,
            # Megatron keeps the position table a plain torch.nn.Embedding, whole on every
            # tensor-parallel rank (only the token table is vocabulary-parallel)
            tensor_parallel="replicated",
            **common,
        )
    )
    register(
        Component(
            name="no_positions",
            variant="none",
            params=0,
            description="no position embedding (NoPE)",
            **common,
        )
    )
