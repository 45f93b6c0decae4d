"""Durations and token figures as plan authors write them.

Authors write ``(1-1.5h)``, ``(45 min)``, ``1.5-2 hours``, ``1h 30m``, ``~20 min`` and token
figures such as ``8-12k tokens`` or ``25,000 - 32,000``. Both readers return a ``(low, high)``
range (a single value is ``(v, v)``) or ``None`` when the text is not a duration (or token
figure) at all, so that a heading's ``(Future)`` or ``(Week 1-2)`` stays part of its title.
A text that is clearly a duration but cannot be one (``2-1h``, ``0 min``) raises
:class:`DurationError`, which the parser turns into a ``path:line`` error.
"""

from __future__ import annotations

import re

__all__ = ["DurationError", "parse_hours", "parse_hours_prefix", "parse_tokens"]


class DurationError(ValueError):
    """A duration that is written as one but is not valid (reversed range, zero)."""


_NUM = r"\d+(?:\.\d+)?"
_HOURS = r"(?:h|hrs?|hours?)"
_MINUTES = r"(?:m|mins?|minutes?)"
# One amount: "1.5h", "90 min", "1h 30m", "1h30", or a bare number (only valid as the low
# end of a range whose high end carries the unit: "1-1.5h").


def _amount_re(p: str) -> str:
    """One amount, its groups prefixed with ``p`` so both ends of a range fit one pattern."""
    return (
        rf"(?:(?P<{p}h>{_NUM})\s*{_HOURS}\.?(?:\s*(?P<{p}hm>\d+)\s*(?:{_MINUTES}\.?)?)?"
        rf"|(?P<{p}m>{_NUM})\s*{_MINUTES}\.?"
        rf"|(?P<{p}n>{_NUM}))"
    )


_APPROX = r"(?:~|≈|about\s+|approx\.?\s*|approximately\s+|ca\.\s*)?"
_RANGE_SEP = r"\s*(?:-|–|—|to)\s*"
_DURATION = rf"{_APPROX}{_amount_re('a')}(?:{_RANGE_SEP}{_APPROX}{_amount_re('b')})?"
_DURATION_FULL = re.compile(rf"\s*{_DURATION}\s*", re.IGNORECASE)
_DURATION_PREFIX = re.compile(rf"\s*{_DURATION}(?=$|[\s,;:()\[\].!?—–-])", re.IGNORECASE)


def _amount(m: re.Match[str], p: str) -> tuple[float | None, bool]:
    """Hours of one end of a range, and whether it carried its own unit."""
    h = m.group(f"{p}h")
    if h is not None:
        extra = m.group(f"{p}hm")
        return float(h) + (int(extra) / 60 if extra else 0.0), True
    mins = m.group(f"{p}m")
    if mins is not None:
        return float(mins) / 60, True
    bare = m.group(f"{p}n")
    return (float(bare) if bare is not None else None), False


def _unit_of(m: re.Match[str], p: str) -> str | None:
    if m.group(f"{p}h") is not None:
        return "h"
    if m.group(f"{p}m") is not None:
        return "m"
    return None


def _range(m: re.Match[str], text: str) -> tuple[float, float] | None:
    low, low_unit = _amount(m, "a")
    high, high_unit = _amount(m, "b")
    if high is None:  # a single amount needs its unit
        if not low_unit or low is None:
            return None
        high = low
    elif not high_unit:
        return None  # "1-2" with no unit at all is not a duration
    elif not low_unit and low is not None:
        # "1-1.5h", "30-45 min": the low end takes the high end's unit
        low = low / 60 if _unit_of(m, "b") == "m" else low
    if low is None:
        return None
    if low <= 0 or high <= 0:
        raise DurationError(f"duration must be longer than zero: {text.strip()!r}")
    if low > high:
        raise DurationError(f"duration range runs backwards: {text.strip()!r}")
    return (low, high)


def parse_hours(text: str) -> tuple[float, float] | None:
    """The whole of ``text`` as a duration range in hours, or ``None`` if it is not one."""
    m = _DURATION_FULL.fullmatch(text)
    return _range(m, text) if m else None


def parse_hours_prefix(text: str) -> tuple[tuple[float, float], str] | None:
    """A duration at the start of ``text`` (a tag value) and the rest of the text."""
    m = _DURATION_PREFIX.match(text)
    if not m:
        return None
    found = _range(m, m.group(0))
    if found is None:
        return None
    return found, text[m.end() :]


_TOKEN_NUM = r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?"
_TOKENS = re.compile(
    rf"\s*~?\s*(?P<lo>{_TOKEN_NUM})\s*(?P<lok>[kKM])?"
    rf"(?:{_RANGE_SEP}~?\s*(?P<hi>{_TOKEN_NUM})\s*(?P<hik>[kKM])?)?"
    r"\s*(?P<word>tokens?\b)?",
    re.IGNORECASE,
)
_SCALE = {"k": 1_000, "K": 1_000, "M": 1_000_000, "m": 1_000_000}


def _scaled(num: str, suffix: str | None) -> int:
    return round(float(num.replace(",", "")) * (_SCALE[suffix] if suffix else 1))


def parse_tokens(
    text: str, *, require_word: bool = True, prefix: bool = False
) -> tuple[int, int] | None:
    """A token figure such as ``8-12k tokens`` or ``25,000 - 32,000`` as ``(low, high)``.

    In a heading's parenthesis the word ``tokens`` is required (``(Week 1-2)`` is no token
    figure); in an ``**Estimated Tokens**`` tag it is not. ``prefix`` accepts trailing text
    after the figure (``65-85k tokens (32-42% of Pro quota)``). Author figures are kept, never
    validated, so anything unreadable is ``None``.
    """
    m = _TOKENS.match(text)
    if not m:
        return None
    rest = text[m.end() :]
    if not prefix and rest.strip():
        return None
    if prefix and rest[:1].isalnum():
        return None
    if require_word and not m.group("word"):
        return None
    lo_k, hi_k = m.group("lok"), m.group("hik")
    if m.group("hi") is None:
        value = _scaled(m.group("lo"), lo_k)
        return (value, value)
    low = _scaled(m.group("lo"), lo_k or hi_k)
    high = _scaled(m.group("hi"), hi_k)
    if low > high:
        return None
    return (low, high)
