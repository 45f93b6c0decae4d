"""LocalZone (the status line's zone when none is configured) agrees with zoneinfo."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from sessionmd.usage.clock import LocalZone
from sessionmd.usage.status import format_clock, week_bounds


@pytest.fixture(params=["America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"])
def system_tz(request: pytest.FixtureRequest) -> Iterator[str]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_matches_zoneinfo_hour_by_hour_across_dst(system_tz: str) -> None:
    zone, local = ZoneInfo(system_tz), LocalZone()
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    for hours in range(0, 24 * 250, 7):
        when = start + timedelta(hours=hours)
        a, b = when.astimezone(zone), when.astimezone(local)
        assert (a.replace(tzinfo=None), a.utcoffset(), a.tzname()) == (
            b.replace(tzinfo=None),
            b.utcoffset(),
            b.tzname(),
        )
        assert format_clock(when, local) == format_clock(when, zone)


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc),  # New York 01:30 EDT
        datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc),  # New York 01:30 EST (again)
        datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc),  # Berlin 02:30 CEST
        datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc),  # Berlin 02:30 CET (again)
        datetime(2026, 3, 8, 7, 30, tzinfo=timezone.utc),  # New York: 01:59 -> 03:00
    ],
)
def test_repeated_and_skipped_hours(system_tz: str, when: datetime) -> None:
    zone, local = ZoneInfo(system_tz), LocalZone()
    a, b = when.astimezone(zone), when.astimezone(local)
    assert (a.replace(tzinfo=None), a.utcoffset(), a.tzname()) == (
        b.replace(tzinfo=None),
        b.utcoffset(),
        b.tzname(),
    )
    assert b.astimezone(timezone.utc) == when


def test_week_bounds_match(system_tz: str) -> None:
    zone, local = ZoneInfo(system_tz), LocalZone()
    for day in range(0, 300, 5):
        now = datetime(2026, 1, 1, 12, tzinfo=timezone.utc) + timedelta(days=day)
        assert week_bounds(now, local, 6, 9) == week_bounds(now, zone, 6, 9)
