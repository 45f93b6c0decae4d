"""Quota presets: token limits of one 5-hour window, each with where its number comes from.

Anthropic publishes no token numbers. These presets are claude-monitor 4's plan presets
(about 19k, 88k and 220k tokens a window); other public sources differ tenfold, so every
figure shown to a user carries its source, and a limit derived from Claude Code's official
``rate_limits`` percentage (see ``sessionmd.usage``) replaces them where one exists.
Kept free of heavy imports: the status line reads it.
"""

from __future__ import annotations

from sessionmd._typing import NamedTuple


class Quota(NamedTuple):
    """A NamedTuple, not a dataclass: ``dataclasses`` costs the status line 10 ms to import."""

    tokens: int
    source: str  # shown beside the number, e.g. "preset max5 (claude-monitor 4)"


PRESETS: dict[str, Quota] = {
    "pro": Quota(19_000, "preset pro (claude-monitor 4 plan preset)"),
    "max5": Quota(88_000, "preset max5 (claude-monitor 4 plan preset)"),
    "max20": Quota(220_000, "preset max20 (claude-monitor 4 plan preset)"),
}


def parse_quota(value: int | str | None, origin: str) -> Quota | None:
    """A quota from a frontmatter or config value: a token count, or a preset name.

    ``origin`` names where the value was written (``"frontmatter"``, ``"sessionmd.yaml"``)
    so the output can say so. ``auto`` is not resolved here: it needs the transcripts.
    Raises ``ValueError`` for anything else.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"quota must be a token count or one of {', '.join(PRESETS)}")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("quota must be a positive token count")
        return Quota(value, f"{origin} ({value:,} tokens)")
    text = value.strip().lower().replace("_", "").replace(",", "")
    if text.isdigit():
        return parse_quota(int(text), origin)
    if text.endswith("k") and text[:-1].isdigit():
        return parse_quota(int(text[:-1]) * 1000, origin)
    if text in PRESETS:
        return PRESETS[text]
    raise ValueError(f"unknown quota {value!r}: a token count or one of {', '.join(PRESETS)}, auto")
