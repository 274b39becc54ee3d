import acct


@acct.hookimpl
def acct_register_components(register):
    register(acct.Component(name="w", slot="ffn", variant="swiglu", group="FFN", params=0, flops=0))
