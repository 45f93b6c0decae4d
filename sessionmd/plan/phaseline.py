"""Recognise one phase line: a heading ``Phase N: Title (45 min, 12-15k tokens)`` or a
bold paragraph ``**Phase N: Title** (30 min)``.

Kept apart from the document walk so the rules for a single line (what is a phase number,
which parenthesis is a duration, what marks a phase done or future) can be read and
tested on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sessionmd.plan.durations import DurationError, parse_hours, parse_tokens

__all__ = ["PhaseLine", "match_bold_phase", "match_heading_phase", "phase_key"]

# "Phase 1:", "✅ Phase 3.5 -", "Phase 6B —", "Phase 2 (45 min)"; not "Phase-by-Phase", "Phases 3-6".
_PHASE = re.compile(
    r"^(?P<pre>[^\w\n]*?)phase[ \t]+(?P<num>\d+(?:\.\d+)*[A-Za-z]?)(?!\w)"
    r"[ \t]*(?:(?P<sep>[:.\-–—])[ \t]*|(?=\(|$))(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_BOLD = re.compile(r"^\s*(\*\*|__)(?P<inner>.+?)\1(?P<after>.*)$", re.DOTALL)
_DONE = re.compile(r"[✅✔✓☑]|\b(?:COMPLETED?|DONE)\b")
_FUTURE = re.compile(
    r"[(\[]\s*(?:future|later|deferred|postponed|backlog|post[- ](?:session|mvp|launch|release))\b[^)\]]*[)\]]",
    re.IGNORECASE,
)
_TITLE_JUNK = " \t-–—:|*_"


@dataclass
class PhaseLine:
    """What one phase line says."""

    number: str
    title: str
    hours: tuple[float, float] | None = None
    author_tokens: tuple[int, int] | None = None
    done: bool = False
    future: bool = False
    error: str | None = None  # a duration written in the line that is not valid

    @property
    def key(self) -> str:
        return phase_key(self.number)


def phase_key(number: str) -> str:
    """Phase numbers compare as ``6B`` == ``6b`` and ``01`` == ``1``."""
    return re.sub(r"^0+(?=\d)", "", number).upper()


def _groups(text: str) -> list[tuple[int, int]]:
    """Spans of the top-level parenthesised groups in ``text``, brackets included."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1))
    return spans


def _read_meta(text: str, found: PhaseLine) -> str:
    """Take durations and token figures out of ``text``'s parentheses; return what is left.

    A parenthesis is metadata when one of its comma-separated parts is a duration or a
    token figure; otherwise (``(Future)``, ``(Week 1-2)``) it stays in the text.
    """
    if "(" not in text:
        return text
    keep: list[str] = []
    pos = 0
    for start, end in _groups(text):
        is_meta = False
        for part in re.split(r"[,;]", text[start + 1 : end - 1]):
            try:
                hours = parse_hours(part)
            except DurationError as exc:
                found.error = found.error or str(exc)
                is_meta = True
                continue
            if hours is not None:
                found.hours = found.hours or hours
                is_meta = True
                continue
            tokens = parse_tokens(part)
            if tokens is not None:
                found.author_tokens = found.author_tokens or tokens
                is_meta = True
        if is_meta:
            keep.append(text[pos:start])
            pos = end
    keep.append(text[pos:])
    return "".join(keep)


def _clean_title(text: str) -> str:
    text = " ".join(text.split())
    # trailing status marks ("✅", "✅ COMPLETED", "- DONE") are status, not title
    while True:
        stripped = re.sub(r"(?:[✅✔✓☑]|\bCOMPLETED?\b|\bDONE\b)\s*$", "", text).rstrip(_TITLE_JUNK)
        if stripped == text:
            break
        text = stripped
    return text.strip(_TITLE_JUNK)


def _from_label(label: str, after: str, whole: str) -> PhaseLine | None:
    m = _PHASE.match(label)
    if not m:
        return None
    found = PhaseLine(number=m.group("num"), title="")
    rest = _read_meta(m.group("rest"), found)
    if not rest.strip(_TITLE_JUNK) and after:
        rest, after = _read_meta(after, found), ""
    elif after:
        _read_meta(after, found)
    found.title = _clean_title(rest)
    found.done = bool(_DONE.search(whole))
    found.future = bool(_FUTURE.search(whole))
    return found


def match_heading_phase(text: str) -> PhaseLine | None:
    """A heading's text (without the ``#`` marks) as a phase, or ``None``."""
    if "phase" not in text.lower():
        return None
    plain = text.replace("**", "").strip()
    return _from_label(plain, "", plain)


def match_bold_phase(line: str) -> PhaseLine | None:
    """A paragraph's first line that opens with a bold ``**Phase N: Title**``, or ``None``."""
    m = _BOLD.match(line)
    if not m:
        return None
    return _from_label(m.group("inner").strip(), m.group("after"), line)
