"""The exact arithmetic under the estimates and their text."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionmd.estimate.arith import (
    decimal_text,
    duration_text,
    exact,
    formula_ratio,
    half_seconds,
    round_half_up,
    round_ratio,
)


def test_decimal_and_duration_text() -> None:
    assert decimal_text(Fraction(70_900)) == "70,900"
    assert decimal_text(Fraction(5, 4)) == "1.25"
    assert decimal_text(Fraction(-3, 8), grouping=False) == "-0.375"
    assert decimal_text(Fraction(2_000_001, 2)) == "1,000,000.5"
    with pytest.raises(ValueError):
        decimal_text(Fraction(1, 3))
    assert duration_text(Fraction(5, 4)) == "1.25h"
    assert duration_text(Fraction(5, 6)) == "50 min"
    assert duration_text(Fraction(3010, 3600)) == "3010 s"
    assert exact(0.9) == Fraction(9, 10) and exact(1.1) * exact(0.9) == Fraction(99, 100)


def test_round_half_up_never_rounds_to_even() -> None:
    assert round_half_up(Fraction(47_250), 100) == 47_300
    assert round_half_up(Fraction(47_350), 100) == 47_400
    assert round_half_up(Fraction(47_249), 100) == 47_200
    assert round_half_up(Fraction(5, 2)) == 3


@given(
    st.integers(0, 100_000),
    st.integers(0, 100_000),
    st.integers(0, 36_000),
    st.fractions(min_value=Fraction(1, 10), max_value=5, max_denominator=1000),
    st.fractions(min_value=Fraction(-99, 100), max_value=Fraction(99, 100), max_denominator=1000),
    st.integers(0, 50_000),
    st.sampled_from([1, 50, 100, 1000]),
)
def test_integer_formula_is_the_fraction_formula(
    base: int, rate: int, seconds: int, factor: Fraction, spread: Fraction, libs: int, unit: int
) -> None:
    num, den = formula_ratio(base, rate, 2 * seconds, factor, spread, libs)
    value = (base + rate * Fraction(seconds, 3600)) * factor * (1 + spread) + libs
    assert Fraction(num, den) == value
    assert round_ratio(num, den, unit) == round_half_up(value, unit)


def test_half_seconds() -> None:
    assert half_seconds(50 / 60) == 6000
    assert half_seconds(1.25) == 9000
