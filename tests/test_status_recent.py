"""The status line's slice of the engine's rows: blocks built from it are ccusage's blocks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from sessionmd.usage.api import build_blocks
from sessionmd.usage.models import Block
from sessionmd.usage.recent import recent_entries, session_tokens, slice_start, tokens_since

UTC = timezone.utc
T0 = datetime(2026, 11, 1, tzinfo=UTC)
HOUR_MS = 3_600_000


def rows_at(offsets_min: list[int], sessions: list[str] | None = None) -> list[tuple]:
    """Engine-shaped rows (ms, input, output, cache creation, cache read, model, session, project)."""
    base = int(T0.timestamp() * 1000)
    out = []
    for i, m in enumerate(sorted(offsets_min)):
        sid = sessions[i % len(sessions)] if sessions else "s"
        out.append(
            (base + m * 60_000, 10, 20, 30, 1000, "claude", sid, "p", "", False, False, 0, f"k{i}")
        )
    return out


def test_slice_starts_at_a_pause_longer_than_a_block() -> None:
    # entries every 4 h for two days (one chain), a 6 h pause, then every hour
    chain = [i * 240 for i in range(12)]
    later = [chain[-1] + 360 + i * 60 for i in range(10)]
    rows = rows_at(chain + later)
    since = rows[15][0]
    assert slice_start(rows, since) == 12  # the first row after the pause
    assert slice_start(rows, rows[5][0]) == 0  # inside the first chain: from its start
    assert slice_start([], 0) == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=20 * 24 * 60), min_size=1, max_size=80))
def test_blocks_from_the_slice_are_the_same_blocks(offsets: list[int]) -> None:
    rows = rows_at(offsets)
    now = T0 + timedelta(minutes=max(offsets) + 30)
    every = build_blocks(recent_entries(rows, now, None), now)
    part = build_blocks(recent_entries(rows, now, timedelta(days=7)), now)

    def key(b: Block) -> tuple[object, ...]:
        return (b.start, b.end, b.is_gap, b.tokens, len(b.entries))

    assert [key(b) for b in every[len(every) - len(part) :]] == [key(b) for b in part]
    # every row of the last week is in the slice
    week_ms = int((now - timedelta(days=7)).timestamp() * 1000)
    sliced = recent_entries(rows, now, timedelta(days=7))
    assert len(sliced) >= sum(1 for r in rows if r[0] >= week_ms)


def test_tokens_since_and_session_tokens() -> None:
    rows = rows_at([0, 60, 120, 180, 240], sessions=["a", "b"])
    now = T0 + timedelta(hours=3)
    measure = ("input", "output", "cache_creation")
    assert tokens_since(rows, T0 + timedelta(hours=1), now, measure) == 3 * 60  # 60, 120, 180
    assert tokens_since(rows, T0, now, ("cache_read",)) == 4000
    assert session_tokens(rows, "a", now, measure) == 3 * 60  # rows 0, 2, 4
    assert session_tokens(rows, "b", now, measure) == 2 * 60
    assert session_tokens(rows, "a", T0 + timedelta(days=9), measure) == 0  # older than a week
