"""Number formatting for people: exact thousands separators, fixed decimals, percentages, SI units.

Everything upstream is exact (int, Fraction); rounding happens here, at the edge, and only here.
It sits with the engine (units.py reads quantities, this module writes them) so that the reports'
summary sentences and the renderers write numbers the same way, and no report imports the renderers.
Every formatter is total over int and Fraction of any size: a number too long to write out
digit by digit (more than MAX_SHOWN_DIGITS digits before or after the point) is written
`1.23e+700`, and no step calls str() on an int Python would refuse to convert.
"""

from __future__ import annotations

from fractions import Fraction

from acct.engine.formula import Number

# The longest whole number (and the most leading zeros after the point) shown digit by digit.
# 640 is the lowest limit sys.set_int_max_str_digits accepts, so str() of a shown number works
# under any limit the interpreter runs with; a table cell of more digits helps no one anyway.
MAX_SHOWN_DIGITS = 640
_SHOWN_BOUND = 10**MAX_SHOWN_DIGITS


def fixed(value: Number, digits: int) -> str:
    """`value` rounded (half to even) to `digits` decimals, exactly, with thousands separators."""
    if abs(value) >= _SHOWN_BOUND - 1:  # - 1: a value that rounds up to 10^640 is too long too
        return scientific(value)
    return _decimal(_rounded(value, 10**digits), digits)


def percent(value: Number, digits: int = 1) -> str:
    """`22.3%`; a share that is not zero but rounds to it shows as `<0.1%`."""
    if abs(value) * 100 >= _SHOWN_BOUND - 1:
        return scientific(value * 100) + "%"
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
    """An exact number for a human: `2,127,057,600`, or `3/2` for a fraction (each part too long
    to write out is shown to three significant digits, `1.23e+700`)."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{_whole(value.numerator)}/{_whole(value.denominator)}"
    return _whole(int(value))


def _whole(value: int) -> str:
    return f"{value:,}" if abs(value) < _SHOWN_BOUND else scientific(value)


def human(value: Number, unit: str = "") -> str:
    """`2.13 B`, `4.51 TFLOPs`: three significant-ish digits with an SI-style prefix."""
    prefixes = [(10**15, " P"), (10**12, " T"), (10**9, " G"), (10**6, " M"), (10**3, " k")]
    if unit == "":  # parameter counts read as millions and billions
        prefixes = [(10**12, " T"), (10**9, " B"), (10**6, " M"), (10**3, " K")]
    for scale, prefix in prefixes:
        if abs(value) >= scale:
            return f"{fixed(Fraction(value, scale), 2)}{prefix}{unit}"
    shown = exact(value) if isinstance(value, int) or value.denominator == 1 else significant(value)
    return f"{shown}{' ' + unit if unit else ''}"


def significant(value: Number, digits: int = 3) -> str:
    """`value` to `digits` significant digits, exactly: `0.000215`, `1,222` (a whole part is never
    cut: `1,222`, not `1,220`), `0` for zero. For a quantity too small for fixed decimals to show."""
    value = Fraction(value)
    if value == 0:
        return "0"
    exponent = _exponent(abs(value))
    decimals = max(0, digits - 1 - exponent)
    if exponent >= MAX_SHOWN_DIGITS or decimals > MAX_SHOWN_DIGITS:
        return scientific(value, digits)
    return fixed(value, decimals)


def scientific(value: Number, digits: int = 3) -> str:
    """`value` to `digits` (≥ 1) significant digits as `1.23e+700`, `-4.5e-12`, rounded half to
    even, exactly: for a number too long to write out digit by digit."""
    value = Fraction(value)
    if value == 0:
        return "0"
    magnitude = abs(value)
    exponent = _exponent(magnitude)
    # the leading `digits` digits as a whole number: magnitude / 10^(exponent - digits + 1), rounded
    mantissa = _rounded(magnitude / Fraction(10) ** (exponent - digits + 1), 1)
    if mantissa == 10**digits:  # 9.995 rounds up to 10.0: one more digit before the point
        mantissa, exponent = mantissa // 10, exponent + 1
    shown = str(mantissa)
    shown = shown[0] + ("." + shown[1:] if len(shown) > 1 else "")
    return f"{'-' if value < 0 else ''}{shown}e{exponent:+d}"


def _exponent(magnitude: Fraction) -> int:
    """The exponent of the leading digit of `magnitude` > 0: ⌊log₁₀ magnitude⌋, exactly (digit
    counts and one comparison; no float log10, no str() of a long int)."""
    exponent = _digit_count(magnitude.numerator) - _digit_count(magnitude.denominator)
    if magnitude < Fraction(10) ** exponent:
        exponent -= 1
    return exponent


def _digit_count(whole: int) -> int:
    """The decimal digits of `whole` ≥ 1, from its bit length: str() refuses an int of more digits
    than the interpreter's limit (4,300 by default)."""
    # 0.30102999 < log₁₀ 2, so the estimate never passes ⌊log₁₀ whole⌋; the loop adds the rest
    below = (whole.bit_length() - 1) * 30_102_999 // 100_000_000
    while 10 ** (below + 1) <= whole:
        below += 1
    return below + 1
