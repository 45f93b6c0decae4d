"""The history cut that `status --watch` keeps, and the watch refresh on appended lines."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from status_helpers import CORPUS_NOW, append_response, cli_env, entry, make_corpus

from sessionmd.usage.api import build_blocks
from sessionmd.usage.clock import parse_now
from sessionmd.usage.models import Block, UsageEntry
from sessionmd.usage.snapshot import SEVEN_DAYS
from sessionmd.usage.status_io import StatusRequest, watch_status
from sessionmd.usage.timeline import history_cut, to_ms

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def history_start(entries: list[UsageEntry], now: datetime, span: timedelta = SEVEN_DAYS) -> int:
    """The index of the first entry that windows from ``now - span`` on depend on."""
    return history_cut([to_ms(e.timestamp) for e in entries], to_ms(now - span))


def key(b: Block) -> tuple[object, ...]:
    return (b.start, b.end, b.is_gap, b.tokens, len(b.entries))


def test_history_starts_after_a_pause_longer_than_a_block() -> None:
    chain = [T0 + timedelta(hours=4 * i) for i in range(12)]  # one chain, 4 h apart
    later = [chain[-1] + timedelta(hours=6 + i) for i in range(10)]
    entries = [entry(t, 100) for t in chain + later]
    now = later[-1] + timedelta(minutes=1)
    assert history_start(entries, now, timedelta(hours=5)) == 12
    assert history_start(entries, now, timedelta(days=30)) == 0
    # Mid-chain: the first entry of the block holding the first entry from a week ago on.
    # 4 h apart, each block holds two entries (0-4 h, 8-12 h, ...): 6 opens one, 7 does not.
    assert history_start(entries, chain[6], timedelta(hours=1)) == 6
    assert history_start(entries, chain[7], timedelta(hours=1)) == 6
    assert history_start(entries, chain[7] + timedelta(hours=2), timedelta(hours=1)) == 8
    assert history_start([], now) == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=20 * 24 * 60), min_size=1, max_size=80))
@example([661, 962, 10712])  # the next entry 5 h 01 min after the last: a 1-minute gap
def test_blocks_from_the_cut_are_the_same_blocks(minutes: list[int]) -> None:
    entries = [entry(T0 + timedelta(minutes=m), 100) for m in sorted(minutes)]
    now = entries[-1].timestamp + timedelta(minutes=30)
    cut = history_start(entries, now)
    # The gap before the cut's entry ends at it, yet sorts after the block that the entry
    # opens (a gap starts 5 h after the last entry, a block on the hour before its first):
    # it belongs to the history before the cut.
    everything = [
        b for b in build_blocks(entries, now) if not (b.is_gap and b.end <= entries[cut].timestamp)
    ]
    part = build_blocks(entries[cut:], now)
    assert [key(b) for b in everything[len(everything) - len(part) :]] == [key(b) for b in part]
    week_ago = now - timedelta(days=7)
    assert all(e.timestamp < week_ago for e in entries[:cut])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=3 * 24 * 60), min_size=1, max_size=120),
    st.integers(min_value=-60, max_value=3 * 24 * 60 + 60),
    st.integers(min_value=0, max_value=3 * 24 * 60),
)
def test_a_cut_found_from_an_earlier_cut_is_the_same_cut(
    minutes: list[int], since: int, later: int
) -> None:
    """``history_cut(floor=...)`` stops its walk back at an earlier cut: dense chains (up to
    120 messages in 3 days) put the later point in the middle of blocks."""
    stamps = [to_ms(T0 + timedelta(minutes=m)) for m in sorted(minutes)]
    at = to_ms(T0 + timedelta(minutes=since))
    then = to_ms(T0 + timedelta(minutes=since + later))
    earlier = history_cut(stamps, at)
    assert history_cut(stamps, then, floor=earlier) == history_cut(stamps, then)
    # A floor past the point asked about (a cut over a longer list) is ignored.
    assert history_cut(stamps[: len(stamps) // 2 + 1], at, floor=len(stamps)) == history_cut(
        stamps[: len(stamps) // 2 + 1], at
    )


def test_watch_refresh_reads_appended_lines(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    make_corpus(corpus)
    env = cli_env(tmp_path, corpus)
    req = StatusRequest(cwd=tmp_path, env=env, now=parse_now(CORPUS_NOW), limit="200000")
    first, kept = watch_status(req, None)

    # Claude Code writes one more response into the live transcript
    append_response(
        corpus,
        "watch_test",
        {
            "input_tokens": 100,
            "output_tokens": 900,
            "cache_creation_input_tokens": 4000,
            "cache_read_input_tokens": 50_000,
        },
    )

    second, kept = watch_status(req, kept)
    assert second.five_hour.used == first.five_hour.used + 5000
    assert second.weekly.used == first.weekly.used + 5000
    assert second.limit == first.limit
    # and a full read agrees
    full, _ = watch_status(req, None)
    assert full.five_hour.used == second.five_hour.used
    assert full.weekly.used == second.weekly.used


def test_rows_and_entries_agree(tmp_path: Path) -> None:
    from sessionmd import paths
    from sessionmd.usage.api import load_usage
    from sessionmd.usage.status_io import recent_entries

    corpus = tmp_path / "corpus"
    make_corpus(corpus, "--api-error-rate", "1")  # every session hits the limit once
    env = cli_env(tmp_path, corpus)
    now = parse_now(CORPUS_NOW)
    result = load_usage(env=env, cache_dir=paths.cache_dir(env), now=now, view="blocks")
    fields = ("timestamp", "tokens", "session_id", "project", "model", "limit_reset")

    def pick(e: Any) -> tuple[object, ...]:
        return tuple(getattr(e, f) for f in fields)

    every = [pick(e) for e in result.entries]
    assert [pick(e) for e in recent_entries(result.state, -(1 << 62))] == every
    for e in result.entries[::7]:
        since = [pick(x) for x in result.entries if x.timestamp >= e.timestamp]
        assert [pick(x) for x in recent_entries(result.state, to_ms(e.timestamp))] == since
    assert any(e.limit_reset is not None for e in result.entries)  # the corpus has some
    stamps = result.stamps()
    assert stamps == [r[0] for r in result.rows]
    daily = load_usage(env=env, cache_dir=paths.cache_dir(env), now=now, view="daily")
    assert daily.stamps() == [r[0] for r in daily.rows]


def test_auto_limit_from_block_sums_equals_the_one_from_entries(tmp_path: Path) -> None:
    """``--limit auto`` over the whole history is judged from per-block sums, not from a
    ``UsageEntry`` per message: the same limit, the same count of full blocks."""
    from sessionmd import paths
    from sessionmd.usage.api import load_usage
    from sessionmd.usage.blocks import history_auto_limit
    from sessionmd.usage.limits import auto_limit

    corpus = tmp_path / "corpus"
    make_corpus(corpus, "--api-error-rate", "1")  # every session hits the limit once
    env = cli_env(tmp_path, corpus)
    now = parse_now(CORPUS_NOW)
    result = load_usage(env=env, cache_dir=paths.cache_dir(env), now=now, view="blocks")
    stamps = result.stamps()
    middle = datetime.fromtimestamp(stamps[len(stamps) // 2] / 1000, tz=timezone.utc)
    every = ("input", "output", "cache_creation", "cache_read")
    seen = set()
    for when in (now, now + timedelta(days=2), middle, middle + timedelta(hours=3)):
        for measure in (("input", "output", "cache_creation"), every, ("output",)):
            expected = auto_limit(build_blocks(result.entries, when), when, measure)
            got = history_auto_limit(result, when, measure)
            assert got == expected
            assert got is not None
            seen.add(got.source.split()[-2])
    assert "full" in seen  # blocks that hit a limit were told apart from the others


def _status(
    held: list[UsageEntry], now: datetime, settings: Any, snapshot: Any, past: Any = None
) -> Any:
    """``compute_status`` over these entries and their blocks, in UTC."""
    from sessionmd.usage.status import compute_status

    return compute_status(
        entries=held,
        blocks=build_blocks(held, now),
        settings=settings,
        snapshot=snapshot,
        now=now,
        tz=timezone.utc,
        history=past,
    )


def test_objects_for_the_block_and_sums_for_the_week_give_the_same_status(
    tmp_path: Path,
) -> None:
    """``status`` makes objects only for the messages from the block holding 5 hours ago,
    and sums the rest of the week (``split_history``): every figure equals the one from an
    object per message, with and without official windows, at times inside blocks, in
    gaps, at 5-hour edges, a week on, and before messages dated in the future."""
    from sessionmd import paths
    from sessionmd.usage.api import load_usage
    from sessionmd.usage.snapshot import Snapshot, Window
    from sessionmd.usage.status import StatusSettings, status_json
    from sessionmd.usage.status_io import split_history

    corpus = tmp_path / "corpus"
    make_corpus(corpus, "--days", "9", "--now", "2026-11-29T23:00:00Z", "--api-error-rate", "0.5")
    env = cli_env(tmp_path, corpus)
    result = load_usage(
        env=env, cache_dir=paths.cache_dir(env), now=parse_now(CORPUS_NOW), view="blocks"
    )
    everything = result.entries
    stamps = result.stamps()
    at = [datetime.fromtimestamp(stamps[n] / 1000, tz=timezone.utc) for n in (0, 40, -60, -1)]
    times = [t + d for t in at for d in (timedelta(0), timedelta(minutes=7), FIVE_MS)]
    times += [at[-1] + timedelta(hours=5, minutes=1), at[-1] + timedelta(days=7, hours=1)]
    # Minutes into a block that follows another after a pause of 1 to 5 hours: the
    # official window reaches into the block before, whose messages set where the burn
    # rate starts.
    chained = [
        b.entries[0].timestamp + timedelta(minutes=10)
        for a, b in pairwise(build_blocks(everything, at[-1]))
        if not a.is_gap
        and not b.is_gap
        and timedelta(hours=1) < b.entries[0].timestamp - a.entries[-1].timestamp < FIVE_MS
    ]
    assert chained
    times += chained[:3]
    settings = StatusSettings(limit="200000", weekly_limit=3_000_000, reset_hour=9)
    checked = split = 0
    for now in times:
        official = [
            Snapshot(
                now - timedelta(minutes=1),
                Window(42.0, now + timedelta(minutes=minutes, seconds=17)),
                Window(61.0, now + timedelta(days=3, hours=5, seconds=3)),
            )
            for minutes in (11, 133)
        ]
        entries, past = split_history(result, now)
        assert len(entries) + len(past) <= len(everything)
        split += bool(entries) and len(past) > 0
        for snapshot in (None, *official):
            expected = _status(everything, now, settings, snapshot)
            got = _status(entries, now, settings, snapshot, past)
            assert status_json(got) == status_json(expected), now
            assert got.derived == expected.derived
            checked += expected.five_hour.used > 0 and expected.weekly.used > 0
    assert checked >= 6
    assert split >= 6  # and the week was really split between objects and sums


FIVE_MS = timedelta(hours=5)


def test_no_transcripts_split_into_nothing_complete_from_the_start(tmp_path: Path) -> None:
    """With no message at all the history is complete (a window may derive its limit),
    and there is nothing to sum or to hold."""
    from sessionmd.usage.api import load_usage
    from sessionmd.usage.status_io import EARLIEST, split_history

    (tmp_path / "projects").mkdir()
    now = parse_now(CORPUS_NOW)
    result = load_usage(data_dirs=[tmp_path], env={}, cache_dir=None, now=now, view="blocks")
    entries, past = split_history(result, now)
    assert entries == [] and len(past) == 0
    assert past.start == EARLIEST and past.end == now
    assert past.tokens_since(now - timedelta(days=7)).total == 0
