"""Usage records read from Claude Code transcripts.

Plain slotted dataclasses, not pydantic: millions of entries are built on the hot path,
and ``sessionmd statusline`` must not import pydantic. Times are timezone-aware UTC.
This is the contract later streams (status, handoffs, scheduling, tracking) read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TokenCounts:
    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0

    @property
    def total(self) -> int:
        """All four kinds, as ccusage's ``totalTokens`` counts them."""
        return self.input + self.output + self.cache_creation + self.cache_read

    def __add__(self, other: TokenCounts) -> TokenCounts:
        return TokenCounts(
            self.input + other.input,
            self.output + other.output,
            self.cache_creation + other.cache_creation,
            self.cache_read + other.cache_read,
        )


@dataclass(frozen=True, slots=True)
class UsageEntry:
    """One deduplicated API response (the winning line among its copies)."""

    timestamp: datetime
    tokens: TokenCounts
    session_id: str
    project: str  # the transcript folder name (Claude Code's encoded cwd)
    model: str | None = None
    cwd: str | None = None
    message_id: str | None = None
    request_id: str | None = None
    is_sidechain: bool = False
    from_progress: bool = False  # an agent_progress mirror line (daily view only)
    limit_reset: datetime | None = None  # "Claude AI usage limit reached|<epoch>" lines


@dataclass(slots=True)
class Block:
    """A ccusage-style 5-hour block (or the gap between two)."""

    start: datetime
    end: datetime
    actual_end: datetime | None
    is_active: bool
    is_gap: bool
    entries: list[UsageEntry] = field(default_factory=list)
    tokens: TokenCounts = field(default_factory=TokenCounts)
    models: list[str] = field(default_factory=list)
