"""Days in a timezone: midnight, DST changes, half- and quarter-hour zones."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
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
