"""Issue #20: every formatter is total over int and Fraction of any size, and what it writes,
read back, is the value to within the rounding it shows."""

import re
import sys
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acct.engine.numbers import MAX_SHOWN_DIGITS, exact, fixed, human, percent, scientific, significant

# numbers of any size: small ones, and m·10^e with e far past what str() of an int accepts
# (4,300 digits by default), both ways
wholes = st.one_of(
    st.integers(),
    st.builds(lambda m, e: m * 10**e, st.integers(-999, 999), st.integers(0, 9_000)),
    st.builds(lambda e: 2**e - 1, st.integers(0, 30_000)),
)
fractions = st.one_of(
    st.fractions(),
    st.builds(lambda m, e: Fraction(m, 10**e), st.integers(-999, 999), st.integers(0, 9_000)),
    st.builds(lambda m, e: m / (3 * Fraction(10) ** e), st.integers(1, 10**6), st.integers(-9_000, 9_000)),
    st.builds(lambda n, d: Fraction(n, d), wholes, wholes.filter(bool)),
)
numbers = st.one_of(wholes, fractions)

_PLAIN = re.compile(r"^-?[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?$")
_SCIENTIFIC = re.compile(r"^(-?)([0-9])(?:\.([0-9]+))?e([+-][0-9]+)$")


def read_back(shown: str):
    """The value `shown` writes and half a unit of its last digit: what rounding may have cut."""
    match = _SCIENTIFIC.match(shown)
    if match:
        sign, lead, rest, exponent = match.groups()
        rest = rest or ""
        unit = Fraction(10) ** (int(exponent) - len(rest))
        value = int(lead + rest) * unit
        return (-value if sign else value), unit / 2
    assert _PLAIN.match(shown), shown
    whole, _, part = shown.replace(",", "").partition(".")
    unit = Fraction(1, 10 ** len(part))
    return Fraction(whole.lstrip("-") + part) * unit * (-1 if whole.startswith("-") else 1), unit / 2


def close(shown: str, value) -> bool:
    written, error = read_back(shown)
    return abs(written - value) <= error


@settings(max_examples=300, deadline=None)
@given(numbers, st.integers(0, 4))
def test_fixed_is_total_and_reads_back(value, digits):
    shown = fixed(value, digits)
    assert close(shown, value), (value, shown)
    if "e" not in shown:
        assert len(shown.partition(".")[2]) == digits


@settings(max_examples=300, deadline=None)
@given(numbers, st.integers(1, 6))
def test_significant_is_total_and_reads_back(value, digits):
    shown = significant(value, digits)
    assert close(shown, value), (value, shown)


@settings(max_examples=300, deadline=None)
@given(numbers)
def test_scientific_keeps_three_significant_digits(value):
    shown = scientific(value)
    if value == 0:
        assert shown == "0"
        return
    sign, lead, rest, _ = _SCIENTIFIC.match(shown).groups()
    assert lead != "0" and len(rest) == 2 and bool(sign) == (value < 0)
    assert close(shown, value), (value, shown)


@settings(max_examples=300, deadline=None)
@given(numbers)
def test_percent_is_total_and_reads_back(value):
    shown = percent(value)
    assert shown.endswith("%")
    if shown == "<0.1%":
        assert 0 < value < Fraction(1, 2000)
    else:
        assert close(shown[:-1], value * 100), (value, shown)


@settings(max_examples=300, deadline=None)
@given(numbers)
def test_exact_is_exact_when_it_can_be_written_out(value):
    shown = exact(value)
    numerator, _, denominator = shown.partition("/")
    for part, whole in ((numerator, Fraction(value).numerator), (denominator or "1", Fraction(value).denominator)):
        if "e" in part:  # too long to write out: 3 significant digits, and only then
            assert abs(whole) >= 10**MAX_SHOWN_DIGITS
            assert close(part, whole)
        else:
            assert int(part.replace(",", "")) == whole


@settings(max_examples=300, deadline=None)
@given(numbers, st.sampled_from(["", "FLOPs", "B"]))
def test_human_is_total(value, unit):
    shown = human(value, unit)
    assert isinstance(shown, str) and shown and not shown.startswith(" ")


def test_long_numbers_by_hand():
    # 2^20000 = 3.98·10^6020 (20000 · log10 2 = 6020.5999...: 10^0.5999 = 3.98)
    assert fixed(2**20000, 2) == "3.98e+6020" and exact(2**20000) == "3.98e+6020"
    assert significant(Fraction(1, 3 * 10**700)) == "3.33e-701"
    assert exact(Fraction(1, 10**5000)) == "1/1.00e+5000"
    assert percent(10**700) == "1.00e+702%"
    assert human(10**5000, "FLOPs") == "1.00e+4985 PFLOPs"
    assert scientific(Fraction(9995, 1000)) == "1.00e+1"  # 9.995: half to even at 9.99|5 gives 10.0
    assert scientific(Fraction(-45, 10**13)) == "-4.50e-12"
    # the longest whole number written out, and the first one that is not
    assert exact(10**MAX_SHOWN_DIGITS - 1) == "9" + ",999" * 213  # 640 = 1 + 3·213
    assert exact(10**MAX_SHOWN_DIGITS) == f"1.00e+{MAX_SHOWN_DIGITS}"


@pytest.mark.skipif(not hasattr(sys, "set_int_max_str_digits"), reason="Python < 3.11 has no str() digit limit")
def test_the_lowest_digit_limit_python_allows():
    """A user's interpreter may refuse str() of ints longer than 640 digits: still no error."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        for value in (10**639 + 7, Fraction(10**700 + 1, 7), Fraction(1, 10**639 * 3)):
            for shown in (fixed(value, 2), significant(value), exact(value), percent(value), human(value)):
                assert shown
    finally:
        sys.set_int_max_str_digits(old)
