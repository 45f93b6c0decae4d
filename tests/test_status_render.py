"""The rendered status display (plain) and status line for constructed windows, snapshotted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from status_helpers import blocks_of, entry

from sessionmd.usage.snapshot import Snapshot, Window
from sessionmd.usage.status import Status, StatusSettings, compute_status
from sessionmd.usage.status_render import bar, render_lines, render_text, statusline_text

UTC = timezone.utc
START = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
NOW = START + timedelta(minutes=200)


def status(snapshot: Snapshot | None = None, now: datetime = NOW, **kw: Any) -> Status:
    entries = [entry(START + timedelta(minutes=5 * i), 4000) for i in range(40)]
    return compute_status(
        entries=entries,
        blocks=blocks_of(entries, now),
        settings=StatusSettings(**kw),
        snapshot=snapshot,
        now=now,
        tz=ZoneInfo("America/New_York"),
    )


def test_danger_display_with_the_strategic_alert(snapshot: Any) -> None:
    text = render_text(
        status(limit="200000", weekly_limit=1_000_000, reset_weekday=4, reset_hour=9)
    )
    assert "! DANGER ZONE" in text and "STRATEGIC PLANNING TIME" in text
    assert text == snapshot


def test_official_display(snapshot: Any) -> None:
    snap = Snapshot(
        NOW - timedelta(minutes=3),
        Window(40.0, START + timedelta(hours=5)),
        Window(12.5, NOW + timedelta(days=2, hours=3)),
    )
    text = render_text(status(snap))
    assert "[official (3m ago)]" in text
    assert text == snapshot


def test_no_active_window_display(snapshot: Any) -> None:
    text = render_text(status(now=START + timedelta(hours=9), quota="max5"))
    assert "with your next message" in text
    assert text == snapshot


def test_zone_colours_reach_the_bar() -> None:
    lines = render_lines(status(limit="170000"))  # 94 %: CRITICAL
    usage = next(line for line in lines if line[0].startswith("Usage:"))
    assert usage[1] == "bold red"


def test_bar() -> None:
    assert bar(0, 10) == "[          ]"
    assert bar(50, 10) == "[█████     ]"
    assert bar(130, 10) == "[██████████]"


def test_statusline_text(snapshot: Any) -> None:
    estimated = status(limit="200000")
    official = status(
        Snapshot(
            NOW, Window(40.0, START + timedelta(hours=5)), Window(12.5, NOW + timedelta(days=2))
        )
    )
    lines = [
        statusline_text(estimated, 160_000, {}, colour=True),
        statusline_text(estimated, 160_000, {"NO_COLOR": "1"}, colour=True),
        statusline_text(official, None, {}, colour=False),
        statusline_text(status(now=START + timedelta(hours=9), quota="max5"), 0, {}, colour=False),
    ]
    assert lines[0].startswith("\x1b[38;5;208mDANGER\x1b[0m ~80% | 50m left | resets 13:00 EST")
    assert lines[1] == "DANGER ~80% | 50m left | resets 13:00 EST | session 160k"
    assert lines == snapshot
