"""Days in a timezone: midnight, DST changes, half- and quarter-hour zones."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from usage_support import assistant_line, write_session

from sessionmd.usage.api import load_usage
from sessionmd.usage.daily import daily

NOW = datetime(2027, 1, 1, tzinfo=timezone.utc)


def _days(tmp_path: Path, stamps: list[str], zone: str) -> dict[str, int]:
    root = tmp_path / "c"
    lines = [
        assistant_line(ts=ts, mid=f"m{n}", rid=f"r{n}", out=10**n) for n, ts in enumerate(stamps)
    ]
    write_session(root, "p", "s", lines)
    result = load_usage(data_dirs=[root], env={}, cache_dir=None, now=NOW, view="daily")
    return {d: t.output for d, t in daily(result, ZoneInfo(zone)).items()}


@pytest.mark.parametrize(
    ("stamps", "zone", "expected"),
    [
        # New York, spring forward on 2026-03-08 at 07:00 UTC (02:00 EST -> 03:00 EDT).
        (
            ["2026-03-08T04:59:59.000Z", "2026-03-08T05:00:00.000Z", "2026-03-09T03:59:00.000Z",
             "2026-03-09T04:00:00.000Z"],
            "America/New_York",
            {"2026-03-07": 1, "2026-03-08": 110, "2026-03-09": 1000},
        ),
        # New York, fall back on 2026-11-01 at 06:00 UTC: that day lasts 25 hours.
        (
            ["2026-11-01T03:59:00.000Z", "2026-11-01T04:00:00.000Z", "2026-11-02T04:59:00.000Z",
             "2026-11-02T05:00:00.000Z"],
            "America/New_York",
            {"2026-10-31": 1, "2026-11-01": 110, "2026-11-02": 1000},
        ),
        # India (+05:30): midnight is 18:30 UTC.
        (
            ["2026-06-01T18:29:59.999Z", "2026-06-01T18:30:00.000Z"],
            "Asia/Kolkata",
            {"2026-06-01": 1, "2026-06-02": 10},
        ),
        # Nepal (+05:45): midnight is 18:15 UTC.
        (
            ["2026-06-01T18:14:00.000Z", "2026-06-01T18:16:00.000Z"],
            "Asia/Kathmandu",
            {"2026-06-01": 1, "2026-06-02": 10},
        ),
        (
            ["2026-06-01T23:59:59.999Z", "2026-06-02T00:00:00.000Z"],
            "UTC",
            {"2026-06-01": 1, "2026-06-02": 10},
        ),
    ],
)  # fmt: skip
def test_days_follow_local_midnight(
    tmp_path: Path, stamps: list[str], zone: str, expected: dict[str, int]
) -> None:
    assert _days(tmp_path, stamps, zone) == expected


_ZONES = ["UTC", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "America/Santiago"]


@settings(max_examples=300, deadline=None)
@given(
    ms=st.integers(min_value=-62_135_596_800_000, max_value=253_402_300_799_000),
    zone=st.sampled_from(_ZONES),
)
def test_day_names_are_strftimes_for_any_time_and_zone(ms: int, zone: str) -> None:
    """The fast day name (isoformat, memoised per quarter hour) is strftime's, year 1 to 9999."""
    from sessionmd.usage.report import day_of

    tz = ZoneInfo(zone)
    try:
        when = datetime.fromtimestamp(ms // 900_000 * 900, tz=tz)
    except (OverflowError, ValueError, OSError):  # the zone moves it outside years 1 to 9999
        return
    assert day_of(tz)(ms) == when.strftime("%Y-%m-%d")


def test_the_garbage_collector_is_off_while_usage_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discovery and the scan run with the collector paused, and it is on again after."""
    import gc

    from sessionmd.usage import api

    write_session(tmp_path, "p", "s1", [assistant_line(ts="2026-01-02T03:04:05Z", mid="m1")])
    seen: list[bool] = []
    real = api.discover

    def watched(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "discover", watched)
    assert gc.isenabled()
    got = load_usage(
        data_dirs=[tmp_path], env={}, cache_dir=None, now=datetime.now(timezone.utc), view="daily"
    )
    assert seen == [False] and gc.isenabled()
    assert got.stats.lines_decoded == 1
