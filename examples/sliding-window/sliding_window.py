"""Sliding-window attention: each query attends to at most `window` keys."""

import acct


@acct.hookimpl
def acct_register_inputs(register):
    register(acct.Input("window", "keys each query attends to", symbol="W"))


@acct.hookimpl
def acct_register_components(register):
    keys = "min(window, context_length)"
    for name, shape in (("attn_scores", ("context_length", "d_head", keys)),
                        ("attn_values", ("context_length", keys, "d_head"))):
        register(acct.Component(
            name=name, slot="attention", variant="sliding_window",
            group="attention scores and values", params=0, per_layer=True,
            flops=f"2 * context_length * {keys} * d_model",
            shape=shape, batch="num_heads"))
