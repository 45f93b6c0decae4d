"""Usage records read from Claude Code transcripts.

Plain slotted classes, written out by hand rather than dataclasses or pydantic: millions of
entries are built on the hot path, and ``sessionmd statusline`` (run every few hundred
milliseconds) cannot afford importing ``dataclasses`` (10 ms) or pydantic. Times are
timezone-aware UTC. This is the contract later parts (status, handoffs, scheduling,
tracking) read.
"""

from __future__ import annotations

from datetime import datetime


class _Value:
    """Equality (and a hash) over every slot, as the dataclasses these replace had."""

    __slots__ = ()

    def _key(self) -> tuple[object, ...]:
        names: tuple[str, ...] = self.__slots__  # type: ignore[assignment]
        return tuple(getattr(self, name) for name in names)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._key())


class TokenCounts(_Value):
    """The four token kinds of one response or of a sum of them. Immutable by convention."""

    __slots__ = ("cache_creation", "cache_read", "input", "output")

    def __init__(
        self, input: int = 0, output: int = 0, cache_creation: int = 0, cache_read: int = 0
    ) -> None:
        self.input = input
        self.output = output
        self.cache_creation = cache_creation
        self.cache_read = cache_read

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

    def __repr__(self) -> str:
        return (
            f"TokenCounts(input={self.input}, output={self.output}, "
            f"cache_creation={self.cache_creation}, cache_read={self.cache_read})"
        )


class UsageEntry(_Value):
    """One deduplicated API response (the winning line among its copies)."""

    __slots__ = (
        "cwd",
        "from_progress",
        "is_sidechain",
        "limit_reset",
        "message_id",
        "model",
        "project",
        "request_id",
        "session_id",
        "timestamp",
        "tokens",
    )

    def __init__(
        self,
        timestamp: datetime,
        tokens: TokenCounts,
        session_id: str,
        project: str,  # the transcript folder name (Claude Code's encoded cwd)
        model: str | None = None,
        cwd: str | None = None,
        message_id: str | None = None,
        request_id: str | None = None,
        is_sidechain: bool = False,
        from_progress: bool = False,  # an agent_progress mirror line (daily view only)
        limit_reset: datetime | None = None,  # "Claude AI usage limit reached|<epoch>" lines
    ) -> None:
        self.timestamp = timestamp
        self.tokens = tokens
        self.session_id = session_id
        self.project = project
        self.model = model
        self.cwd = cwd
        self.message_id = message_id
        self.request_id = request_id
        self.is_sidechain = is_sidechain
        self.from_progress = from_progress
        self.limit_reset = limit_reset

    def __repr__(self) -> str:
        return (
            f"UsageEntry(timestamp={self.timestamp!r}, tokens={self.tokens!r}, "
            f"session_id={self.session_id!r}, model={self.model!r})"
        )


class Block(_Value):
    """A ccusage-style 5-hour block (or the gap between two)."""

    __slots__ = ("actual_end", "end", "entries", "is_active", "is_gap", "models", "start", "tokens")

    def __init__(
        self,
        start: datetime,
        end: datetime,
        actual_end: datetime | None,
        is_active: bool,
        is_gap: bool,
        entries: list[UsageEntry] | None = None,
        tokens: TokenCounts | None = None,
        models: list[str] | None = None,
    ) -> None:
        self.start = start
        self.end = end
        self.actual_end = actual_end
        self.is_active = is_active
        self.is_gap = is_gap
        self.entries: list[UsageEntry] = [] if entries is None else entries
        self.tokens: TokenCounts = TokenCounts() if tokens is None else tokens
        self.models: list[str] = [] if models is None else models

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaces

    def __repr__(self) -> str:
        kind = "gap" if self.is_gap else "block"
        return f"Block({kind} {self.start.isoformat()} .. {self.end.isoformat()}, {self.tokens!r})"
