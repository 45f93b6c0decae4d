"""The status line's path: the current chain of blocks from the small cache, plus appended bytes.

Claude Code runs the status line every few hundred milliseconds, so this path reads the
``recent`` cache (the file table and the winners since the current chain of 5-hour blocks
began), stats the known folders and files, reads only the bytes appended since, and writes
the small cache back. A new file (a folder's mtime moved), a file that shrank or was
replaced, or a missing or damaged cache sends it once through the full path
(``api.load_usage``), which rewrites both caches.

Stat'ing thousands of files costs more than the rest of the path, so every known file is
checked at most once a minute; in between, only the hot ones are: the roots and project
folders (a new session appears there) and the folders and files that changed in the six
hours before the last full check. A transcript idle for longer that suddenly grows is
therefore seen within a minute, not at once.

Entries older than the chain's start are ignored here: no copy of a message that old can
change the active block (copies of one message are seconds apart), and the full path
counts them the next time it runs.

Imports: the standard library and msgspec only (no pydantic, rich or click).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sessionmd.usage import cache as cache_mod
from sessionmd.usage.api import (
    UsageResult,
    _entry,
    active_block,
    block_winners,
    build_blocks,
    load_usage,
    recent_winners,
    rows_of,
    to_ms,
)
from sessionmd.usage.dedupe import State
from sessionmd.usage.discover import config_dirs
from sessionmd.usage.engine import Job, ScanStats, execute
from sessionmd.usage.models import Block, UsageEntry

FULL_CHECK_MS = 60_000  # stat every known file at least this often
HOT_MS = 6 * 3_600_000  # between full checks, files changed this recently are stat'ed


@dataclass(slots=True)
class RecentUsage:
    """The entries of the current chain of blocks (sorted), its blocks and the active one.

    ``entries`` hold every message from ``window_start`` on, and there is none in the
    ``session_hours`` before it (a chain starts after such a pause) unless the chain was cut
    at 8 days (``api.recent_winners``).
    """

    entries: list[UsageEntry]
    blocks: list[Block]
    active: Block | None
    window_start: datetime
    stats: ScanStats
    path: str  # "recent-cache" when served from the small cache, "full" when it was rebuilt


def _roots(
    data_dirs: Sequence[Path] | None, env: Mapping[str, str], home: Path | None
) -> list[str]:
    """The ``projects`` folders ``discover`` would walk, without walking them."""
    roots: list[str] = []
    seen: set[str] = set()
    for base in list(data_dirs) if data_dirs else config_dirs(env, home):
        base = Path(os.path.abspath(base))  # cache keys and file paths must not depend on cwd
        projects = base / "projects"
        if not projects.is_dir() and data_dirs and base.name == "projects" and base.is_dir():
            projects = base
        if projects.is_dir():
            real = os.path.realpath(projects)
            if real not in seen:
                seen.add(real)
                roots.append(str(projects))
    return roots


def _stale(
    state: State, dirs: Sequence[tuple[str, int]], roots: set[str], everything: bool, hot_ns: int
) -> list[Job] | None:
    """Jobs for the files that grew; None when the full path must run instead.

    ``everything`` stats every known folder and file. Otherwise only the hot ones: the roots
    and project folders (where new sessions appear), and folders and files changed since
    ``hot_ns``. A folder whose mtime moved means a new file: the full path finds it.
    """
    for folder, mtime in dirs:
        if everything or mtime >= hot_ns or folder in roots or os.path.dirname(folder) in roots:
            try:
                if os.stat(folder).st_mtime_ns != mtime:
                    return None
            except OSError:
                return None
    jobs: list[Job] = []
    for n, f in enumerate(state.files):
        if not everything and f.mtime_ns < hot_ns:
            continue
        try:
            st = os.stat(f.path)
        except OSError:
            return None
        if (st.st_ino, st.st_dev) != (f.inode, f.dev) or st.st_size < f.size:
            return None
        if st.st_size == f.size:
            if st.st_mtime_ns != f.mtime_ns:
                return None  # rewritten in place
            continue
        jobs.append(Job(n, f.path, f.session, f.offset))
        f.size, f.mtime_ns = st.st_size, st.st_mtime_ns
    return jobs


def _result(
    state: State, window_start: int, now: datetime, stats: ScanStats, how: str, hours: float
) -> RecentUsage:
    rows = rows_of(state, state.winners(with_progress=False))
    entries = [_entry(r) for r in rows if r[0] >= window_start]
    blocks = build_blocks(entries, now, hours)
    start = datetime.fromtimestamp(window_start / 1000, tz=now.tzinfo)
    return RecentUsage(entries, blocks, active_block(blocks), start, stats, how)


def load_recent(
    *,
    data_dirs: Sequence[Path] | None = None,
    env: Mapping[str, str],
    cache_dir: Path,
    now: datetime,
    home: Path | None = None,
    session_hours: float = 5,
    scope: Literal["chain", "block"] = "chain",
) -> RecentUsage:
    """The active block's inputs, cheaply: the status line and ``status --watch`` call this.

    ``scope="chain"`` (default): the entries of the current chain of blocks (see
    ``RecentUsage``). ``scope="block"``: only the latest block's entries (``window_start`` is
    its first entry; entries before it may exist): far less to build when use never pauses.
    """
    roots = _roots(data_dirs, env, home)
    _full, chain_path, block_path = cache_mod.cache_paths(cache_dir, roots)
    recent_path = block_path if scope == "block" else chain_path
    loaded = cache_mod.read(recent_path, roots)
    now_ms = to_ms(now)
    if loaded is not None:
        state, window_start, dirs, checked = loaded
        everything = not 0 <= now_ms - checked < FULL_CHECK_MS
        hot_ns = (checked - HOT_MS) * 1_000_000
        jobs = _stale(state, dirs, set(roots), everything, hot_ns)
        if jobs is not None:
            stats = ScanStats(files=len(state.files))
            if jobs:
                stats = execute(state, jobs, now_ms, processes=1)
                stats.files = len(state.files)
                if scope == "block":
                    window_start, state.main = block_winners(state, session_hours, window_start)
                else:
                    window_start, state.main = recent_winners(state, now_ms, session_hours)
                state.prog = {}
            if jobs or everything:
                stamp = now_ms if everything else checked
                cache_mod.save(recent_path, state, roots, window_start, state.main, dirs, stamp)
            return _result(state, window_start, now, stats, "recent-cache", session_hours)
    full: UsageResult = load_usage(
        data_dirs=data_dirs, env=env, cache_dir=cache_dir, now=now, view="blocks", home=home
    )
    if scope == "block":
        start, recent = block_winners(full.state, session_hours)
    else:
        start, recent = recent_winners(full.state, to_ms(now), session_hours)
    small = State(files=full.state.files, models=full.state.models, main=recent)
    return _result(small, start, now, full.stats, "full", session_hours)
