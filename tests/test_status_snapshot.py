"""The rate_limits snapshot: parsing Claude Code's shape, atomic save, corrupt files, freshness."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from sessionmd.usage import snapshot as snap

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)
RESET = NOW + timedelta(hours=2)
RATE_LIMITS = {
    "five_hour": {"used_percentage": 23.5, "resets_at": int(RESET.timestamp())},
    "seven_day": {"used_percentage": 41.2, "resets_at": int((NOW + timedelta(days=3)).timestamp())},
}


def test_parse_claude_code_shape() -> None:
    s = snap.parse_rate_limits(RATE_LIMITS, NOW, "abc")
    assert s is not None
    assert s.five_hour == snap.Window(23.5, RESET)
    assert s.seven_day is not None and s.seven_day.used_percentage == 41.2
    assert s.session_id == "abc"


def test_parse_keeps_a_lone_window_and_rejects_garbage() -> None:
    only = snap.parse_rate_limits({"seven_day": RATE_LIMITS["seven_day"]}, NOW)
    assert only is not None and only.five_hour is None and only.seven_day is not None
    assert snap.parse_rate_limits(None, NOW) is None
    assert snap.parse_rate_limits("x", NOW) is None
    assert snap.parse_rate_limits({"five_hour": {"used_percentage": "high"}}, NOW) is None
    assert (
        snap.parse_rate_limits({"five_hour": {"used_percentage": True, "resets_at": 1}}, NOW)
        is None
    )
    assert snap.parse_rate_limits({"five_hour": {"used_percentage": 5}}, NOW) is None


def test_parse_accepts_iso_and_millisecond_resets() -> None:
    iso = snap.parse_rate_limits(
        {"five_hour": {"used_percentage": 10, "resets_at": "2026-11-27T17:00:00Z"}}, NOW
    )
    ms = snap.parse_rate_limits(
        {"five_hour": {"used_percentage": 10, "resets_at": RESET.timestamp() * 1000}}, NOW
    )
    assert iso is not None and iso.five_hour is not None and iso.five_hour.resets_at == RESET
    assert ms is not None and ms.five_hour is not None and ms.five_hour.resets_at == RESET


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    s = snap.parse_rate_limits(RATE_LIMITS, NOW, "abc")
    assert s is not None
    path = snap.save_snapshot(tmp_path / "state", s)
    assert path.exists()
    assert snap.load_snapshot(tmp_path / "state") == s
    # atomic: no temporary file is left behind
    assert [p.name for p in path.parent.iterdir()] == [snap.SNAPSHOT_FILE]


def test_load_missing_corrupt_or_foreign(tmp_path: Path) -> None:
    assert snap.load_snapshot(tmp_path) is None
    path = tmp_path / snap.SNAPSHOT_FILE
    path.write_bytes(b'{"version":1,"captured_at":17')  # half-written
    assert snap.load_snapshot(tmp_path) is None
    path.write_bytes(b"\xff\xfe garbage")
    assert snap.load_snapshot(tmp_path) is None
    path.write_text(json.dumps({"version": 99, "captured_at": 1, "rate_limits": RATE_LIMITS}))
    assert snap.load_snapshot(tmp_path) is None
    path.write_text(json.dumps([1, 2, 3]))
    assert snap.load_snapshot(tmp_path) is None


def test_save_replaces_a_corrupt_file(tmp_path: Path) -> None:
    (tmp_path / snap.SNAPSHOT_FILE).write_text("not json")
    s = snap.parse_rate_limits(RATE_LIMITS, NOW)
    assert s is not None
    snap.save_snapshot(tmp_path, s)
    assert snap.load_snapshot(tmp_path) == s


def test_freshness() -> None:
    s = snap.parse_rate_limits(RATE_LIMITS, NOW)
    assert s is not None and s.five_hour is not None
    w = s.five_hour
    # recent: fresh even with usage after it
    assert snap.is_fresh(w, s, NOW + timedelta(minutes=10), NOW + timedelta(minutes=9))
    # old, but nothing used since: still fresh
    assert snap.is_fresh(w, s, NOW + timedelta(minutes=90), NOW - timedelta(minutes=1))
    assert snap.is_fresh(w, s, NOW + timedelta(minutes=90), None)
    # old and usage since: stale
    assert not snap.is_fresh(w, s, NOW + timedelta(minutes=90), NOW + timedelta(minutes=60))
    # the window reset: stale whatever else
    assert not snap.is_fresh(w, s, RESET, None)
    assert not snap.is_fresh(None, s, NOW, None)


def test_format_age() -> None:
    assert snap.format_age(timedelta(seconds=12)) == "12s ago"
    assert snap.format_age(timedelta(minutes=5)) == "5m ago"
    assert snap.format_age(timedelta(hours=2, minutes=3)) == "2h 3m ago"
    assert snap.format_age(timedelta(days=3)) == "3d ago"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {},
            optional={
                "five_hour": st.fixed_dictionaries(
                    {}, optional={"used_percentage": json_values, "resets_at": json_values}
                ),
                "seven_day": json_values,
            },
        ),
    )
)
def test_parse_never_raises(value: object) -> None:
    s = snap.parse_rate_limits(value, NOW)
    assert s is None or s.five_hour is not None or s.seven_day is not None
