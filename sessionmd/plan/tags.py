"""Tag lines under a phase: ``**Type**: implementation``, ``- **Complexity**: 1.1 (note)``.

Only the tags sessionmd reads are recognised and validated; every other bold line
(``**Status**: 🔴 CRITICAL PRIORITY``) is the author's text. Values are read, not
judged against the estimation model: a ``**Type**`` is recorded lower-cased as written and
the estimator checks it against its task types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sessionmd.plan.durations import DurationError, parse_hours_prefix, parse_tokens

__all__ = ["TagError", "TagValues", "match_tag", "read_tag"]

# "**Type**: x", "**Type:** x", "- **Complexity**: 0.9 (note)", "> **Libraries**: a, b"
_TAG_LINE = re.compile(
    r"^\s*(?:>\s*)*(?:(?:[-*+]|\d{1,9}[.)])\s+)?(?:\*\*|__)\s*"
    r"(?P<name>[A-Za-z][A-Za-z ]{0,30}?)\s*(?::\s*(?:\*\*|__)|(?:\*\*|__)\s*:)\s*(?P<value>.*)$"
)
_NAMES = {
    "type": "type",
    "task type": "type",
    "duration": "duration",
    "complexity": "complexity",
    "libraries": "libraries",
    "library": "libraries",
    "confidence": "confidence",
    "estimated tokens": "author_tokens",
    "token estimate": "author_tokens",
}
_CONFIDENCE = ("low", "medium", "high")
_COMPLEXITY = re.compile(r"^\s*[~x×]?\s*(?P<num>\d+(?:\.\d+)?|\.\d+)\s*[x×]?(?P<rest>.*)$", re.S)


class TagError(ValueError):
    """A tag sessionmd reads whose value it cannot use."""


@dataclass
class TagValues:
    """What the tag lines of one phase occurrence said (first mention of each tag wins)."""

    type: str | None = None
    hours: tuple[float, float] | None = None
    complexity: float | None = None
    complexity_note: str | None = None
    libraries: list[str] = field(default_factory=list)
    confidence: str | None = None
    author_tokens: tuple[int, int] | None = None


def match_tag(line: str) -> tuple[str, str] | None:
    """``(tag, value)`` for a tag line sessionmd reads, else ``None``."""
    if "**" not in line and "__" not in line:
        return None
    m = _TAG_LINE.match(line)
    if not m:
        return None
    tag = _NAMES.get(" ".join(m.group("name").lower().split()))
    if tag is None:
        return None
    value = m.group("value").strip()
    value = value.removesuffix("\\").rstrip()
    return tag, value


def _strip_note(text: str) -> str:
    """``(new framework)`` -> ``new framework``; ``- note`` -> ``note``."""
    text = text.strip()
    text = text.lstrip("-–—:,;").strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return text


def read_tag(tag: str, value: str, into: TagValues) -> None:
    """Store one tag's value into ``into`` unless an earlier line already set it.

    Raises :class:`TagError` for an invalid value of a validated tag.
    """
    if tag == "type":
        if into.type is not None:
            return
        kind = re.split(r"[(\[,;]|\s[-–—]\s", value, maxsplit=1)[0].strip().strip("`*_.").lower()
        if not kind:
            raise TagError("**Type** is empty")
        into.type = " ".join(kind.split())
    elif tag == "duration":
        if into.hours is not None:
            return
        try:
            found = parse_hours_prefix(value)
        except DurationError as exc:
            raise TagError(str(exc)) from None
        if found is None:
            raise TagError(
                f"unparsable **Duration** {value!r} (write e.g. '45 min', '1-1.5h', '2 hours')"
            )
        into.hours = found[0]
    elif tag == "complexity":
        if into.complexity is not None:
            return
        m = _COMPLEXITY.match(value)
        number = float(m.group("num")) if m else 0.0
        if not m or number <= 0:
            raise TagError(
                f"**Complexity** must start with a positive number, e.g. '1.1 (new framework)': {value!r}"
            )
        into.complexity = number
        note = _strip_note(m.group("rest"))
        into.complexity_note = note or None
    elif tag == "libraries":
        if into.libraries:
            return
        names: list[str] = []
        for part in re.split(r"[,;]|\s+and\s+|\s+&\s+", value):
            # "Recharts or Chart.js" is one library, whichever is chosen: keep the first
            name = re.split(r"\s+or\s+", part.strip(), maxsplit=1)[0].strip().strip("`*_").strip()
            if name and name.lower() not in {"none", "-", "n/a"} and name not in names:
                names.append(name)
        into.libraries = names
    elif tag == "confidence":
        if into.confidence is not None:
            return
        word = re.sub(r"^[^A-Za-z]+", "", value)
        word = re.split(r"[^A-Za-z]", word, maxsplit=1)[0].lower()
        if word not in _CONFIDENCE:
            raise TagError(f"**Confidence** must be low, medium or high: {value!r}")
        into.confidence = word
    elif tag == "author_tokens" and into.author_tokens is None:
        into.author_tokens = parse_tokens(value, require_word=False, prefix=True)
