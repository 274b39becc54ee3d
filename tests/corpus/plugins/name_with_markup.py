"""A component whose name cannot name its cells: `bad|row x` became the text of core's formulas
(`bad|row x.params * ...`), and train and plan ended in an internal SyntaxError."""

import acct


@acct.hookimpl
def acct_register_components(register):
    register(acct.Component(name="bad|row x", slot="extra", variant="on", group="ffn", per_layer=True,
                            default=True, params="d_model", flops="2 * context_length * d_model"))
