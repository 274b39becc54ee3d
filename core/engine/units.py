"""Exact quantities with units: `80GB`, `80GiB`, `19.5e12`, `0.5` — parsed to int or Fraction, never float.

A TOML float in a hardware file (`bandwidth = 1e12`) is read from its text the same way.

Every number is bounded before it is built: at most MAX_DIGITS characters and a
decimal exponent of at most MAX_EXPONENT in size, so that `1e99999999` is an
error, not ten minutes spent building 10^99999999.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Union

from acct.errors import ConfigError, describe
from acct.engine.formula import MAX_DECIMAL_EXPONENT, normalize

BYTE_UNITS = {
    "B": 1,
    "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50,
}
MAX_DIGITS = 40  # characters of the number itself, separators included
MAX_EXPONENT = MAX_DECIMAL_EXPONENT  # |e| in 1.5e12: 10^40 is beyond any byte count or FLOP rate
MAX_BITS = 160  # a whole number given as a TOML integer
# compiled by re (and cached there) when a quantity is first read: acct run reads none
_QUANTITY = r"^\s*([0-9][0-9_,]*(?:\.[0-9]+)?)(?:[eE]([+-]?[0-9]+))?\s*([A-Za-z]*)\s*$"


class WrittenDecimal:
    """A TOML float as the file wrote it (`bandwidth = 1e12`, `mfu = 0.9`): its text, which
    quantity() reads exactly as it reads "0.9", so that 0.9 is 9/10 and never the float nearest
    it. (tomllib hands parse_float the text, underscores removed.)"""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def quantity(value: object, where: str, units: bool = True) -> Union[int, Fraction]:
    """An exact number from an int, a string like '80GB', '80 GiB', '19.5e12', '0.5', or a TOML
    float's text. Byte units: B, KB, MB, GB, TB, PB (powers of 1000) and KiB, MiB, GiB, TiB, PiB
    (of 1024)."""
    if isinstance(value, WrittenDecimal):
        value = value.text[1:] if value.text.startswith("+") else value.text
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_BITS:
            raise ConfigError(f"{where}: {value.bit_length():,}-bit number; at most {MAX_BITS} bits")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a number, got {describe(value)}")
    shown = value if len(value) <= 60 else value[:57] + "..."
    if len(value) > 200:
        raise ConfigError(f"{where}: {shown!r} is too long a number")
    if "/" in value:  # an exact fraction as acct's JSON writes one: 392737517998/724658203125
        return _fraction(value, shown, where)
    match = re.match(_QUANTITY, value)
    if not match:
        if re.match(_QUANTITY, value.strip().lstrip("-")) and value.strip().startswith("-"):
            raise ConfigError(f"{where}: {shown!r} is negative; a size, rate or fraction here is positive")
        raise ConfigError(f"{where}: {shown!r} is not a number (e.g. 80GB, 19.5e12, 0.5)")
    number, exponent_text, unit = match.groups()
    if len(number) > MAX_DIGITS:
        raise ConfigError(f"{where}: {shown!r} is too long a number")
    # the exponent's digits are counted before int() builds anything from them
    digits = (exponent_text or "").lstrip("+-").lstrip("0")
    if len(digits) > 3 or abs(int(exponent_text or 0)) > MAX_EXPONENT:
        raise ConfigError(f"{where}: the exponent in {shown!r} is too large; at most {MAX_EXPONENT} in size")
    exponent = int(exponent_text or 0)
    exact = Fraction(number.replace(",", "").replace("_", "")) * Fraction(10) ** exponent
    if unit:
        if not units or unit not in BYTE_UNITS:
            known = ", ".join(BYTE_UNITS) if units else "none"
            raise ConfigError(f"{where}: unknown unit {unit!r} in {shown!r} (known units: {known})")
        exact *= BYTE_UNITS[unit]
    return normalize(exact)


def _fraction(value: str, shown: str, where: str) -> Union[int, Fraction]:
    """'a/b' of two whole numbers, each of at most MAX_DIGITS digits, b not zero."""
    numerator, _, denominator = (part.strip() for part in value.partition("/"))
    for part in (numerator, denominator):
        if not part.isdigit() or not part.isascii():
            raise ConfigError(f"{where}: {shown!r} is not a number (e.g. 80GB, 19.5e12, 0.5, 3/4)")
        if len(part) > MAX_DIGITS:
            raise ConfigError(f"{where}: {shown!r} is too long a number")
    if int(denominator) == 0:
        raise ConfigError(f"{where}: {shown!r} divides by zero")
    return normalize(Fraction(int(numerator), int(denominator)))


def whole_bytes(value: object, where: str) -> int:
    """A byte count: a quantity that is a positive whole number ('0.5' is not a byte count)."""
    exact = quantity(value, where)
    if type(exact) is not int:
        raise ConfigError(f"{where}: {value!r} is {exact.numerator:,}/{exact.denominator:,} bytes; "
                          "a byte count is a whole number")
    if exact <= 0:
        raise ConfigError(f"{where}: must be positive, got {value!r}")
    return exact
