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
    r"^(?P<pre>[^\w\n]*?)phase[^\S\n]+(?P<num>\d+(?:\.\d+)*[A-Za-z]?)(?!\w)"
    r"[^\S\n]*(?:(?P<sep>[:.\-–—])[^\S\n]*|(?=[(✅✔✓☑]|$))(?P<rest>.*)$",
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
    return _ZEROS.sub("", number).upper()


_OPEN = {"(": ")", "[": "]"}
# "Estimated: 1-2 hours", "Est. 15k tokens", "Duration: 45 min" inside a parenthesis
_LABEL = re.compile(r"^\s*(?:est(?:imated?)?\.?|duration|time|tokens?)\s*[:=]?\s*", re.IGNORECASE)
# "Setup — 30 min", "Setup - 1-1.5h", "Setup | 45 min", "Setup: 45 min": a last segment
_TAIL_SEP = re.compile(r"\s+[-–—|]\s+|:\s+")
_PARTS = re.compile(r"[,;]")
_ZEROS = re.compile(r"^0+(?=\d)")
_STATUS_TAIL = re.compile(r"(?:[✅✔✓☑]\ufe0f?|\bCOMPLETED?\b|\bDONE\b)\s*$")


def _groups(text: str) -> list[tuple[int, int]]:
    """Spans of the top-level ``(...)`` and ``[...]`` groups in ``text``, brackets included."""
    spans: list[tuple[int, int]] = []
    closer = ""
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if depth == 0 and ch in _OPEN:
            closer, start, depth = _OPEN[ch], i, 1
        elif depth and ch == text[start]:
            depth += 1
        elif depth and ch == closer:
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1))
    return spans


def _take(part: str, found: PhaseLine) -> bool:
    """Read one comma-separated part as a duration or a token figure; False if neither."""
    if part.lstrip()[:1].isalpha():
        part = _LABEL.sub("", part, count=1)
    try:
        hours = parse_hours(part)
    except DurationError as exc:
        found.error = found.error or str(exc)
        return True
    if hours is not None:
        found.hours = found.hours or hours
        return True
    tokens = parse_tokens(part)
    if tokens is not None:
        found.author_tokens = found.author_tokens or tokens
        return True
    return False


def _read_meta(text: str, found: PhaseLine) -> str:
    """Take durations and token figures out of ``text``; return what is left (the title).

    A parenthesis (or bracket) is metadata when one of its comma-separated parts is a
    duration or a token figure; otherwise (``(Future)``, ``(Week 1-2)``) it stays in the
    text. A last segment after a dash or bar that is all durations and token figures
    (``Setup — 30 min``) is metadata too.
    """
    keep: list[str] = []
    pos = 0
    if "(" in text or "[" in text:
        for start, end in _groups(text):
            parts = _PARTS.split(text[start + 1 : end - 1])
            if any([_take(part, found) for part in parts]):
                keep.append(text[pos:start])
                pos = end
    keep.append(text[pos:])
    rest = "".join(keep)
    segments = _TAIL_SEP.split(rest) if any(c.isdigit() for c in rest) else [""]
    if segments[-1].strip():  # the whole rest, when it is only a duration, counts too
        probe = PhaseLine(number="", title="")
        if all(_take(part, probe) for part in _PARTS.split(segments[-1])):
            found.hours = found.hours or probe.hours
            found.author_tokens = found.author_tokens or probe.author_tokens
            found.error = found.error or probe.error
            rest = rest[: len(rest) - len(segments[-1])].rstrip(" -–—|:")
    return rest


def _clean_title(text: str) -> str:
    text = " ".join(text.split())
    # trailing status marks ("✅", "✅ COMPLETED", "- DONE") are status, not title
    while True:
        stripped = _STATUS_TAIL.sub("", text)
        stripped = stripped.rstrip(_TITLE_JUNK)
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
    """A paragraph line that opens with a bold ``**Phase N: Title**``, or ``None``.

    A table row without its leading pipe (``**Phase 1: Gaps** | 6k | 8k``) is no phase.
    """
    m = _BOLD.match(line)
    if not m or "|" in m.group("after"):
        return None
    return _from_label(m.group("inner").strip(), m.group("after"), line)
