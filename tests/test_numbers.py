"""Formatting at the edge and exact quantities with units."""

from fractions import Fraction

import pytest

from acct.errors import ConfigError
from acct.engine.numbers import exact, fixed, human, percent
from acct.engine.units import quantity


@pytest.mark.parametrize(
    "value, digits, text",
    [(Fraction(2, 3), 2, "0.67"), (Fraction(1, 8), 2, "0.12"), (Fraction(3, 8), 2, "0.38"),  # half to even
     (1234567, 0, "1,234,567"), (Fraction(-5, 4), 1, "-1.2"), (0, 2, "0.00")],
)
def test_fixed_rounds_exactly(value, digits, text):
    assert fixed(value, digits) == text


def test_percent_exact_and_human():
    assert percent(Fraction(1, 3)) == "33.3%"
    assert percent(Fraction(1, 10**6)) == "<0.1%" and percent(Fraction(0)) == "0.0%"
    assert exact(Fraction(3, 2)) == "3/2" and exact(2_127_057_600) == "2,127,057,600"
    assert human(2_127_057_600) == "2.13 B" and human(4_513_336_524_800, "FLOPs") == "4.51 TFLOPs"
    assert human(124_439_808) == "124.44 M" and human(999) == "999"


@pytest.mark.parametrize(
    "text, value",
    [("80GB", 80 * 10**9), ("80 GiB", 80 * 2**30), ("1.5TB", 1_500_000_000_000), ("19.5e12", 19_500_000_000_000),
     ("0.5", Fraction(1, 2)), ("2,039GB", 2_039 * 10**9), ("512", 512), (7, 7)],
)
def test_quantities(text, value):
    assert quantity(text, "x") == value


@pytest.mark.parametrize("text, message", [("80 GX", "unknown unit 'GX'"), ("lots", "is not a number"),
                                           (1.5, "expected a number, got a float"), ("9" * 50, "too long")])
def test_bad_quantities(text, message):
    with pytest.raises(ConfigError, match=message):
        quantity(text, "x")
    with pytest.raises(ConfigError, match="unknown unit"):
        quantity("5GB", "x", units=False)
