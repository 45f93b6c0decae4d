"""The latest official ``rate_limits`` snapshot that Claude Code passed to the status line.

Claude Code (2.1.80 and later, Pro/Max, after the session's first reply) gives the status
line command ``{"rate_limits": {"five_hour": {"used_percentage": 23.5, "resets_at":
1738425600}, "seven_day": {...}}}``: percentages 0-100 and reset times in epoch seconds.
These are the only official quota figures a local tool gets, so the status line saves the
latest one under the state dir and ``sessionmd status`` reads it back.

A snapshot goes stale in two ways: its window resets (``resets_at`` passes), or usage
continues after it was taken without Claude Code passing a new one (``status`` run while
Claude Code is closed is fine: nothing was used since). :func:`is_fresh` checks both.

Standard library only: the status line imports this on every call.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sessionmd._typing import TYPE_CHECKING, NamedTuple
from sessionmd.usage.atomic import replacing

if TYPE_CHECKING:
    from typing import Any

SNAPSHOT_FILE = "rate_limits.json"
FIVE_HOURS = timedelta(hours=5)
SEVEN_DAYS = timedelta(days=7)
# A snapshot this recent is fresh even when transcripts show usage after it: Claude Code
# refreshes it on every reply, so a few minutes of lag is normal.
FRESH_FOR = timedelta(minutes=15)


class Window(NamedTuple):
    used_percentage: float
    resets_at: datetime  # UTC

    def start(self, length: timedelta) -> datetime:
        return self.resets_at - length


class Snapshot(NamedTuple):
    captured_at: datetime  # UTC, when the status line received it
    five_hour: Window | None
    seven_day: Window | None
    session_id: str | None = None


def _window(value: Any) -> Window | None:
    if not isinstance(value, dict):
        return None
    pct = value.get("used_percentage")
    resets = value.get("resets_at")
    if isinstance(pct, bool) or not isinstance(pct, (int, float)):
        return None
    if not 0 <= pct <= 1000:
        return None
    if isinstance(resets, bool):
        return None
    if isinstance(resets, (int, float)):
        if resets > 1e11:  # milliseconds, as some tools write
            resets = resets / 1000.0
        try:
            when = datetime.fromtimestamp(resets, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(resets, str):
        try:
            when = datetime.fromisoformat(resets.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            return None
        when = when.astimezone(timezone.utc)
    else:
        return None
    return Window(float(pct), when)


def parse_rate_limits(
    rate_limits: Any, captured_at: datetime, session_id: str | None = None
) -> Snapshot | None:
    """A snapshot from the ``rate_limits`` value of the status line's input, or None.

    Tolerant by design: a window that is missing or malformed is left out, and None is
    returned only when neither window is usable.
    """
    if not isinstance(rate_limits, dict):
        return None
    five = _window(rate_limits.get("five_hour"))
    seven = _window(rate_limits.get("seven_day"))
    if five is None and seven is None:
        return None
    return Snapshot(captured_at.astimezone(timezone.utc), five, seven, session_id)


def _window_json(window: Window | None) -> dict[str, float] | None:
    if window is None:
        return None
    return {"used_percentage": window.used_percentage, "resets_at": window.resets_at.timestamp()}


def to_json(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "version": 1,
        "captured_at": snapshot.captured_at.timestamp(),
        "session_id": snapshot.session_id,
        "rate_limits": {
            "five_hour": _window_json(snapshot.five_hour),
            "seven_day": _window_json(snapshot.seven_day),
        },
    }


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a reader sees the old file or the new one, never half of one."""
    with replacing(path) as out:
        out.write(json.dumps(data, separators=(",", ":")).encode("utf-8"))


def read_json(path: Path) -> Any:
    """The parsed file, or None when it is missing, unreadable or not JSON."""
    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read())
    except (OSError, ValueError):
        return None


def save_snapshot(state_dir: Path, snapshot: Snapshot) -> Path:
    path = state_dir / SNAPSHOT_FILE
    write_json_atomic(path, to_json(snapshot))
    return path


def load_snapshot(state_dir: Path) -> Snapshot | None:
    """The saved snapshot; None when there is none or the file is corrupt or foreign."""
    data = read_json(state_dir / SNAPSHOT_FILE)
    if not isinstance(data, dict) or data.get("version") != 1:
        return None
    captured = data.get("captured_at")
    if isinstance(captured, bool) or not isinstance(captured, (int, float)):
        return None
    try:
        when = datetime.fromtimestamp(captured, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    session = data.get("session_id")
    return parse_rate_limits(
        data.get("rate_limits"), when, session if isinstance(session, str) else None
    )


def age(snapshot: Snapshot, now: datetime) -> timedelta:
    return now - snapshot.captured_at


def is_fresh(
    window: Window | None,
    snapshot: Snapshot,
    now: datetime,
    last_usage_at: datetime | None,
) -> bool:
    """Whether a window of the snapshot still describes now.

    Fresh: the window has not reset, and either the snapshot is recent (``FRESH_FOR``) or
    the transcripts show no usage after it was taken (``last_usage_at``, None when they
    show none at all).
    """
    if window is None or now >= window.resets_at:
        return False
    if now - snapshot.captured_at <= FRESH_FOR:
        return True
    return last_usage_at is None or last_usage_at <= snapshot.captured_at


def format_age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m ago"
    return f"{seconds // 86400}d ago"
