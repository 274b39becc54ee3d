"""The hooks a plugin may implement; each receives a `register` callback."""

from __future__ import annotations

from typing import Callable

import pluggy

hookspec = pluggy.HookspecMarker("acct")


@hookspec
def acct_register_inputs(register: Callable) -> None:
    """Register the inputs your components read: call register(acct.Input(...)) once per input."""


@hookspec
def acct_register_components(register: Callable) -> None:
    """Register component rows: call register(acct.Component(...)) once per row of each variant you provide."""


@hookspec
def acct_register_hardware(register: Callable) -> None:
    """Register accelerators for training-time estimates: call register(acct.Hardware(...)) once per device."""


@hookspec
def acct_register_conventions(register: Callable) -> None:
    """Register FLOP-counting conventions: call register(acct.Convention(...)) once per convention."""


@hookspec
def acct_register_activations(register: Callable) -> None:
    """Register activation-counting conventions: call register(acct.ActivationConvention(...)) once per
    convention; component rows give their formula for it by name in `activations`."""


@hookspec
def acct_register_importers(register: Callable) -> None:
    """Register Hugging Face config.json importers: call register(acct.Importer(...)) once per
    model_type you convert; each declares the config fields it maps, ignores, or accepts only at
    their default."""
