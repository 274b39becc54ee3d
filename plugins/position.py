"""Position information: rotary (RoPE, no parameters), a learned table, or none at all."""

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
            "spare_positions",
            "learned positions beyond the context (context_length must not exceed max_positions)",
            default="max_positions - context_length",
            minimum=0,
            settable=False,
        )
    )


@hookimpl
def acct_register_components(register):
    common = dict(slot="position", group="embedding", flops=0, activations={"*": 0})
    register(
        Component(
            name="rope",
            variant="rope",
            params=0,
            description="rotary position embedding (no parameters; elementwise, no matmul)",
            default=True,
            # rotating Q (D per token) and K (num_kv_heads·d_k) in every layer: per pair of values
            # 4 multiplies and 2 adds, 3 FLOPs per value
            flops_other="3 * num_layers * context_length * (d_model + num_kv_heads * d_head)",
            **common,
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
