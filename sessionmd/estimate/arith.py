"""Exact arithmetic shared by the computation and the rendered text.

Estimates are computed with fractions, never binary floats, so that the figures written
into a plan are exactly what a reviewer gets by redoing the calculation shown beside
them, and so that the same plan compiles to the same bytes on every machine.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

HALF = Fraction(1, 2)


@lru_cache(maxsize=4096)
def exact(value: float | int | str) -> Fraction:
    """A model or plan number as the decimal it was written as (0.9 is 9/10, not a float)."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def round_half_up(value: Fraction, unit: int = 1) -> int:
    """``value`` to the nearest multiple of ``unit``, halves upwards (never banker's)."""
    return math.floor(value / unit + HALF) * unit


def is_finite_decimal(value: Fraction) -> bool:
    """True when ``value`` has a finite decimal expansion (denominator of 2s and 5s only)."""
    den = value.denominator
    for prime in (2, 5):
        while den % prime == 0:
            den //= prime
    return den == 1


@lru_cache(maxsize=4096)
def decimal_text(value: Fraction, grouping: bool = True) -> str:
    """A finite decimal written out in full: 70900 -> '70,900', 5/4 -> '1.25'.

    Cached: plans repeat the same rates, factors and durations phase after phase.
    """
    if value.denominator == 1:
        return f"{value.numerator:,}" if grouping else str(value.numerator)
    if not is_finite_decimal(value):
        raise ValueError(f"{value} has no finite decimal expansion")
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole, rest = divmod(value.numerator, value.denominator)
    digits = ""
    remainder = Fraction(rest, value.denominator)
    while remainder:
        remainder *= 10
        digit = math.floor(remainder)
        digits += str(digit)
        remainder -= digit
    whole_text = f"{whole:,}" if grouping else str(whole)
    return f"{sign}{whole_text}.{digits}" if digits else f"{sign}{whole_text}"


@lru_cache(maxsize=4096)
def duration_text(hours: Fraction) -> str:
    """A duration as the reviewer can multiply it: '1.25h', else '50 min', else '3010 s'."""
    if is_finite_decimal(hours):
        return f"{decimal_text(hours, grouping=False)}h"
    minutes = hours * 60
    if minutes.denominator == 1:
        return f"{minutes.numerator} min"
    return f"{round(hours * 3600)} s"


def tokens_text(value: int) -> str:
    """Token counts with thousands separators, as the original plan writes them."""
    return f"{value:,}"


def formula_ratio(
    base: int, rate: int, half_seconds: int, factor: Fraction, spread: Fraction, libs: int
) -> tuple[int, int]:
    """``(base + rate x hours) x factor x (1 + spread) + libs`` as (numerator, denominator).

    Hours come in half-seconds (1 h = 7,200), so that the middle of two durations given
    to the second is whole. Plain integers rather than Fraction objects, which cost ten
    times more: a 2,000-phase plan evaluates this 12,000 times (compute and render).
    """
    num = (
        (base * 7200 + rate * half_seconds)
        * factor.numerator
        * (spread.denominator + spread.numerator)
    )
    den = 7200 * factor.denominator * spread.denominator
    return num + libs * den, den


def round_ratio(num: int, den: int, unit: int) -> int:
    """``num / den`` to the nearest multiple of ``unit``, halves upwards."""
    return (2 * num + den * unit) // (2 * den * unit) * unit


def half_seconds(hours: float) -> int:
    """Hours to the second (50 min is exactly 5/6 h), counted in half-seconds."""
    return 2 * round(hours * 3600)
