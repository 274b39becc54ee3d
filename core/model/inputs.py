"""Which names a user may set: the one check --set, --vary and solve's input share.

An input is a name a plugin registered with acct.Input; it is settable unless the
plugin marked it derived (settable=False, e.g. d_head = d_model / num_heads). An
output cell (total.params, memory.peak, train.flops_step) and an aggregate
(flops_matmul) are computed, never set: setting one would print a wrong number.
"""

from __future__ import annotations

from acct.errors import ConfigError, suggest


def settable_input(registry, name: str, option: str) -> str:
    """`name` if it is an input the user may set, else one line, `OPTION NAME: why; what to set
    instead`. `registry` is the loaded plugins' (its `inputs`)."""
    inputs = registry.inputs
    option = f"{option} {name}"
    settable = [n for n, entry in inputs.items() if entry.spec.settable]
    if name in inputs and inputs[name].spec.settable:
        return name
    if name in inputs:
        entry = inputs[name]
        formula = entry.default.text if entry.default is not None else "a formula"
        reads = " or ".join(entry.default.names) if entry.default is not None and entry.default.names else "its inputs"
        raise ConfigError(f"{option}: {name} is derived ({name} = {formula}) and cannot be set; set {reads} instead")
    from acct.model.cells import AGGREGATES  # the sheet's own aggregates (flops_matmul, params_total, ...)

    if "." in name or name in AGGREGATES:
        raise ConfigError(f"{option}: {name} is an output, computed from the inputs, and cannot be set; "
                          f"set an input instead{suggest(name, settable)}")
    raise ConfigError(f"{option}: unknown input{suggest(name, settable)}; known: {', '.join(settable)}")
