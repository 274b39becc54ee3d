"""Query, key and value projections: three D×D matrices per block (multi-head attention)."""

from acct import Component, Input, hookimpl


@hookimpl
def acct_register_inputs(register):
    register(Input("num_heads", "attention heads", symbol="H"))
    register(
        Input(
            "d_head",
            "width of one attention head",
            symbol="d_k",
            default="d_model / num_heads",
            settable=False,
        )
    )


@hookimpl
def acct_register_components(register):
    for name, what in (("q_proj", "query"), ("k_proj", "key"), ("v_proj", "value")):
        register(
            Component(
                name=name,
                slot="qkv",
                variant="mha",
                group="attention projections",
                params="d_model ** 2",
                flops="2 * context_length * d_model ** 2",
                per_layer=True,
                shape=("context_length", "d_model", "d_model"),
                description=f"{what} projection W_{name[0].upper()}",
                default=True,
            )
        )
