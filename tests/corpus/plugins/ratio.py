"""An input that is a ratio, not a size: a Fraction-valued cell."""

import acct


@acct.hookimpl
def acct_register_inputs(register):
    register(acct.Input("ffn_ratio", "d_ff over d_model", integer=False, minimum=None))
