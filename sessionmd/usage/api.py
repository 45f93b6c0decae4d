"""The usage engine's library API: what ``status``, handoffs, scheduling and tracking call.

``load_usage`` finds the transcripts, brings the incremental cache up to date (reading only
appended bytes), applies ccusage 20's dedupe for the requested view, and returns the entries
sorted by time with a report of what was skipped. ``build_blocks`` and ``measure`` are pure.
Clock, environment and cache dir are passed in. Nothing here prints or exits.

This module imports only the standard library and msgspec, so the status line can use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from sessionmd.usage import cache as cache_mod
from sessionmd.usage.dedupe import FileInfo, State
from sessionmd.usage.discover import Discovery, discover
from sessionmd.usage.engine import ScanStats, execute, paused_gc, plan, rebuild_reason
from sessionmd.usage.models import Block, TokenCounts, UsageEntry
from sessionmd.usage.quarters import QuarterSums
from sessionmd.usage.scan import Problem
from sessionmd.usage.timeline import (
    active_block,
    build_blocks,
    from_ms,
    latest_block_start,
    to_ms,
)

View = Literal["daily", "blocks", "sessions"]

# A row: the winning copy of one message, flat, for fast aggregation.
# (ts_ms, input, output, cache_creation, cache_read, model, session, project, cwd,
#  sidechain, progress, reset_ms, key)
Row = tuple[int, int, int, int, int, str, str, str, str, bool, bool, int, str]


def measure(tokens: TokenCounts, kinds: Sequence[str]) -> int:
    """sessionmd's token measure: the sum of the named kinds (default input+output+cache_creation).

    Kinds are ``input``, ``output``, ``cache_creation``, ``cache_read`` (config.TokenKind).
    """
    total = 0
    for kind in kinds:
        if kind == "input":
            total += tokens.input
        elif kind == "output":
            total += tokens.output
        elif kind == "cache_creation":
            total += tokens.cache_creation
        elif kind == "cache_read":
            total += tokens.cache_read
        else:
            raise ValueError(f"unknown token kind {kind!r}")
    return total


def _entry(row: Row) -> UsageEntry:
    ts, i, o, cc, cr, model, session, project, cwd, side, progress, reset, key = row
    mid: str | None = None
    rid: str | None = None
    if not key.startswith("\x01"):
        mid, _, rest = key.partition("\x00")
        rid = None if rest.startswith("s:") else rest
    return UsageEntry(
        timestamp=from_ms(ts),
        tokens=TokenCounts(i, o, cc, cr),
        session_id=session,
        project=project,
        model=model or None,
        cwd=cwd or None,
        message_id=mid,
        request_id=rid,
        is_sidechain=side,
        from_progress=progress,
        limit_reset=from_ms(reset) if reset else None,
    )


@dataclass
class UsageResult:
    """Deduplicated usage for one view, with what was skipped and why.

    ``rows`` (flat tuples, sorted by time) and ``entries`` (``UsageEntry`` objects) are built
    on first use from the dedupe state; aggregations that need neither order nor objects
    iterate ``winners()`` directly, which is what keeps a cold ``usage daily`` fast.
    """

    view: View
    problems: list[Problem]
    stats: ScanStats
    roots: list[Path]
    state: State = field(repr=False)
    dirs: list[tuple[str, int]] = field(default_factory=list, repr=False)  # folders, mtimes
    _rows: list[Row] | None = field(default=None, repr=False)
    _entries: list[UsageEntry] | None = field(default=None, repr=False)

    def winners(self) -> Iterator[tuple[str, tuple[int, ...], bool]]:
        """(key, unpacked fields, from a mirror line) per message, unordered, one at a time.

        Fields: ts_ms, input, output, cache_creation, cache_read, offset, reset_ms, file
        index, model index, sidechain (``dedupe.PACK``).
        """
        return self.state.winners(with_progress=self.view == "daily")

    @property
    def rows(self) -> list[Row]:
        """One flat row per message, sorted by time."""
        if self._rows is None:
            self._rows = rows_of(self.state, self.winners())
        return self._rows

    def stamps(self) -> list[int]:
        """Every message's time (ms), sorted: ``rows``' first column, without the rows."""
        return self.state.stamps(with_progress=self.view == "daily")

    @property
    def entries(self) -> list[UsageEntry]:
        """The rows as ``UsageEntry`` objects, sorted by time."""
        if self._entries is None:
            self._entries = [_entry(r) for r in self.rows]
        return self._entries


def rows_of(state: State, winners: Iterable[tuple[str, tuple[int, ...], bool]]) -> list[Row]:
    """Winners as rows, sorted by time."""
    files = state.files
    models = state.models
    rows: list[Row] = []
    append = rows.append
    for key, v, progress in winners:
        f = files[v[7]]
        append(
            (
                v[0],
                v[1],
                v[2],
                v[3],
                v[4],
                models[v[8]],
                f.session,
                f.project,
                f.cwd,
                bool(v[9]),
                progress,
                v[6],
                key,
            )
        )
    rows.sort(key=lambda r: r[0])
    return rows


def _load(
    data_dirs: Sequence[Path] | None,
    env: Mapping[str, str],
    cache_dir: Path | None,
    now: datetime,
    home: Path | None,
    processes: int,
    daily_sums: bool,
) -> tuple[State, ScanStats, Discovery]:
    found = discover(data_dirs, env, home)
    roots = [str(r) for r in found.roots]
    full_path = None
    state: State | None = None
    reason = ""
    if cache_dir is not None:
        full_path = cache_mod.cache_path(cache_dir, roots)
        if full_path.exists():
            stale = ""

            def accept(files: list[FileInfo]) -> bool:
                """A cache that must be rebuilt is judged by its file table and never loaded:
                the old winners beside the new ones took a rebuild over 100 MB on 1 GB."""
                nonlocal stale
                stale = rebuild_reason(files, found)
                return not stale

            state = cache_mod.read(full_path, roots, accept)
            if state is None:
                reason = stale or "cache unreadable, foreign or of another version"
        else:
            reason = "no cache yet"
            cache_mod.prune(cache_dir)
    else:
        reason = "no cache"
    state = state or State()
    jobs = plan(state, found)
    stats = execute(state, jobs, to_ms(now), processes, sum_quarters=daily_sums)
    stats.files = len(found.files)
    stats.rebuilt = reason
    stats.problems[:0] = found.problems
    summed = False
    if daily_sums and state.quarters is None:  # kept in the cache from now on
        state.quarters = QuarterSums()
        state.quarters.add_chunks(state.winner_chunks(with_progress=True))
        summed = True
    if full_path is not None and (stats.files_read or stats.rebuilt or summed):
        cache_mod.save(full_path, state, roots)
    stats.problems.extend(Problem(p, ln, why) for p, ln, why in state.problems)
    return state, stats, found


def load_usage(
    *,
    data_dirs: Sequence[Path] | None = None,
    env: Mapping[str, str],
    cache_dir: Path | None,
    now: datetime,
    view: View,
    home: Path | None = None,
    processes: int = 2,
    daily_sums: bool = True,
) -> UsageResult:
    """Deduplicated usage for one ccusage view ("daily" counts agent_progress mirrors).

    ``data_dirs`` overrides the Claude config dirs found from ``env`` (``CLAUDE_CONFIG_DIR``,
    else ``~/.config/claude`` and ``~/.claude``); ``cache_dir`` None reads everything and
    writes no cache. ``now`` decides which timestamps count as in the future (clock skew).
    For view "daily", the state also carries the view's sums per quarter hour and model
    (``State.quarters``, what ``usage.daily`` folds into days: from the scan, the cache, or
    summed here once and cached), unless ``daily_sums`` is false (a report for one project
    sums its own winners instead).
    """
    sums = view == "daily" and daily_sums
    with paused_gc():  # discovery and the scan make objects by the thousand, no cycles
        state, stats, found = _load(data_dirs, env, cache_dir, now, home, processes, sums)
    return UsageResult(view, stats.problems, stats, list(found.roots), state, found.dirs)


__all__ = [
    "Block",
    "Row",
    "TokenCounts",
    "UsageEntry",
    "UsageResult",
    "View",
    "active_block",
    "build_blocks",
    "from_ms",
    "latest_block_start",
    "load_usage",
    "measure",
    "to_ms",
]
