"""acct: exact parameter, memory and FLOPs accounting for Transformer language models."""

import pluggy

from acct.components import ActivationConvention, Component, Convention, Hardware, Importer, Input
from acct.errors import AcctError

__version__ = "0.1.0"

# Plugins mark their hook implementations with @acct.hookimpl.
hookimpl = pluggy.HookimplMarker("acct")

__all__ = ["AcctError", "ActivationConvention", "Component", "Convention", "Hardware", "Importer", "Input", "hookimpl", "__version__"]
