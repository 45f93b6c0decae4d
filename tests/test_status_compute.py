"""compute_status under a controlled clock: used, percent, burn rate, runway, reset, zones,
official snapshots and derived limits, the weekly window across DST."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from status_helpers import blocks_of, entry

from sessionmd.usage.limits import Derived
from sessionmd.usage.models import TokenCounts, UsageEntry
from sessionmd.usage.snapshot import Snapshot, Window
from sessionmd.usage.status import (
    Status,
    StatusSettings,
    compute_status,
    format_duration,
    status_json,
    week_bounds,
)
from sessionmd.usage.status_render import render_text, statusline_text

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
START = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)  # a Friday; 08:00 in New York
NOW = START + timedelta(minutes=200)


def steady(count: int = 40, tokens: int = 4000, every: int = 5) -> list:
    """``count`` responses of ``tokens`` every ``every`` minutes from START."""
    return [entry(START + timedelta(minutes=every * i), tokens) for i in range(count)]


def run(
    entries: list,
    now: datetime = NOW,
    snapshot: Snapshot | None = None,
    tz: ZoneInfo = NY,
    **settings: object,
) -> Status:
    return compute_status(
        entries=entries,
        blocks=blocks_of(entries, now),
        settings=StatusSettings(**settings),  # type: ignore[arg-type]
        snapshot=snapshot,
        now=now,
        tz=tz,
    )


def test_estimated_window() -> None:
    # 40 responses of 4,000 tokens, one every 5 minutes from 13:00 to 16:15; now 16:20
    s = run(steady(), limit="200000")
    five = s.five_hour
    assert (five.used, five.limit, five.remaining) == (160_000, 200_000, 40_000)
    assert five.percent == pytest.approx(80.0)
    assert five.percent_source == "estimated"
    assert five.limit_source == "explicit"
    assert five.reset_at == START + timedelta(hours=5)
    assert five.reset_source == "block end (estimated)"
    # the last 30 minutes, 15:50 to 16:20, hold 6 responses (15:50 ... 16:15)
    assert s.burn_rate == pytest.approx(6 * 4000 / 30)
    assert s.runway_minutes == pytest.approx(50.0)
    assert s.runway_responses == 10
    assert s.minutes_to_reset == pytest.approx(100)
    assert s.zone is not None and s.zone.name == "DANGER"
    assert (s.next_alert, s.tokens_to_next_alert) == (90.0, 20_000)
    assert s.alert[0] == "80% Quota Used - STRATEGIC PLANNING TIME"
    assert "3. Schedule automation (session can auto-start at 13:00 EST)" in s.alert
    assert not s.official and s.derived == ()


@pytest.mark.parametrize(("limit", "zone"), [("250000", "MODERATE"), ("170000", "CRITICAL")])
def test_alert_only_in_danger(limit: str, zone: str) -> None:
    s = run(steady(), limit=limit)
    assert s.zone is not None and s.zone.name == zone
    assert s.alert == ()


def test_burn_rate_early_in_the_window_uses_minutes_since_first_entry() -> None:
    entries = [entry(START + timedelta(minutes=m), 3000) for m in (0, 5, 10)]
    s = run(entries, now=START + timedelta(minutes=10), limit="100000")
    assert s.burn_rate == pytest.approx(9000 / 10)
    one = run(entries[:1], now=START, limit="100000")
    assert one.burn_rate == pytest.approx(3000)  # at least one minute


def test_idle_window_has_no_runway() -> None:
    s = run(steady(count=6), now=START + timedelta(hours=2), limit="100000")
    assert s.burn_rate == 0.0
    assert s.runway_minutes is None and s.runway_responses is None
    assert s.five_hour.used == 24_000


def test_no_active_block() -> None:
    s = run(steady(count=3), now=START + timedelta(hours=6), limit="100000")
    assert not s.active
    assert s.five_hour.used == 0 and s.five_hour.reset_at is None
    assert s.zone is not None and s.zone.name == "FRESH"
    assert s.burn_rate is None


def test_future_entries_are_ignored() -> None:
    entries = [*steady(count=10), entry(NOW + timedelta(hours=1), 10**6)]
    s = run(entries, limit="100000")
    assert s.five_hour.used == 40_000


def test_runway_past_reset() -> None:
    s = run(steady(), limit="10000000")
    assert s.runway_past_reset


def snap(
    pct: float, resets_at: datetime, captured: datetime = NOW, week: Window | None = None
) -> Snapshot:
    return Snapshot(captured, Window(pct, resets_at), week)


def test_fresh_official_snapshot_wins_and_derives_the_limit() -> None:
    reset = START + timedelta(hours=5)
    s = run(steady(), snapshot=snap(40.0, reset, NOW - timedelta(minutes=2)), quota="max5")
    five = s.five_hour
    assert s.official
    assert five.percent == 40.0 and five.percent_source == "official (2m ago)"
    assert five.limit == 400_000 and five.limit_source == "official: window tokens / official %"
    assert five.remaining == 240_000
    assert five.reset_at == reset and five.reset_source == "official"
    assert s.zone is not None and s.zone.name == "GOOD"
    assert s.derived == (Derived("five_hour", 400_000, NOW, 160_000, 40.0, reset),)
    assert s.snapshot_age_seconds == 120


def test_official_window_counts_tokens_since_its_start() -> None:
    # official window started at 14:00: the first 12 responses (13:00-13:55) are outside it
    reset = START + timedelta(hours=6)
    s = run(steady(), snapshot=snap(50.0, reset))
    assert s.five_hour.used == 112_000
    assert s.five_hour.limit == 224_000


def test_explicit_limit_beats_the_official_percentage() -> None:
    s = run(steady(), snapshot=snap(40.0, START + timedelta(hours=5)), limit="320000")
    assert s.five_hour.percent == pytest.approx(50.0)
    assert s.five_hour.percent_source == "estimated (explicit limit)"
    assert s.five_hour.reset_source == "official"


def test_small_official_share_keeps_its_percent_but_not_a_derived_limit() -> None:
    s = run(
        steady(count=5),
        now=START + timedelta(minutes=25),
        snapshot=snap(5.0, START + timedelta(hours=5), START + timedelta(minutes=24)),
        quota=200_000,
    )
    assert s.five_hour.percent == 5.0
    assert s.five_hour.limit_source == "config"
    assert s.five_hour.remaining == 190_000
    assert s.derived == ()


def test_stale_snapshot_falls_back_to_the_saved_derived_limit() -> None:
    old = snap(40.0, START + timedelta(hours=1), START)  # that window has reset
    saved = {
        "five_hour": Derived(
            "five_hour", 320_000, datetime(2026, 11, 20, 12, tzinfo=UTC), 1, 40.0, START
        )
    }
    s = run(steady(), snapshot=old, derived=saved, quota="pro")
    assert not s.official
    assert s.five_hour.limit == 320_000
    assert s.five_hour.limit_source == "derived 2026-11-20"
    assert s.five_hour.percent == pytest.approx(50.0)
    assert s.five_hour.percent_source == "estimated"


def test_old_snapshot_with_usage_since_is_not_official() -> None:
    reset = START + timedelta(hours=5)
    s = run(steady(), snapshot=snap(10.0, reset, START + timedelta(minutes=30)), limit="max20")
    assert not s.official


def test_incomplete_entries_do_not_derive() -> None:
    entries = steady()
    s = compute_status(
        entries=entries,
        blocks=blocks_of(entries, NOW),
        settings=StatusSettings(),
        snapshot=snap(40.0, START + timedelta(hours=5), week=Window(20.0, NOW + timedelta(days=2))),
        now=NOW,
        tz=NY,
        complete_since=START,
    )
    assert [d.window for d in s.derived] == ["five_hour"]


# -- weekly window


def test_week_bounds_configured_day_and_hour() -> None:
    # Wednesday 09:00 New York; now is Friday 27 Nov 11:20 EST
    start, end = week_bounds(NOW, NY, 2, 9)
    assert start == datetime(2026, 11, 25, 9, tzinfo=NY)
    assert end == datetime(2026, 12, 2, 9, tzinfo=NY)
    # the same weekday but before the hour: last week's window
    start, _ = week_bounds(datetime(2026, 11, 25, 13, tzinfo=UTC), NY, 2, 9)
    assert start == datetime(2026, 11, 18, 9, tzinfo=NY)
    # exactly at the start: this week's
    start, _ = week_bounds(datetime(2026, 11, 25, 14, tzinfo=UTC), NY, 2, 9)
    assert start == datetime(2026, 11, 25, 9, tzinfo=NY)


@pytest.mark.parametrize(
    ("now", "hours"),
    [
        (datetime(2026, 10, 30, 12, tzinfo=UTC), 169),  # DST ends Sun 1 Nov 2026
        (datetime(2026, 3, 6, 12, tzinfo=UTC), 167),  # DST starts Sun 8 Mar 2026
        (datetime(2026, 11, 27, 12, tzinfo=UTC), 168),
    ],
)
def test_week_across_dst_keeps_the_wall_clock(now: datetime, hours: int) -> None:
    start, end = week_bounds(now, NY, 0, 9)
    assert (end - start) == timedelta(hours=hours)
    assert start.astimezone(NY).hour == 9 and end.astimezone(NY).hour == 9
    assert start.astimezone(NY).weekday() == 0


def test_weekly_usage_and_limit_from_config() -> None:
    before = entry(datetime(2026, 11, 25, 13, 59, tzinfo=UTC), 50_000)  # 08:59 Wed: last week
    after = entry(datetime(2026, 11, 25, 14, 0, tzinfo=UTC), 70_000)  # 09:00 Wed
    s = run([before, after, *steady()], reset_weekday=2, reset_hour=9, weekly_limit=1_000_000)
    w = s.weekly
    assert w.used == 230_000
    assert w.limit == 1_000_000 and w.limit_source == "config"
    assert w.percent == pytest.approx(23.0) and w.zone == "EXCELLENT"
    assert w.reset_at == datetime(2026, 12, 2, 14, tzinfo=UTC)
    assert w.reset_source == "config weekly (estimated)"


def test_weekly_without_limit_shows_usage_only() -> None:
    s = run(steady())
    assert s.weekly.used == 160_000
    assert s.weekly.limit is None and s.weekly.percent is None
    assert s.weekly.percent_source == "no limit set"


def test_weekly_official() -> None:
    week_reset = NOW + timedelta(days=2)
    s = run(
        steady(), snapshot=snap(40.0, START + timedelta(hours=5), week=Window(16.0, week_reset))
    )
    w = s.weekly
    assert w.percent == 16.0 and w.percent_source == "official (0s ago)"
    assert w.reset_at == week_reset and w.reset_source == "official"
    assert w.limit == 1_000_000
    assert [d.window for d in s.derived] == ["five_hour", "seven_day"]


def test_json_has_the_same_figures() -> None:
    s = run(steady(), limit="200000")
    data = status_json(s)
    assert data["fiveHour"]["usedTokens"] == 160_000
    assert data["fiveHour"]["percent"] == 80.0
    assert data["fiveHour"]["resetsAt"] == "2026-11-27T13:00:00-05:00"
    assert data["zone"] == "DANGER"
    assert data["tokensToNextAlert"] == 20_000
    assert data["timezone"] == "America/New_York"
    assert data["weekly"]["limitTokens"] is None


@pytest.mark.parametrize(
    ("minutes", "text"), [(0, "0m"), (54.4, "54m"), (78, "1h 18m"), (2900, "2d 0h")]
)
def test_format_duration(minutes: float, text: str) -> None:
    assert format_duration(minutes) == text


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3 * 24 * 60), st.integers(0, 50_000)), min_size=0, max_size=60
    ),
    st.integers(1_000, 2_000_000),
    st.integers(0, 3 * 24 * 60 + 600),
)
def test_invariants(points: list[tuple[int, int]], limit: int, now_min: int) -> None:
    base = START - timedelta(days=3)
    entries = sorted(
        (entry(base + timedelta(minutes=m), t) for m, t in points), key=lambda e: e.timestamp
    )
    now = base + timedelta(minutes=now_min)
    s = run(entries, now=now, limit=str(limit))
    five = s.five_hour
    assert five.limit == limit and five.percent is not None and five.remaining is not None
    assert five.percent == pytest.approx(five.used * 100 / limit)
    assert five.remaining == max(0, limit - five.used)
    assert s.zone is not None and s.zone.name == five.zone
    assert s.tokens_to_next_alert is None or s.tokens_to_next_alert >= 0
    assert s.runway_minutes is None or s.runway_minutes >= 0
    assert s.burn_rate is None or s.burn_rate >= 0
    past = [e for e in entries if e.timestamp <= now]
    assert five.used <= sum(
        e.tokens.input + e.tokens.output + e.tokens.cache_creation for e in past
    )
    if five.reset_at is not None:
        assert five.start is not None and five.start <= now < five.reset_at
    assert s.weekly.start is not None and s.weekly.reset_at is not None
    assert s.weekly.start <= now < s.weekly.reset_at
    assert bool(s.alert) == (s.zone.name == "DANGER")


def limit_message(when: datetime, reset: datetime) -> UsageEntry:
    """The synthetic 0-token line of "Claude AI usage limit reached|<epoch>"."""
    return UsageEntry(when, TokenCounts(), "s1", "-home-dev-app", "<synthetic>", limit_reset=reset)


def test_limit_message_means_the_limit_is_reached() -> None:
    reset = START + timedelta(hours=5)
    entries = [*steady(count=30), limit_message(START + timedelta(minutes=146), reset)]
    s = run(entries, limit="max20")  # 220k: the estimate alone would say 55 %
    five = s.five_hour
    assert five.percent == 100.0 and five.percent_source == "limit reached (transcript)"
    assert five.remaining == 0 and five.zone == "EMERGENCY"
    assert five.reset_at == reset and five.reset_source == "limit message (transcript)"
    assert s.derived == (Derived("five_hour", 120_000, NOW, 120_000, 100.0, reset),)
    line = statusline_text(s, None, {}, colour=False)
    assert line == "EMERGENCY 100% | limit reached | resets 13:00 EST"
    text = render_text(s)
    assert "Est. Runway:  none: the limit is reached" in text
    assert "[limit message (transcript)]" in text


@pytest.mark.parametrize(
    ("reset_after", "why"),
    [(timedelta(days=2), "a weekly limit"), (timedelta(minutes=30), "already reset")],
)
def test_limit_messages_that_do_not_count(reset_after: timedelta, why: str) -> None:
    sent = START + timedelta(minutes=146)
    s = run([*steady(count=30), limit_message(sent, sent + reset_after)], limit="max20")
    assert s.five_hour.percent_source == "estimated", why
    assert s.derived == ()
