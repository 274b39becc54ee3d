"""Number formatting for people: exact thousands separators, fixed decimals, percentages, SI units.

Everything upstream is exact (int, Fraction); rounding happens here, at the edge, and only here.
"""

from __future__ import annotations

from fractions import Fraction

from acct.engine.formula import Number


def fixed(value: Number, digits: int) -> str:
    """`value` rounded (half to even) to `digits` decimals, exactly, with thousands separators."""
    return _decimal(_rounded(value, 10**digits), digits)


def percent(value: Fraction, digits: int = 1) -> str:
    """`22.3%`; a share that is not zero but rounds to it shows as `<0.1%`."""
    scaled = _rounded(value, 100 * 10**digits)
    if scaled == 0 and value > 0:
        return f"<{fixed(Fraction(1, 10**digits), digits)}%"
    return _decimal(scaled, digits) + "%"


def _rounded(value: Number, factor: int) -> int:
    """round(value × factor), half to even, as Fraction's round does, in whole numbers."""
    if isinstance(value, int):
        return value * factor
    numerator, denominator = value.numerator * factor, value.denominator
    quotient, remainder = divmod(numerator, denominator)  # denominator > 0: floor division
    if 2 * remainder > denominator or (2 * remainder == denominator and quotient % 2):
        quotient += 1
    return quotient


def _decimal(scaled: int, digits: int) -> str:
    """The whole number `scaled` / 10**digits, with `digits` decimals and thousands separators."""
    sign = "-" if scaled < 0 else ""
    whole, part = divmod(abs(scaled), 10**digits)
    return f"{sign}{whole:,}" + (f".{part:0{digits}d}" if digits else "")


def exact(value: Number) -> str:
    """An exact number for a human: `2,127,057,600`, or `3/2` for a fraction."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{value.numerator:,}/{value.denominator:,}"
    return f"{int(value):,}"


def human(value: int, unit: str = "") -> str:
    """`2.13 B`, `4.51 TFLOPs`: three significant-ish digits with an SI-style prefix."""
    prefixes = [(10**15, " P"), (10**12, " T"), (10**9, " G"), (10**6, " M"), (10**3, " k")]
    if unit == "":  # parameter counts read as millions and billions
        prefixes = [(10**12, " T"), (10**9, " B"), (10**6, " M"), (10**3, " K")]
    for scale, prefix in prefixes:
        if abs(value) >= scale:
            return f"{fixed(Fraction(value, scale), 2)}{prefix}{unit}"
    return f"{value:,}{' ' + unit if unit else ''}"


def significant(value: Number, digits: int = 3) -> str:
    """`value` to `digits` significant digits, exactly: `0.000215`, `1,222` (a whole part is never
    cut: `1,222`, not `1,220`), `0` for zero. For a quantity too small for fixed decimals to show."""
    value = Fraction(value)
    if value == 0:
        return "0"
    magnitude = abs(value)
    # the exponent of the leading digit, from the digit counts (exact; no float log10)
    exponent = len(str(magnitude.numerator)) - len(str(magnitude.denominator))
    if magnitude < Fraction(10) ** exponent:
        exponent -= 1
    return fixed(value, max(0, digits - 1 - exponent))
