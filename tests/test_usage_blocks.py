"""ccusage's 5-hour blocks (start, gap and activity rules) and sessionmd's token measure."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionmd.config import DEFAULT_MEASURE
from sessionmd.usage.api import build_blocks, measure
from sessionmd.usage.models import TokenCounts, UsageEntry

UTC = timezone.utc
T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def _entry(minutes: float, out: int = 10, model: str = "claude-sonnet-4-5") -> UsageEntry:
    return UsageEntry(
        timestamp=T0 + timedelta(minutes=minutes),
        tokens=TokenCounts(1, out, 100, 1000),
        session_id="s",
        project="p",
        model=model,
    )


def test_block_starts_on_the_hour_and_lasts_five_hours() -> None:
    blocks = build_blocks([_entry(37), _entry(200)], now=T0 + timedelta(days=1))
    assert len(blocks) == 1
    b = blocks[0]
    assert (b.start, b.end) == (T0, T0 + timedelta(hours=5))
    assert b.actual_end == T0 + timedelta(minutes=200)
    assert b.tokens == TokenCounts(2, 20, 200, 2000)
    assert not b.is_active and not b.is_gap


def test_entry_more_than_five_hours_after_block_start_opens_a_new_block() -> None:
    # 09:37, then every 2 h: 11:37, 13:37 stay in the 09:00 block; 15:37 is > 5 h after 09:00.
    blocks = build_blocks([_entry(37 + 120 * n) for n in range(4)], now=T0 + timedelta(days=1))
    assert [b.start.hour for b in blocks] == [9, 15]
    assert [len(b.entries) for b in blocks] == [3, 1]
    assert not any(b.is_gap for b in blocks)


def test_pause_longer_than_a_block_leaves_a_gap_block() -> None:
    blocks = build_blocks([_entry(10), _entry(10 + 6 * 60)], now=T0 + timedelta(days=1))
    assert [b.is_gap for b in blocks] == [False, True, False]
    gap = blocks[1]
    assert gap.start == T0 + timedelta(minutes=10, hours=5)
    assert gap.end == T0 + timedelta(minutes=10, hours=6)
    assert gap.entries == [] and gap.tokens.total == 0


def test_gap_that_starts_after_the_next_block_is_sorted_after_it() -> None:
    """ccusage sorts by start: last+5h can fall after the next block's floored hour."""
    blocks = build_blocks([_entry(50), _entry(50 + 5 * 60 + 5)], now=T0 + timedelta(days=1))
    # The gap starts 14:50; the next entry at 14:55 floors to 14:00, so its block comes first.
    assert [(b.start.strftime("%H:%M"), b.is_gap) for b in blocks] == [
        ("09:00", False),
        ("14:00", False),
        ("14:50", True),
    ]


def test_active_means_now_inside_the_block_and_within_five_hours_of_last_entry() -> None:
    entries = [_entry(10), _entry(70)]
    assert build_blocks(entries, now=T0 + timedelta(hours=4))[0].is_active
    assert not build_blocks(entries, now=T0 + timedelta(hours=5, minutes=1))[0].is_active


def test_models_leave_out_synthetic_and_keep_first_use_order() -> None:
    entries = [_entry(1, model="claude-opus-4-5"), _entry(2, model="<synthetic>"), _entry(3)]
    assert build_blocks(entries, now=T0)[0].models == ["claude-opus-4-5", "claude-sonnet-4-5"]


def test_no_entries_no_blocks() -> None:
    assert build_blocks([], now=T0) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=60 * 24 * 5), min_size=1, max_size=40))
def test_blocks_partition_entries_by_the_rules(minutes: list[int]) -> None:
    entries = [_entry(m) for m in minutes]
    blocks = build_blocks(entries, now=T0 + timedelta(days=30))
    real = [b for b in blocks if not b.is_gap]
    flat = [e for b in real for e in b.entries]
    assert flat == sorted(entries, key=lambda e: e.timestamp)
    five = timedelta(hours=5)
    for b in real:
        first = b.entries[0].timestamp
        assert b.start == first.replace(minute=0, second=0, microsecond=0)
        assert all(e.timestamp - b.start <= five for e in b.entries)
        assert all(y.timestamp - x.timestamp <= five for x, y in pairwise(b.entries))
    for prev, nxt in pairwise(real):
        pause = nxt.entries[0].timestamp - prev.entries[-1].timestamp
        opened = nxt.entries[0].timestamp - prev.start > five or pause > five
        assert opened
        gaps = [g for g in blocks if g.is_gap and g.end == nxt.entries[0].timestamp]
        assert (pause > five) == bool(gaps)
    assert [b.start for b in blocks] == sorted(b.start for b in blocks)


def test_measure_defaults_and_kinds() -> None:
    t = TokenCounts(input=1, output=20, cache_creation=300, cache_read=4000)
    assert measure(t, DEFAULT_MEASURE) == 321
    assert measure(t, ["input", "output", "cache_creation", "cache_read"]) == t.total
    assert measure(t, []) == 0
    with pytest.raises(ValueError, match="unknown token kind"):
        measure(t, ["output", "thinking"])
