"""The few ``sessionmd.yaml`` settings the status line needs, without pydantic.

``sessionmd.config`` validates the whole file with pydantic, which costs the status line
more than its whole time budget. Here the values the status line uses (quota, token
measure, timezone, weekly window) are read with PyYAML once per change of the file and
kept as plain JSON in the state dir, keyed by the file's path, size and mtime; later calls
read only that JSON. A value of the wrong type is dropped (``sessionmd status`` reports it
as an error; the status line must never fail).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sessionmd._typing import TYPE_CHECKING
from sessionmd.usage.snapshot import read_json, write_json_atomic

if TYPE_CHECKING:
    from typing import Any

CONFIG_FILE = "sessionmd.yaml"  # as sessionmd.config.CONFIG_FILE
CACHE_FILE = "config_cache.json"
KINDS = ("input", "output", "cache_creation", "cache_read")
KEEP = 32  # projects remembered


def find_root(start: Path) -> Path:
    """As :func:`sessionmd.config.find_root`, without importing pydantic."""
    here = start if start.is_dir() else start.parent
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file() or (folder / ".git").exists():
            return folder
    return here


def _int(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def _valid_quota(value: str | int) -> bool:
    from sessionmd.quota import parse_quota

    if isinstance(value, str) and value.strip().lower() == "auto":
        return True
    try:
        parse_quota(value, "sessionmd.yaml")
    except ValueError:
        return False
    return True


def _valid_zone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def pick(data: Any) -> dict[str, Any]:
    """The status line's settings from a parsed config mapping; wrong types are dropped."""
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    quota = data.get("quota")
    if isinstance(quota, (str, int)) and not isinstance(quota, bool) and _valid_quota(quota):
        out["quota"] = quota
    measure = data.get("token_measure")
    if isinstance(measure, list) and measure and all(k in KINDS for k in measure):
        out["token_measure"] = list(measure)
    tz = data.get("timezone")
    if isinstance(tz, str) and _valid_zone(tz):
        out["timezone"] = tz
    weekly = data.get("weekly")
    if isinstance(weekly, dict):
        week: dict[str, int] = {}
        for key, low, high in (
            ("limit", 1, 10**15),
            ("reset_weekday", 0, 6),
            ("reset_hour", 0, 23),
        ):
            value = _int(weekly.get(key), low, high)
            if value is not None:
                week[key] = value
        out["weekly"] = week
    return out


def load(root: Path, state_dir: Path) -> dict[str, Any]:
    """The settings of ``root/sessionmd.yaml`` ({} when there is none or it is broken)."""
    path = root / CONFIG_FILE
    try:
        st = os.stat(path)
    except OSError:
        return {}
    key = str(path)
    stamp = [st.st_size, st.st_mtime_ns]
    cache = read_json(state_dir / CACHE_FILE)
    if not isinstance(cache, dict):
        cache = {}
    hit = cache.get(key)
    if isinstance(hit, dict) and hit.get("stamp") == stamp and isinstance(hit.get("values"), dict):
        values: dict[str, Any] = hit["values"]
        return values
    import yaml

    try:
        values = pick(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        values = {}
    cache.pop(key, None)
    cache[key] = {"stamp": stamp, "values": values}
    while len(cache) > KEEP:
        cache.pop(next(iter(cache)))
    with contextlib.suppress(OSError):
        write_json_atomic(state_dir / CACHE_FILE, cache)
    return values
