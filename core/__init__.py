"""acct: exact parameter, memory and FLOPs accounting for Transformer language models.

From Python: `acct.load(source, set=..., variants=...)` gives a Model (`.params`, `.flops_forward`,
`.report()`, `.train()`, `.infer()`, `.sweep()`, `.solve()`, `.conventions()`), and
`acct.compare(a, b, ...)` several side by side. Plugins use `acct.hookimpl` and the records
`acct.Component`, `acct.Input`, `acct.Convention`, `acct.ActivationConvention`, `acct.Hardware`,
`acct.Importer`.
"""

import pluggy

from acct.components import ActivationConvention, Component, Convention, Hardware, Importer, Input
from acct.errors import AcctError

__version__ = "0.1.0"

# Plugins mark their hook implementations with @acct.hookimpl.
hookimpl = pluggy.HookimplMarker("acct")

API = ("load", "compare", "Model", "Result", "Options")


def __getattr__(name: str):
    """acct.load, acct.compare, ...: the Python API, imported when first used (the command line
    imports what it needs itself, and a plugin never pays for it)."""
    if name in API:
        from acct import api

        return getattr(api, name)
    raise AttributeError(f"module 'acct' has no attribute {name!r}")


__all__ = ["AcctError", "ActivationConvention", "Component", "Convention", "Hardware", "Importer", "Input",
           "hookimpl", "__version__", *API]
