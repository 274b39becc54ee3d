import acct


@acct.hookimpl
def acct_register_components(register):
    register(acct.Component(name="w", slot="ffn", variant="mine", group="FFN", params="d_model *", flops=0))
