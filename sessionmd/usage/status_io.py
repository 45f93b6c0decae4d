"""The edges of ``sessionmd status``: clock, zone, config, transcripts, snapshot, state.

Gathers the inputs of :func:`sessionmd.usage.status.compute_status`, runs it, and saves
the limits it derived. Everything comes in as arguments (env, cwd, now), so tests drive
it with real files in a temporary dir.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

from sessionmd import paths
from sessionmd._typing import TYPE_CHECKING, NamedTuple
from sessionmd.errors import ConfigError
from sessionmd.usage.clock import (
    resolve_zone,
)
from sessionmd.usage.limits import (
    AutoSource,
    Limit,
    load_auto,
    load_derived,
    record_derived,
    save_auto,
)
from sessionmd.usage.models import TokenCounts, UsageEntry
from sessionmd.usage.snapshot import SEVEN_DAYS, load_snapshot
from sessionmd.usage.status import Status, StatusSettings, compute_status, history_start
from sessionmd.usage.timeline import history_cut, to_ms

if TYPE_CHECKING:
    from typing import Any


class StatusRequest(NamedTuple):
    """What the command line asked for."""

    cwd: Path
    env: Mapping[str, str]
    now: datetime
    timezone: str | None = None
    limit: str | None = None
    weekly_limit: int | None = None
    data_dirs: tuple[Path, ...] = ()
    home: Path | None = None


def history_start_ms(stamps: Sequence[int], now: datetime) -> int:
    """:func:`sessionmd.usage.status.history_start` on the messages' sorted times (ms): the
    time of the first message kept, so only the messages from it on become objects
    (``UsageResult.rows_from``). 0 when there are none."""
    if not stamps:
        return 0
    return stamps[history_cut(stamps, to_ms(now - SEVEN_DAYS))]


def entries_from_rows(rows: Sequence[Any]) -> list[UsageEntry]:
    """Entries from the engine's rows: (ms, input, output, cache creation, cache read,
    model, session, project, cwd, sidechain, progress, reset ms, key), as documented
    at ``sessionmd.usage.api.Row``; message ids are not needed here."""
    utc = timezone.utc
    return [
        UsageEntry(
            timestamp=datetime.fromtimestamp(r[0] / 1000, tz=utc),
            tokens=TokenCounts(r[1], r[2], r[3], r[4]),
            session_id=r[6],
            project=r[7],
            model=r[5] or None,
            cwd=r[8] or None,
            is_sidechain=bool(r[9]),
            from_progress=bool(r[10]),
            limit_reset=datetime.fromtimestamp(r[11] / 1000, tz=utc) if r[11] else None,
        )
        for r in rows
    ]


class WatchState(NamedTuple):
    """What ``status --watch`` keeps between refreshes: history that no longer changes."""

    history: list[UsageEntry]  # entries from the first of the block holding a week ago
    auto: AutoSource  # the auto limit (or how to compute it once) over the whole history
    roots: int  # transcript folders found (0: the status rests on no data at all)


def load_status(req: StatusRequest) -> Status:
    """Read everything ``status`` needs and compute it; save newly derived limits.

    Raises ``ConfigError`` for a bad config, zone or limit.
    """
    return watch_status(req, None)[0]


def watch_status(req: StatusRequest, previous: WatchState | None) -> tuple[Status, WatchState]:
    """``load_status`` for ``--watch``: the first call reads the whole (cached) history, the
    later ones only the status line's live state plus appended bytes (the latest block), on
    top of the history kept from the first. Raises ``ConfigError`` for a bad config, zone or limit.
    """
    from sessionmd.config import find_root, load_config
    from sessionmd.usage.api import build_blocks, load_usage
    from sessionmd.usage.blocks import history_auto_limit
    from sessionmd.usage.live import load_live

    root = find_root(req.cwd)
    config = load_config(root)
    zone_origin = "--timezone" if req.timezone else str(root / "sessionmd.yaml")
    tz = resolve_zone(req.timezone or config.timezone, req.env, zone_origin)
    measure = tuple(config.token_measure)
    state = paths.state_dir(req.env)
    data_dirs = list(req.data_dirs) or None
    if previous is None:
        result = load_usage(
            data_dirs=data_dirs,
            env=req.env,
            cache_dir=paths.cache_dir(req.env),
            now=req.now,
            view="blocks",
            home=req.home,
        )
        memo: list[Limit | None] = []

        def full_auto() -> Limit | None:
            """The auto limit over every block: computed only when auto is the limit and
            none was saved in the last day (it is a pass over the whole history)."""
            if not memo:
                memo.append(history_auto_limit(result, req.now, measure))
            return memo[0]

        saved = load_auto(state, req.now, measure)
        auto: AutoSource = saved if saved is not None else full_auto
        start = history_start_ms(result.stamps(), req.now)
        entries = entries_from_rows(result.rows_from(start))
        all_blocks = build_blocks(entries, req.now)
        history = entries
        roots = len(result.roots)
    else:
        recent = load_live(
            data_dirs=data_dirs,
            env=req.env,
            cache_dir=paths.cache_dir(req.env),
            now=req.now,
            home=req.home,
        )
        old = [e for e in previous.history if e.timestamp < recent.window_start]
        entries = old + recent.entries
        auto = previous.auto
        roots = previous.roots
        history = entries[history_start(entries, req.now) :]
        all_blocks = build_blocks(entries, req.now)
    settings = StatusSettings(
        limit=req.limit,
        quota=config.quota,
        measure=measure,
        weekly_limit=config.weekly.limit,
        weekly_explicit=req.weekly_limit,
        reset_weekday=config.weekly.reset_weekday,
        reset_hour=config.weekly.reset_hour,
        derived=load_derived(state, measure),
        auto=auto,
    )
    try:
        status = compute_status(
            entries=entries,
            blocks=all_blocks,
            settings=settings,
            snapshot=load_snapshot(state),
            now=req.now,
            tz=tz,
        )
    except ValueError as err:
        origin = "--limit" if req.limit else str(root / "sessionmd.yaml")
        raise ConfigError(str(err), origin) from None
    try:
        for derived in status.derived:
            record_derived(state, derived, measure)
        if status.limit.kind == "auto" and previous is None and saved is None:
            save_auto(state, status.limit, req.now, measure)
    except OSError:
        pass  # a read-only state dir costs the history, not the status
    return status, WatchState(history, auto, roots)
