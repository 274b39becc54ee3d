"""Exact quantities with units: `80GB`, `80GiB`, `19.5e12`, `0.5` — parsed to int or Fraction, never float."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Union

from .errors import ConfigError, describe
from .formula import normalize

BYTE_UNITS = {
    "B": 1,
    "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50,
}
_QUANTITY = re.compile(r"^\s*([0-9][0-9_,]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")


def quantity(value: object, where: str, units: bool = True) -> Union[int, Fraction]:
    """An exact number from an int or a string like '80GB', '80 GiB', '19.5e12', '0.5'.
    Byte units: B, KB, MB, GB, TB, PB (powers of 1000) and KiB, MiB, GiB, TiB, PiB (of 1024)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a number, got {describe(value)}")
    match = _QUANTITY.match(value)
    if not match:
        raise ConfigError(f"{where}: {value!r} is not a number (e.g. 80GB, 19.5e12, 0.5)")
    number, unit = match.groups()
    if len(number) > 40:
        raise ConfigError(f"{where}: {value!r} is too long a number")
    exact = Fraction(number.replace(",", "").replace("_", ""))
    if unit:
        if not units or unit not in BYTE_UNITS:
            known = ", ".join(BYTE_UNITS) if units else "none"
            raise ConfigError(f"{where}: unknown unit {unit!r} in {value!r} (known units: {known})")
        exact *= BYTE_UNITS[unit]
    return normalize(exact)
