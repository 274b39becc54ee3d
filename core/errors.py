"""The AcctError family: every error a user can act on, each naming what to fix."""

from __future__ import annotations

from typing import Iterable


class AcctError(Exception):
    """An error the CLI prints as one line `acct: error: ...` with exit status 1."""


class FormulaError(AcctError):
    """A formula that does not parse, uses something outside the language, or breaks a bound."""


class SheetError(AcctError):
    """A sheet that cannot be built or evaluated: unknown name, cycle, non-whole count."""


class BoundsError(SheetError):
    """A sheet whose values could outgrow the size limit, for the bounds its varied inputs are given."""


class ConfigError(AcctError):
    """A preset or an override that is missing, malformed or names something unknown."""


class PluginError(AcctError):
    """A plugin that fails to import, raises in a hook or registers something invalid."""


def suggest(name: str, known: Iterable[str]) -> str:
    """Return ' (did you mean a, b?)' for the known names closest to `name`, or ''."""
    import difflib  # only an error needs it; its import is a millisecond of every start-up

    close = difflib.get_close_matches(name, sorted(set(known)), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def describe(value: object) -> str:
    """How an error message names a value of the wrong type: 'a float (1.5)'."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, float):
        return f"a float ({value!r})"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, str):
        return f"a string ({value!r})"
    return type(value).__name__
