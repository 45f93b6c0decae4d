"""Clock and time zones for ``status`` and the status line, from the standard library only.

``$SESSIONMD_NOW`` (tests, demos) or the real clock; a zone by IANA name, the system's, or
:class:`LocalZone`, which the status line uses because ``zoneinfo`` costs it milliseconds
to import. Kept apart from ``status_io`` so the status line imports only this.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone, tzinfo

from sessionmd.errors import ConfigError

NOW_ENV = "SESSIONMD_NOW"  # tests and demos: pretend it is this ISO time


def parse_now(text: str, origin: str = NOW_ENV) -> datetime:
    """An ISO 8601 time with an offset (``Z`` allowed), as UTC."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"not an ISO 8601 time: {text!r}", origin) from None
    if when.tzinfo is None:
        raise ConfigError(f"time needs an offset, e.g. {text}Z: {text!r}", origin)
    return when.astimezone(timezone.utc)


def clock(env: Mapping[str, str], override: str | None = None) -> datetime:
    """``--now``, else ``$SESSIONMD_NOW``, else the real clock."""
    if override:
        return parse_now(override, "--now")
    if env.get(NOW_ENV):
        return parse_now(env[NOW_ENV])
    return datetime.now(timezone.utc)


class LocalZone(tzinfo):
    """The system's local time, right for each instant (DST included), from ``time``.

    The status line uses it when no zone is configured: ``zoneinfo`` imports ``sysconfig``,
    which costs it milliseconds, and it shows clock times only (the zone's abbreviation
    names them). ``sessionmd status`` names the IANA zone instead (:func:`system_zone`).
    """

    @staticmethod
    def _stamps(dt: datetime) -> list[float]:
        """The instants whose local wall time is ``dt``'s: two in the repeated hour when
        clocks go back (earlier first), one otherwise (or a best guess in a skipped hour)."""
        found: list[float] = []
        for isdst in (1, 0):
            fields = (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, 0, 0, isdst)
            stamp = time.mktime(fields)
            if time.localtime(stamp)[:6] == fields[:6] and stamp not in found:
                found.append(stamp)
        if not found:
            fields = (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, 0, 0, -1)
            found.append(time.mktime(fields))
        return sorted(found)

    def _local(self, dt: datetime) -> time.struct_time:
        stamps = self._stamps(dt)
        # fold=1: the second of two equal wall times, as fromutc marks it
        return time.localtime(stamps[-1] if dt.fold else stamps[0])

    def utcoffset(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return timedelta(seconds=time.localtime().tm_gmtoff)
        return timedelta(seconds=self._local(dt).tm_gmtoff)

    def dst(self, dt: datetime | None) -> timedelta:
        local = time.localtime() if dt is None else self._local(dt)
        return timedelta(hours=1) if local.tm_isdst > 0 else timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        local = time.localtime() if dt is None else self._local(dt)
        return local.tm_zone

    def fromutc(self, dt: datetime) -> datetime:
        stamp = dt.replace(tzinfo=timezone.utc).timestamp()
        local = time.localtime(stamp)
        wall = dt.replace(tzinfo=None) + timedelta(seconds=local.tm_gmtoff)
        stamps = self._stamps(wall.replace(microsecond=0))
        if len(stamps) == 2 and int(stamp) == int(stamps[1]):
            wall = wall.replace(fold=1)  # the repeated hour when clocks go back
        return wall.replace(tzinfo=self)


def system_zone(env: Mapping[str, str]) -> tzinfo:
    """The system's zone as an IANA zone where it can be named, so DST is right."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = env.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        target = os.path.realpath("/etc/localtime")  # may be a chain of links
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        try:
            return ZoneInfo(target.split("zoneinfo/", 1)[1])
        except (ZoneInfoNotFoundError, ValueError):
            pass
    local = datetime.now().astimezone().tzinfo
    return local if local is not None else timezone.utc


def resolve_zone(name: str | None, env: Mapping[str, str], origin: str = "--timezone") -> tzinfo:
    """``--timezone`` or the config's zone by IANA name; the system's when None."""
    if not name:
        return system_zone(env)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name.upper() == "UTC":
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {name!r} (not an IANA time zone name)", origin
        ) from None
