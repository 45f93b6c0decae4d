"""Quota status of the current 5-hour window and 7-day window: pure computation.

Everything here is a function of its arguments (entries, blocks, limit settings, the
saved snapshot, the clock, the zone), so ``status``, ``status --watch``, the status line
and tests all compute the same figures. Standard library only: the status line calls it.

Definitions (the README states them too):

- Tokens are counted in the project's token measure (``token_measure``, default input +
  output + cache creation), the same measure limits are in.
- Burn rate: tokens of the current window's entries over the last 30 minutes, divided by
  30 minutes; when the window's first entry is less than 30 minutes old, by the minutes
  since that entry (at least one). No entry in the last 30 minutes: 0, runway unknown.
- Runway: remaining tokens / burn rate, in minutes; also in responses, at the average
  size of the responses in the burn window.
- With a fresh official snapshot the percentage and reset time are Claude Code's; the
  transcripts give the used tokens, the burn rate and runway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta, timezone, tzinfo

from sessionmd._typing import TYPE_CHECKING, NamedTuple
from sessionmd.usage import zones
from sessionmd.usage.limits import (
    DEFAULT_MEASURE,
    AutoSource,
    Derived,
    Limit,
    derive_limit,
    measure_tokens,
    resolve_limit,
    resolve_weekly_limit,
)
from sessionmd.usage.models import Block, TokenCounts, UsageEntry
from sessionmd.usage.snapshot import (
    FIVE_HOURS,
    SEVEN_DAYS,
    Snapshot,
    Window,
    format_age,
    is_fresh,
)

if TYPE_CHECKING:
    from typing import Any, Protocol

    class History(Protocol):
        """Token sums of the time before the entries: ``live.History`` (the status line's
        5-minute buckets) or ``past_sums.PastSums`` (exact, ``status``)."""

        @property
        def start(self) -> datetime: ...  # sums are complete from here

        @property
        def end(self) -> datetime: ...  # the first entry is at or after this

        def tokens_since(self, since: datetime) -> TokenCounts: ...


BURN_WINDOW = timedelta(minutes=30)


class StatusSettings(NamedTuple):
    """What the user chose: command-line options over ``sessionmd.yaml`` over defaults."""

    limit: str | None = None  # --limit: N, preset or auto
    quota: int | str | None = None  # config quota
    measure: tuple[str, ...] = DEFAULT_MEASURE
    weekly_limit: int | None = None  # config weekly.limit
    weekly_explicit: int | None = None  # --weekly-limit
    reset_weekday: int = 0  # 0 = Monday
    reset_hour: int = 0
    derived: Mapping[str, Derived] | None = None  # saved derived limits
    auto: AutoSource = None  # a saved auto limit or a function (the status line), else computed


class WindowStatus(NamedTuple):
    """One quota window (the 5-hour block or the 7-day week) with the source of each figure."""

    name: str  # "5-hour" | "7-day"
    start: datetime | None
    reset_at: datetime | None
    reset_source: str
    used: int
    limit: int | None
    limit_source: str | None
    percent: float | None
    percent_source: str  # "official (2m ago)" | "estimated"
    remaining: int | None
    zone: str | None


class Status(NamedTuple):
    now: datetime
    tz: tzinfo
    tz_name: str
    measure: tuple[str, ...]
    active: bool  # a 5-hour window is running (a block, or an official window)
    five_hour: WindowStatus
    weekly: WindowStatus
    zone: zones.Zone | None
    actions: tuple[str, ...]
    burn_rate: float | None  # tokens per minute, in the measure
    burn_source: str
    runway_minutes: float | None
    runway_responses: int | None
    minutes_to_reset: float | None
    next_alert: float | None
    tokens_to_next_alert: int | None
    alert: tuple[str, ...]  # the 80 % strategic planning alert, at DANGER only
    official: bool
    snapshot_age_seconds: float | None
    derived: tuple[Derived, ...]  # new derived limits for the caller to save
    limit: Limit  # the 5-hour limit used, by precedence

    @property
    def runway_past_reset(self) -> bool:
        """The window resets before the remaining tokens run out at this pace."""
        return (
            self.runway_minutes is not None
            and self.minutes_to_reset is not None
            and self.runway_minutes >= self.minutes_to_reset
        )


# -- time helpers -----------------------------------------------------------------------


def tz_label(tz: tzinfo) -> str:
    """The IANA name of a zone where it has one, else its abbreviation."""
    key = getattr(tz, "key", None)
    if isinstance(key, str):
        return key
    return datetime.now(tz).tzname() or "UTC"


def format_clock(when: datetime, tz: tzinfo) -> str:
    """``18:00 CET``: the local clock time and the zone's abbreviation."""
    local = when.astimezone(tz)
    return f"{local:%H:%M} {local.tzname()}"


def format_duration(minutes: float) -> str:
    """``78`` -> ``1h 18m``; ``2900`` -> ``2d 0h``."""
    total = max(0, round(minutes))
    days, rest = divmod(total, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"


def week_bounds(now: datetime, tz: tzinfo, weekday: int, hour: int) -> tuple[datetime, datetime]:
    """The configured 7-day window holding ``now``: it starts at ``hour`` local time on
    ``weekday`` (0 = Monday) and ends at the same local time a week later, so across a
    DST change it is 167 or 169 hours long, as a wall-clock schedule is."""
    local = now.astimezone(tz)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    start = datetime.combine(day, time(hour), tzinfo=tz)
    if start > now:
        day -= timedelta(days=7)
        start = datetime.combine(day, time(hour), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=7), time(hour), tzinfo=tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


# -- core -------------------------------------------------------------------------------


def active_block(blocks: Sequence[Block], now: datetime) -> Block | None:
    """The non-gap block whose 5 hours contain ``now``."""
    for block in reversed(blocks):
        if not block.is_gap and block.start <= now < block.end:
            return block
    return None


def limit_hit(entries: Sequence[UsageEntry], now: datetime) -> UsageEntry | None:
    """The latest "Claude AI usage limit reached|<epoch>" entry whose reset is still ahead.

    Only a reset within 5 hours of the message counts: a later one is a weekly limit.
    """
    for e in reversed(entries):
        reset = e.limit_reset
        if reset is not None and e.timestamp <= now < reset and reset - e.timestamp <= FIVE_HOURS:
            return e
    return None


def session_tokens(
    entries: Sequence[UsageEntry], session_id: str, measure: Sequence[str] = DEFAULT_MEASURE
) -> int:
    return sum(measure_tokens(e.tokens, measure) for e in entries if e.session_id == session_id)


def _used_since(
    entries: Sequence[UsageEntry],
    start: datetime,
    measure: Sequence[str],
    history: History | None = None,
) -> int:
    """Tokens since ``start``: the entries', plus the history's sums before them."""
    used = sum(measure_tokens(e.tokens, measure) for e in entries if e.timestamp >= start)
    if history is not None and start < history.end:
        used += measure_tokens(history.tokens_since(start), measure)
    return used


def _burn(
    window_entries: Sequence[UsageEntry], now: datetime, measure: Sequence[str]
) -> tuple[float | None, float | None]:
    """(tokens per minute, average tokens per response) over the burn window."""
    if not window_entries:
        return None, None
    first = min(e.timestamp for e in window_entries)
    since = max(now - BURN_WINDOW, first)
    recent = [e for e in window_entries if e.timestamp >= now - BURN_WINDOW]
    minutes = max(1.0, (now - since).total_seconds() / 60.0)
    if not recent:
        return 0.0, None
    tokens = sum(measure_tokens(e.tokens, measure) for e in recent)
    return tokens / minutes, tokens / len(recent)


def _window_status(
    name: str,
    start: datetime | None,
    reset_at: datetime | None,
    reset_source: str,
    used: int,
    limit: Limit | None,
    official: Window | None,
    official_label: str,
    reached: bool = False,
) -> WindowStatus:
    if reached and official is None:
        # Claude Code wrote "usage limit reached": whatever the limit estimate says, it is 100 %
        percent: float | None = max(100.0, used * 100.0 / limit.tokens if limit else 100.0)
        source = "limit reached (transcript)"
        remaining: int | None = 0
    elif official is not None:
        percent = official.used_percentage
        source = official_label
        remaining = (
            None
            if limit is None
            else max(0, round(limit.tokens * (100.0 - official.used_percentage) / 100.0))
        )
        if limit is not None and limit.kind == "explicit":
            percent = used * 100.0 / limit.tokens
            source = "estimated (explicit limit)"
            remaining = max(0, limit.tokens - used)
    elif limit is not None:
        percent = used * 100.0 / limit.tokens
        source = "estimated"
        remaining = max(0, limit.tokens - used)
    else:
        percent, source, remaining = None, "no limit set", None
    return WindowStatus(
        name=name,
        start=start,
        reset_at=reset_at,
        reset_source=reset_source,
        used=used,
        limit=None if limit is None else limit.tokens,
        limit_source=None if limit is None else limit.source,
        percent=percent,
        percent_source=source,
        remaining=remaining,
        zone=None if percent is None else zones.zone_for(percent).name,
    )


def compute_status(
    *,
    entries: Sequence[UsageEntry],
    blocks: Sequence[Block],
    settings: StatusSettings,
    snapshot: Snapshot | None,
    now: datetime,
    tz: tzinfo,
    complete_since: datetime | None = None,
    history: History | None = None,
) -> Status:
    """All figures of ``sessionmd status`` for ``now``.

    ``entries`` are the deduplicated usage entries (at least the last 7 days'), ``blocks``
    the 5-hour blocks built from them. Entries after ``now`` (clock skew) are ignored.
    ``complete_since``: the entries hold everything after this time only; a window
    starting earlier is not used to derive a limit.
    ``history``: token sums of the time before ``entries`` (the status line's live state
    holds the latest block's messages only); windows reaching back add them, and
    ``complete_since`` is then the history's start.
    Raises ``ValueError`` for a bad ``--limit`` or config quota.
    """
    measure = settings.measure
    if history is not None:
        complete_since = history.start
    entries = [e for e in entries if e.timestamp <= now]
    last_usage = max((e.timestamp for e in entries), default=None)
    derived_new: list[Derived] = []

    five = snapshot.five_hour if snapshot is not None else None
    if snapshot is None or not is_fresh(five, snapshot, now, last_usage):
        five = None
    seven = snapshot.seven_day if snapshot is not None else None
    if snapshot is None or not is_fresh(seven, snapshot, now, last_usage):
        seven = None
    age = None if snapshot is None else (now - snapshot.captured_at).total_seconds()
    official_label = (
        "official" if snapshot is None else f"official ({format_age(now - snapshot.captured_at)})"
    )

    # -- 5-hour window
    block = active_block(blocks, now)
    official_limit: int | None = None
    hit: UsageEntry | None = None
    if five is not None:
        official_start = five.start(FIVE_HOURS)
        start: datetime | None = official_start
        reset_at: datetime | None = five.resets_at
        reset_source = "official"
        window_entries = [e for e in entries if e.timestamp >= official_start]
        used = _used_since(window_entries, official_start, measure, history)
        if complete_since is None or complete_since <= official_start:
            official_limit = derive_limit(used, five.used_percentage)
        if official_limit is not None:
            derived_new.append(
                Derived(
                    "five_hour", official_limit, now, used, five.used_percentage, five.resets_at
                )
            )
    elif block is not None:
        start, reset_at, reset_source = block.start, block.end, "block end (estimated)"
        window_entries = [e for e in block.entries if e.timestamp <= now]
        used = sum(measure_tokens(e.tokens, measure) for e in window_entries)
        hit = limit_hit(window_entries, now)
        if hit is not None and hit.limit_reset is not None:
            reset_at, reset_source = hit.limit_reset, "limit message (transcript)"
            at_hit = sum(
                measure_tokens(e.tokens, measure)
                for e in window_entries
                if e.timestamp <= hit.timestamp
            )
            if at_hit > 0 and (complete_since is None or complete_since <= block.start):
                # the tokens used when Claude Code refused more: the limit itself
                derived_new.append(
                    Derived("five_hour", at_hit, now, at_hit, 100.0, hit.limit_reset)
                )
    else:
        start, reset_at, reset_source = None, None, "no active block"
        window_entries, used = [], 0

    limit = resolve_limit(
        explicit=settings.limit,
        official=official_limit,
        derived=(settings.derived or {}).get("five_hour"),
        config_quota=settings.quota,
        blocks=blocks,
        now=now,
        measure=measure,
        tz=tz,
        auto=settings.auto,
    )
    five_status = _window_status(
        "5-hour",
        start,
        reset_at,
        reset_source,
        used,
        limit,
        five,
        official_label,
        reached=hit is not None,
    )

    burn, per_response = _burn(window_entries, now, measure)
    remaining = five_status.remaining
    runway = runway_responses = None
    if burn and remaining is not None:
        runway = remaining / burn
        if per_response:
            runway_responses = int(remaining // per_response)
    minutes_to_reset = None if reset_at is None else (reset_at - now).total_seconds() / 60.0

    percent = five_status.percent if five_status.percent is not None else 0.0
    zone = zones.zone_for(percent)
    threshold = zones.next_alert(percent)
    to_next = (
        None if threshold is None else max(0, round(limit.tokens * (threshold - percent) / 100.0))
    )
    alert: tuple[str, ...] = ()
    if zone.name == "DANGER":
        reset_text = None if reset_at is None else format_clock(reset_at, tz)
        alert = tuple(zones.strategic_alert(percent, remaining, runway, reset_text, limit.tokens))

    # -- 7-day window
    official_weekly: int | None = None
    if seven is not None:
        wstart = seven.start(SEVEN_DAYS)
        wreset, wsource = seven.resets_at, "official"
        wused = _used_since(entries, wstart, measure, history)
        if complete_since is None or complete_since <= wstart:
            official_weekly = derive_limit(wused, seven.used_percentage)
        if official_weekly is not None:
            derived_new.append(
                Derived("seven_day", official_weekly, now, wused, seven.used_percentage, wreset)
            )
    else:
        wstart, wreset = week_bounds(now, tz, settings.reset_weekday, settings.reset_hour)
        wsource = "config weekly (estimated)"
        wused = _used_since(entries, wstart, measure, history)
    weekly_limit = resolve_weekly_limit(
        explicit=settings.weekly_explicit,
        official=official_weekly,
        derived=(settings.derived or {}).get("seven_day"),
        config_limit=settings.weekly_limit,
        tz=tz,
    )
    weekly = _window_status(
        "7-day", wstart, wreset, wsource, wused, weekly_limit, seven, official_label
    )

    return Status(
        now=now,
        tz=tz,
        tz_name=tz_label(tz),
        measure=tuple(measure),
        active=start is not None,
        five_hour=five_status,
        weekly=weekly,
        zone=zone,
        actions=tuple(zones.actions(zone, limit.tokens)),
        burn_rate=burn,
        burn_source="transcripts, last 30 min",
        runway_minutes=runway,
        runway_responses=runway_responses,
        minutes_to_reset=minutes_to_reset,
        next_alert=threshold,
        tokens_to_next_alert=to_next,
        alert=alert,
        official=five is not None,
        snapshot_age_seconds=age,
        derived=tuple(derived_new),
        limit=limit,
    )


def _iso(when: datetime | None, tz: tzinfo) -> str | None:
    return None if when is None else when.astimezone(tz).isoformat()


def _window_json(w: WindowStatus, tz: tzinfo) -> dict[str, Any]:
    return {
        "window": w.name,
        "start": _iso(w.start, tz),
        "resetsAt": _iso(w.reset_at, tz),
        "resetSource": w.reset_source,
        "usedTokens": w.used,
        "limitTokens": w.limit,
        "limitSource": w.limit_source,
        "percent": None if w.percent is None else round(w.percent, 2),
        "percentSource": w.percent_source,
        "remainingTokens": w.remaining,
        "zone": w.zone,
    }


def status_json(status: Status) -> dict[str, Any]:
    """The figures of ``status --json``: the same numbers the display shows, with sources.

    Times are ISO 8601 in the output zone (named in ``timezone``).
    """
    tz = status.tz
    return {
        "now": _iso(status.now, tz),
        "timezone": status.tz_name,
        "tokenMeasure": list(status.measure),
        "active": status.active,
        "official": status.official,
        "snapshotAgeSeconds": None
        if status.snapshot_age_seconds is None
        else round(status.snapshot_age_seconds),
        "fiveHour": _window_json(status.five_hour, tz),
        "zone": None if status.zone is None else status.zone.name,
        "zoneHeadline": None if status.zone is None else status.zone.headline,
        "actions": list(status.actions),
        "burnRate": None if status.burn_rate is None else round(status.burn_rate, 1),
        "burnRateUnit": "tokens/min",
        "burnSource": status.burn_source,
        "runwayMinutes": None if status.runway_minutes is None else round(status.runway_minutes),
        "runwayResponses": status.runway_responses,
        "runwayPastReset": status.runway_past_reset,
        "minutesToReset": None
        if status.minutes_to_reset is None
        else round(status.minutes_to_reset),
        "nextAlertPercent": status.next_alert,
        "tokensToNextAlert": status.tokens_to_next_alert,
        "alert": list(status.alert) or None,
        "weekly": _window_json(status.weekly, tz),
    }
