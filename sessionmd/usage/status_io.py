"""The edges of ``sessionmd status``: clock, zone, config, transcripts, snapshot, state.

Gathers the inputs of :func:`sessionmd.usage.status.compute_status`, runs it, and saves
the limits it derived. Everything comes in as arguments (env, cwd, now), so tests drive
it with real files in a temporary dir.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from datetime import datetime, timezone
from operator import itemgetter
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
from sessionmd.usage.lineread import PACK
from sessionmd.usage.models import TokenCounts, UsageEntry
from sessionmd.usage.past_sums import PastSums
from sessionmd.usage.snapshot import SEVEN_DAYS, load_snapshot
from sessionmd.usage.status import Status, StatusSettings, compute_status
from sessionmd.usage.timeline import from_ms, history_cut, to_ms

if TYPE_CHECKING:
    from sessionmd.usage.api import UsageResult
    from sessionmd.usage.dedupe import State

BLOCK_MS = 5 * 3600 * 1000
EARLIEST = datetime(1, 1, 2, tzinfo=timezone.utc)  # before any message (and any window)


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


def recent_entries(state: State, since_ms: int) -> list[UsageEntry]:
    """The blocks view's messages dated at or after ``since_ms`` as objects, sorted by time
    as ``UsageResult.entries`` has them (message ids are not needed here).

    The packed winners are unpacked in C and compared once each: ``State.winners`` cost a
    Python frame and a struct call per winner, 0.25 s to find 1e4 messages among 2e5."""
    picked = [
        v
        for chunk in state.winner_chunks(False)
        for v in PACK.iter_unpack(chunk)
        if v[2] >= since_ms
    ]
    picked.sort(key=itemgetter(2))  # stable: equal times stay in the state's order
    files, models = state.files, state.models
    # PACK: sidechain rank, total rank, ms, input, output, cache creation, cache read,
    # offset, reset ms, file index, model index, sidechain
    return [
        UsageEntry(
            timestamp=from_ms(v[2]),
            tokens=TokenCounts(v[3], v[4], v[5], v[6]),
            session_id=f.session,
            project=f.project,
            model=models[v[10]] or None,
            cwd=f.cwd or None,
            is_sidechain=bool(v[11]),
            limit_reset=from_ms(v[8]) if v[8] else None,
        )
        for v in picked
        for f in (files[v[9]],)
    ]


def split_history(result: UsageResult, now: datetime) -> tuple[list[UsageEntry], PastSums]:
    """What ``status`` needs of a history (its blocks view: no mirror lines).

    The messages its 5-hour window can see, as objects: from the first of the block
    holding 5 hours ago, so that blocks built from them are ccusage's. The rest of the last
    week as exact sums. Clock skew: that block is found among the messages up to ``now``,
    so the latest message not in the future is an object."""
    stamps = result.stamps()
    if not stamps:  # nothing at all: complete, and empty
        return [], PastSums(EARLIEST, now, ())
    now_ms = to_ms(now)
    seen = stamps[: bisect_right(stamps, now_ms)] or stamps
    week = history_cut(stamps, to_ms(now - SEVEN_DAYS))
    # An index into ``stamps`` too; its walk back along the chain stops at the week's cut.
    cut = history_cut(seen, now_ms - BLOCK_MS, floor=week)
    lo = min(week, cut)
    first = stamps[cut]
    # Complete from just after the last message left out (from the start of time when
    # none is), so a window starting before the first kept message still derives a limit.
    since = from_ms(stamps[lo - 1] + 1) if lo else EARLIEST
    past = PastSums(since, from_ms(first), result.state.winner_chunks(False))
    return recent_entries(result.state, first), past


class WatchState(NamedTuple):
    """What ``status --watch`` keeps between refreshes: history that no longer changes."""

    history: list[UsageEntry]  # entries from the first of the block holding 5 hours ago
    past: PastSums  # the week's tokens before them
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
        entries, past = split_history(result, req.now)
        all_blocks = build_blocks(entries, req.now)
        roots = len(result.roots)
    else:
        recent = load_live(
            data_dirs=data_dirs,
            env=req.env,
            cache_dir=paths.cache_dir(req.env),
            now=req.now,
            home=req.home,
        )
        past = previous.past
        if recent.window_start < past.end:  # the kept objects no longer reach the block
            return watch_status(req, None)
        old = [e for e in previous.history if e.timestamp < recent.window_start]
        entries = old + recent.entries
        auto = previous.auto
        roots = previous.roots
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
            history=past,
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
    return status, WatchState(entries, past, auto, roots)
