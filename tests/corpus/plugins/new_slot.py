"""A default variant in a new slot: one extra row, for the preset that names this file only."""

import acct


@acct.hookimpl
def acct_register_components(register):
    register(acct.Component(name="extra", slot="extra", variant="on", group="extra", params="32 * d_model",
                            flops=0, default=True))
