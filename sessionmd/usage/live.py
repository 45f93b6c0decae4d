"""The status line's own state: the latest block's messages, sums before it, and read offsets.

Claude Code runs the status line every few hundred milliseconds; it must answer in well
under 50 ms on gigabytes of transcripts, and Python alone takes 25 ms to start. So the
status line neither loads the full cache nor imports the engine (msgspec costs 25 ms to
import). It keeps two small files of its own beside the full cache:

- ``live-v<N>-<hash>.bin``, read and written on every run: the rows (identity, size, read
  offset) of the transcripts changed in the hour before the last full check and of those
  the kept messages came from, and the mtimes of the folders where new transcripts appear;
- the winning copy of every message from one block before the latest block's first entry
  (``keep``) on, packed as the engine packs them, so appended copies still deduplicate;
- token sums of the older messages of the last 8 days, per 5-minute bucket and per session,
  so the 7-day window and a session's total need no older message;
- ``live-v<N>-<hash>.files.bin``, read once a minute for a full check: every transcript and
  folder known, as columns.

They are written with ``marshal`` (built into the interpreter, no import; the header carries
the Python version and a CRC-32 of the body, so another interpreter's or a damaged file is
rebuilt, never trusted). Each run stats the hot files, reads what was appended with the
standard-library line reader (``lineread``) and folds it in. A new file (its folder's mtime
moved) is found by listing that folder and read whole. A file that shrank or was replaced,
a large append, or a missing file sends the caller to :func:`from_state`, once, over the
engine's full cache.

Lines dated before ``keep`` are ignored here: copies of one message are seconds apart, so
such a line is a copy of a message already counted (a resumed session copies old lines).
The full path (``usage``, ``status``) counts everything; this path answers "now".
"""

from __future__ import annotations

import contextlib
import marshal
import os
import stat
import sys
import zlib
from array import array
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from sessionmd._typing import TYPE_CHECKING
from sessionmd.usage.atomic import replacing
from sessionmd.usage.lineread import BODY, MARKER, RANK, BadLine, read_line
from sessionmd.usage.models import Block, TokenCounts, UsageEntry
from sessionmd.usage.roots import projects_roots
from sessionmd.usage.timeline import HOUR_MS, build_blocks, from_ms, latest_block_start

if TYPE_CHECKING:
    from typing import Any

VERSION = 2  # 2: the line rules of cache VERSION 7
_MAGIC = b"SMDLIVE" + bytes([VERSION]) + sys.hexversion.to_bytes(4, "big")[:2]
BUCKET_MS = 5 * 60_000  # sums before ``keep`` are kept per 5 minutes
HISTORY_MS = 8 * 24 * HOUR_MS  # ... for 8 days (the 7-day window and some slack)
FULL_CHECK_MS = 60_000  # stat every known file at least this often
HOT_MS = HOUR_MS  # between full checks, files changed this recently are stat'ed
MAX_APPEND = 8 << 20  # more new bytes than this: the engine (two processes) reads them
BLOCK_MS = 5 * HOUR_MS

_body = BODY.unpack_from
# The file table's numbers, five per file in one array: size, mtime_ns, inode, device,
# offset just past the last complete line read.
_SIZE, _MTIME, _INO, _DEV, _OFFSET = range(5)


class Rebuild(Exception):
    """The live state cannot be brought up to date by reading appended bytes only."""


def _ts(packed: bytes) -> int:
    return int.from_bytes(packed[RANK : RANK + 8], "big", signed=True)


class Column:
    """Strings stored as one NUL-joined string, split on first use.

    Why: marshal builds every object it loads, and a table of 10,000 paths as a list of
    lists costs the status line 10 ms to load; one string costs microseconds, and most
    runs only need the few columns and rows they touch. (NUL cannot occur in a path.) An
    empty column is stored as None: "" is the column of one empty string.
    """

    __slots__ = ("_items", "_joined")

    def __init__(self, items: list[str] | None = None, joined: str | None = None) -> None:
        self._items = items
        self._joined = joined

    @property
    def items(self) -> list[str]:
        if self._items is None:
            self._items = [] if self._joined is None else self._joined.split("\0")
        return self._items

    def dump(self) -> str | None:
        if self._items is None:
            return self._joined
        return "\0".join(self._items) if self._items else None


class Sums:
    """Token sums per key (a 5-minute bucket's start, or a session id): input, output,
    cache creation, cache read, and the latest message time, five ints per key."""

    __slots__ = ("_index", "keys", "nums")

    def __init__(self, keys: list[Any], nums: array[int]) -> None:
        self.keys = keys
        self.nums = nums
        self._index: dict[Any, int] | None = None

    def add(self, key: Any, body: Sequence[int]) -> None:
        """Add one packed winner's body (``BODY`` order) under ``key``."""
        if self._index is None:
            self._index = {k: n for n, k in enumerate(self.keys)}
        n = self._index.get(key)
        nums = self.nums
        if n is None:
            self._index[key] = len(self.keys)
            self.keys.append(key)
            nums.extend((body[1], body[2], body[3], body[4], body[0]))
            return
        at = n * 5
        nums[at] += body[1]
        nums[at + 1] += body[2]
        nums[at + 2] += body[3]
        nums[at + 3] += body[4]
        nums[at + 4] = max(nums[at + 4], body[0])

    def get(self, key: Any) -> TokenCounts:
        try:  # one look-up: a linear scan in C beats building the index
            n = self.keys.index(key) if self._index is None else self._index[key]
        except (ValueError, KeyError):
            return TokenCounts()
        v = self.nums[n * 5 : n * 5 + 4]
        return TokenCounts(v[0], v[1], v[2], v[3])

    def prune(self, horizon: int) -> None:
        """Drop the keys whose latest message is older than ``horizon``."""
        nums = self.nums
        keep = [n for n in range(len(self.keys)) if nums[n * 5 + 4] >= horizon]
        if len(keep) == len(self.keys):
            return
        self.keys = [self.keys[n] for n in keep]
        self.nums = array("q", [x for n in keep for x in nums[n * 5 : n * 5 + 5]])
        self._index = None


class History:
    """Token sums of the messages before the live entries, for windows that reach back.

    ``start``: sums are complete from here (``end - 8 days``); ``end``: the first live
    entry's time bound. Messages older than a block before ``end`` are summed per 5 minutes:
    a window starting between two bucket bounds counts the whole bucket it starts in when
    the bucket starts after it, else none of it, so at most 5 minutes of usage is off, and
    none for windows starting on a 5-minute bound (config weekly windows start on the hour).
    The block before ``end`` is kept message by message (``extra``), so windows starting
    there are exact.
    """

    __slots__ = ("buckets", "end", "extra", "sessions", "start")

    def __init__(
        self,
        start: datetime,
        end: datetime,
        buckets: Sums,
        sessions: Sums,
        extra: list[tuple[str, tuple[int, ...]]] | None = None,
    ) -> None:
        self.start = start
        self.end = end
        self.buckets = buckets
        self.sessions = sessions
        # Messages not folded into the sums yet: (session, packed body), all before ``end``.
        self.extra = [] if extra is None else extra

    def tokens_since(self, since: datetime) -> TokenCounts:
        """Tokens of the buckets starting at or after ``since`` (all before ``end``)."""
        lo = round(since.timestamp() * 1000)
        i = o = cc = cr = 0
        nums = self.buckets.nums
        for n, start in enumerate(self.buckets.keys):
            if start >= lo:
                at = n * 5
                i += nums[at]
                o += nums[at + 1]
                cc += nums[at + 2]
                cr += nums[at + 3]
        for _session, body in self.extra:  # not bucketed yet: exact
            if body[0] >= lo:
                i, o, cc, cr = i + body[1], o + body[2], cc + body[3], cr + body[4]
        return TokenCounts(i, o, cc, cr)

    def session(self, session_id: str) -> TokenCounts:
        total = self.sessions.get(session_id)
        for session, body in self.extra:
            if session == session_id:
                total = total + TokenCounts(body[1], body[2], body[3], body[4])
        return total


class Table:
    """Every transcript and folder the state knows: what a full check stats.

    Kept in a file of its own (``*.files.bin``), read once a minute, not on every run.
    """

    __slots__ = ("cwds", "dir_mtimes", "dirs", "nums", "paths", "projects", "sessions")

    def __init__(
        self,
        dirs: Column,
        dir_mtimes: array[int],
        paths: Column,
        sessions: Column,
        projects: Column,
        cwds: Column,
        nums: array[int],
    ) -> None:
        self.dirs = dirs  # every folder walked, and its mtime (a new file changes it)
        self.dir_mtimes = dir_mtimes
        self.paths = paths  # one column each, one row per transcript
        self.sessions = sessions
        self.projects = projects
        self.cwds = cwds
        self.nums = nums  # five per file: size, mtime_ns, inode, device, offset

    def row(self, n: int) -> list[Any]:
        return [
            self.paths.items[n],
            self.sessions.items[n],
            self.projects.items[n],
            self.cwds.items[n],
            *self.nums[n * 5 : n * 5 + 5],
        ]

    def put(self, n: int, row: list[Any]) -> None:
        self.cwds.items[n] = row[_R_CWD]
        self.nums[n * 5 : n * 5 + 5] = array("q", row[_R_SIZE:])

    def add_new(self, folder: str, roots: Sequence[str]) -> None:
        """Add the transcripts and folders under ``folder`` (whose mtime moved) that the
        table does not know yet, as ``discover`` would find them; read from byte 0."""
        known_dirs = set(self.dirs.items)
        known = set(self.paths.items)
        nums = self.nums
        seen = {(nums[n * 5 + _DEV], nums[n * 5 + _INO]) for n in range(len(nums) // 5)}
        root = next((r for r in roots if folder == r or folder.startswith(r + os.sep)), None)
        if root is None:
            raise Rebuild(f"{folder} is outside the transcript folders")
        stack = [folder]
        while stack:
            current = stack.pop()
            try:  # the mtime first: a file made while listing moves it again
                mtime = os.stat(current).st_mtime_ns
                entries = list(os.scandir(current))
            except OSError:
                raise Rebuild(f"{current} is unreadable") from None
            if current in known_dirs:
                self.dir_mtimes[self.dirs.items.index(current)] = mtime
            else:
                known_dirs.add(current)
                self.dirs.items.append(current)
                self.dir_mtimes.append(mtime)
            for entry in entries:
                if entry.name.endswith(".jsonl"):
                    if entry.path in known:
                        continue
                    try:
                        st = entry.stat()
                    except OSError:
                        continue  # a dangling link: discover reports it, nothing to read
                    if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) in seen:
                        continue
                    seen.add((st.st_dev, st.st_ino))
                    parts = os.path.relpath(entry.path, root).split(os.sep)
                    project = parts[0] if len(parts) > 1 else ""
                    session = parts[1] if len(parts) > 2 else entry.name[: -len(".jsonl")]
                    self.paths.items.append(entry.path)
                    self.sessions.items.append(session)
                    self.projects.items.append(project)
                    self.cwds.items.append("")
                    # size 0, offset 0: the next stat sees it grown and reads it whole
                    nums.extend((0, st.st_mtime_ns, st.st_ino, st.st_dev, 0))
                elif entry.path not in known_dirs and entry.is_dir():
                    stack.append(entry.path)

    def dump(self) -> bytes:
        return marshal.dumps(
            (
                self.dirs.dump(),
                self.dir_mtimes.tobytes(),
                self.paths.dump(),
                self.sessions.dump(),
                self.projects.dump(),
                self.cwds.dump(),
                self.nums.tobytes(),
            ),
            4,
        )

    @classmethod
    def undump(cls, raw: bytes | memoryview) -> Table:
        dirs, dir_mtimes, paths, sessions, projects, cwds, nums = marshal.loads(raw)
        return cls(
            Column(joined=dirs), _ints(dir_mtimes), Column(joined=paths), Column(joined=sessions),
            Column(joined=projects), Column(joined=cwds), _ints(nums),
        )  # fmt: skip


def _ints(raw: bytes) -> array[int]:
    out = array("q")
    out.frombytes(raw)
    return out


# A row of the hot file table: path, session, project, cwd, then ``_SIZE`` ... ``_OFFSET``.
_R_PATH, _R_SESSION, _R_PROJECT, _R_CWD, _R_SIZE = range(5)


class LiveState:
    """What the status line keeps between runs (see the module docstring).

    ``rows`` holds the files each run stats - those changed in the hour before the last
    full check, and those the kept messages came from - by their index in the full
    :class:`Table`, which is read only for a full check (``table``, loaded on demand).
    """

    __slots__ = (
        "anchor",
        "buckets",
        "checked",
        "generation",
        "hot_dirs",
        "models",
        "roots",
        "rows",
        "session_sums",
        "table",
        "winners",
    )

    def __init__(
        self,
        roots: list[str],
        rows: dict[int, list[Any]],
        hot_dirs: list[tuple[str, int]],
        models: list[str],
        winners: dict[str, bytes],
        anchor: int,
        buckets: Sums,
        session_sums: Sums,
        checked: int,
        generation: int,
        table: Table | None = None,
    ) -> None:
        self.roots = roots
        self.rows = rows
        self.hot_dirs = hot_dirs  # the folders each run stats, with their mtimes
        self.models = models
        self.winners = winners
        self.anchor = anchor  # first entry of the latest block (ms); 0 = no usage yet
        self.buckets = buckets  # per 5-minute bucket start (ms)
        self.session_sums = session_sums  # per session id
        self.checked = checked  # when every file was last stat'ed (ms)
        self.generation = generation  # the table file this state goes with
        self.table = table

    @property
    def keep(self) -> int:
        """Messages from here on are kept one by one (one block before ``anchor``): a late
        copy of one of them still deduplicates; older lines are ignored."""
        return self.anchor - BLOCK_MS if self.anchor else 0

    def dump(self) -> bytes:
        return marshal.dumps(
            (
                self.roots, self.rows, self.hot_dirs, self.models, self.winners, self.anchor,
                self.buckets.keys, self.buckets.nums.tobytes(), self.session_sums.keys,
                self.session_sums.nums.tobytes(), self.checked, self.generation,
            ),
            4,
        )  # fmt: skip

    @classmethod
    def undump(cls, raw: bytes | memoryview) -> LiveState:
        (roots, rows, hot_dirs, models, winners, anchor, bkeys, bnums, skeys, snums, checked,
         generation) = marshal.loads(raw)  # fmt: skip
        return cls(
            roots, rows, hot_dirs, models, winners, anchor, Sums(bkeys, _ints(bnums)),
            Sums(skeys, _ints(snums)), checked, generation,
        )  # fmt: skip

    def mark_hot(self, table: Table) -> None:
        """Choose what the runs until the next full check stat: the roots and project
        folders (a new session appears there), the folders and files changed in the hour
        before this check, and the files the kept messages came from."""
        for n, row in self.rows.items():
            table.put(n, row)
        hot_ns = (self.checked - HOT_MS) * 1_000_000
        roots = set(self.roots)
        dirname = os.path.dirname
        self.hot_dirs = [
            (folder, mtime)
            for folder, mtime in zip(table.dirs.items, table.dir_mtimes, strict=True)
            if mtime >= hot_ns or folder in roots or dirname(folder) in roots
        ]
        nums = table.nums
        hot = {n for n in range(len(nums) // 5) if nums[n * 5 + _MTIME] >= hot_ns}
        hot.update(_body(v, RANK)[7] for v in self.winners.values())
        self.rows = {n: table.row(n) for n in sorted(hot)}

    # -- building ------------------------------------------------------------------------

    def fold(self, packed: bytes) -> None:
        """Add one winner to the sums before the live entries."""
        body = _body(packed, RANK)
        self.buckets.add(body[0] - body[0] % BUCKET_MS, body)
        self.session_sums.add(self.rows[body[7]][_R_SESSION], body)

    def fold_before(self, keep: int) -> None:
        """Move the winners dated before ``keep`` into the sums (and drop old sums)."""
        for key in [k for k, v in self.winners.items() if _ts(v) < keep]:
            self.fold(self.winners.pop(key))
        horizon = keep + BLOCK_MS - HISTORY_MS
        self.buckets.prune(horizon)
        self.session_sums.prune(horizon)

    def rewindow(self) -> None:
        """Move ``anchor`` to the latest block's first entry (ccusage's rule)."""
        stamps = sorted(t for t in map(_ts, self.winners.values()) if t >= self.anchor)
        if not stamps:
            return
        anchor = latest_block_start(stamps, BLOCK_MS / HOUR_MS)
        if anchor != self.anchor:
            self.anchor = anchor
            self.fold_before(self.keep)

    # -- reading -------------------------------------------------------------------------

    def _model_index(self, name: str) -> int:
        try:
            return self.models.index(name)
        except ValueError:
            self.models.append(name)
            return len(self.models) - 1

    def _beats(self, new: bytes, cur: bytes) -> bool:
        """ccusage 20's rule, as ``dedupe.State.beats``: rank, then (path, offset)."""
        a, b = new[:RANK], cur[:RANK]
        if a != b:
            return a < b
        na, nb = _body(new, RANK), _body(cur, RANK)
        if na[7] != nb[7]:
            return bool(self.rows[na[7]][_R_PATH] < self.rows[nb[7]][_R_PATH])
        return bool(na[5] < nb[5])

    def read_appended(self, idx: int, size: int) -> int:
        """Fold the complete lines appended to file ``idx`` (now ``size`` bytes); bad lines
        are skipped and counted (the full path lists them). Returns the count."""
        row = self.rows[idx]
        offset = row[_R_SIZE + _OFFSET]
        path = row[_R_PATH]
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read(size - offset)
        end = data.rfind(b"\n") + 1
        if end < len(data):
            tail = data[end:]
            if tail.rstrip().endswith(b"}") and _is_json(tail):
                data, end = data + b"\n", len(data) + 1  # complete, just no newline yet
        bad = 0
        session = row[_R_SESSION]
        winners, keep, beats = self.winners, self.keep, self._beats
        pos = data.find(MARKER, 0, end)
        while pos >= 0:
            start = data.rfind(b"\n", 0, pos) + 1
            stop = data.find(b"\n", pos, end)
            try:
                rec = read_line(
                    data[start:stop], path, session, offset + start, idx, self._model_index
                )
            except BadLine:
                rec = None
                bad += 1
            pos = data.find(MARKER, stop, end)
            if rec is None or rec.mirror or rec.ts < keep:
                continue
            if rec.cwd and not row[_R_CWD]:
                row[_R_CWD] = rec.cwd
            cur = winners.get(rec.key)
            if cur is None or beats(rec.packed, cur):
                winners[rec.key] = rec.packed
        row[_R_SIZE + _OFFSET] = offset + min(end, size - offset)
        row[_R_SIZE + _SIZE] = size
        return bad

    # -- what status needs ---------------------------------------------------------------

    def entries(self) -> list[UsageEntry]:
        """The messages of the latest block on, as ``UsageEntry`` objects, sorted by time."""
        models, rows = self.models, self.rows
        out: list[UsageEntry] = []
        for key, packed in self.winners.items():
            v = _body(packed, RANK)
            if v[0] < self.anchor:
                continue
            mid: str | None = None
            rid: str | None = None
            if not key.startswith("\x01"):
                mid, _, rest = key.partition("\x00")
                rid = None if rest.startswith("s:") else rest
            row = rows[v[7]]
            out.append(
                UsageEntry(
                    timestamp=from_ms(v[0]),
                    tokens=TokenCounts(v[1], v[2], v[3], v[4]),
                    session_id=row[_R_SESSION],
                    project=row[_R_PROJECT],
                    model=models[v[8]] or None,
                    cwd=row[_R_CWD] or None,
                    message_id=mid,
                    request_id=rid,
                    is_sidechain=bool(v[9]),
                    limit_reset=from_ms(v[6]) if v[6] else None,
                )
            )
        out.sort(key=lambda e: e.timestamp)
        return out

    def history(self) -> History:
        """Sums of everything before the first live entry (``anchor``), 8 days back."""
        extra = []
        for packed in self.winners.values():
            body = _body(packed, RANK)
            if body[0] < self.anchor:
                extra.append((self.rows[body[7]][_R_SESSION], body))
        end = self.anchor or 0
        return History(
            from_ms(end - HISTORY_MS), from_ms(end), self.buckets, self.session_sums, extra
        )


def _is_json(raw: bytes) -> bool:
    import json

    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


# -- the file ------------------------------------------------------------------------------


def live_path(cache_dir: Path, roots: Sequence[str]) -> Path:
    """The state file for these roots (its file table lies beside it, ``*.files.bin``)."""
    digest = zlib.crc32("\0".join(roots).encode("utf-8", "surrogateescape"))
    return cache_dir / f"live-v{VERSION}-{digest:08x}.bin"


def _table_path(path: Path) -> Path:
    return path.with_name(path.name[: -len(".bin")] + ".files.bin")


def _write(path: Path, body: bytes) -> None:
    with replacing(path) as out:
        out.write(_MAGIC + zlib.crc32(body).to_bytes(4, "big") + body)


def _read(path: Path) -> memoryview | None:
    """The body of a file ``_write`` wrote, or None when missing, damaged or foreign."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    head = len(_MAGIC) + 4
    if raw[: len(_MAGIC)] != _MAGIC or len(raw) < head:
        return None
    body = memoryview(raw)[head:]
    if zlib.crc32(body) != int.from_bytes(raw[len(_MAGIC) : head], "big"):
        return None
    return body


def save(path: Path, live: LiveState) -> None:
    """Write the state, and the file table when it was loaded (a full check or a rebuild).

    The table goes first, under a new generation number the state then names, so a state
    never pairs with a table of another generation (two runs at once: the last one wins).
    """
    if live.table is not None:
        live.generation = int.from_bytes(os.urandom(6), "big")
        body = live.generation.to_bytes(8, "big") + live.table.dump()
        _write(_table_path(path), body)
    _write(path, live.dump())


def load(path: Path, roots: Sequence[str]) -> LiveState | None:
    """The saved state, or None when it is missing, damaged, foreign or for other roots."""
    body = _read(path)
    if body is None:
        return None
    try:
        live = LiveState.undump(body)
    except (ValueError, EOFError, TypeError):
        return None
    if live.roots != list(roots):
        return None
    return live


def load_table(path: Path, generation: int) -> Table | None:
    """The file table saved with the state of ``generation``, or None."""
    body = _read(_table_path(path))
    if body is None or int.from_bytes(body[:8], "big") != generation:
        return None
    try:
        return Table.undump(body[8:])
    except (ValueError, EOFError, TypeError):
        return None


def from_state(
    state: Any, roots: Sequence[str], dirs: Sequence[tuple[str, int]], now_ms: int
) -> LiveState:
    """The live state from the engine's dedupe state (blocks view: no mirror lines).

    ``state`` is a ``dedupe.State`` (not imported here: the engine imports msgspec).
    """
    main: dict[str, bytes] = state.main
    files = state.files
    nums = array("q")
    for f in files:
        nums.extend((f.size, f.mtime_ns, f.inode, f.dev, f.offset))
    table = Table(
        Column([d for d, _ in dirs]),
        array("q", [m for _, m in dirs]),
        Column([f.path for f in files]),
        Column([f.session for f in files]),
        Column([f.project for f in files]),
        Column([f.cwd for f in files]),
        nums,
    )
    live = LiveState(
        list(roots), {}, [], list(state.models), {}, 0, Sums([], array("q")),
        Sums([], array("q")), now_ms, 0, table,
    )  # fmt: skip
    stamps = sorted(map(_ts, main.values()))
    if stamps:
        live.anchor = latest_block_start(stamps, BLOCK_MS / HOUR_MS)
        horizon = live.anchor - HISTORY_MS
        keep = live.keep
        folded: list[bytes] = []
        for key, packed in main.items():
            ts = _ts(packed)
            if ts >= keep:
                live.winners[key] = packed
            elif ts >= horizon:
                folded.append(packed)
        sessions = table.sessions.items
        for packed in folded:
            body = _body(packed, RANK)
            live.buckets.add(body[0] - body[0] % BUCKET_MS, body)
            live.session_sums.add(sessions[body[7]], body)
    live.mark_hot(table)
    return live


# -- bringing it up to date ----------------------------------------------------------------


def _mtime(folder: str) -> int:
    try:
        return os.stat(folder).st_mtime_ns
    except OSError:
        raise Rebuild(f"{folder} is gone") from None


def refresh(live: LiveState, now_ms: int, path: Path) -> bool:
    """Read what was appended since the last run; True when anything changed.

    Every known file is stat'ed at most once a minute (the file table at ``path`` is read
    for it), and at once when a hot folder's mtime moved (a new session or sub-agent
    transcript: it is added and read whole); in between only the hot files (see
    :meth:`LiveState.mark_hot`). Raises :class:`Rebuild` when reading appended bytes is not
    enough (a file shrank, was replaced or disappeared, or many new bytes).
    """
    everything = not 0 <= now_ms - live.checked < FULL_CHECK_MS
    for folder, mtime in live.hot_dirs:
        if _mtime(folder) != mtime:
            everything = True  # a new transcript: find it in a full check
            break
    if everything:
        table = load_table(path, live.generation)
        if table is None:
            raise Rebuild("the file table is missing or of another run")
        for n, row in live.rows.items():
            table.put(n, row)
        moved = [
            folder
            for folder, mtime in zip(table.dirs.items, table.dir_mtimes, strict=True)
            if _mtime(folder) != mtime
        ]
        for folder in moved:
            table.add_new(folder, live.roots)
        live.table = table
        live.rows = {n: table.row(n) for n in range(len(table.nums) // 5)}
    grown: list[tuple[int, int]] = []
    appended = 0
    for n, row in live.rows.items():
        try:
            st = os.stat(row[_R_PATH])
        except OSError:
            raise Rebuild(f"{row[_R_PATH]} is gone") from None
        if (
            st.st_ino != row[_R_SIZE + _INO]
            or st.st_dev != row[_R_SIZE + _DEV]
            or st.st_size < row[_R_SIZE + _SIZE]
        ):
            raise Rebuild(f"{row[_R_PATH]} shrank or was replaced")
        if st.st_size == row[_R_SIZE + _SIZE]:
            if st.st_mtime_ns != row[_R_SIZE + _MTIME]:
                raise Rebuild(f"{row[_R_PATH]} was rewritten in place")
            continue
        grown.append((n, st.st_size))
        appended += st.st_size - row[_R_SIZE + _OFFSET]
        row[_R_SIZE + _MTIME] = st.st_mtime_ns
    if appended > MAX_APPEND:
        raise Rebuild("many new bytes")
    for n, size in grown:
        try:
            live.read_appended(n, size)
        except OSError:
            raise Rebuild(f"{live.rows[n][_R_PATH]} is unreadable") from None
    if grown:
        live.rewindow()
    if live.table is not None:
        live.checked = now_ms
        live.mark_hot(live.table)
    return bool(grown) or everything


class LiveUsage:
    """The status line's inputs: the latest block's entries and blocks, and the history."""

    __slots__ = ("active", "blocks", "entries", "history", "how", "window_start")

    def __init__(self, live: LiveState, now: datetime, how: str) -> None:
        self.entries = live.entries()
        self.blocks: list[Block] = build_blocks(self.entries, now, BLOCK_MS / HOUR_MS)
        self.active = next((b for b in reversed(self.blocks) if b.is_active), None)
        self.history = live.history()
        self.window_start = from_ms(live.anchor)  # the latest block's first entry
        self.how = how  # "live" (appended bytes only) or why it was rebuilt


def load_live(
    *,
    data_dirs: Sequence[Path] | None = None,
    env: Any,
    cache_dir: Path,
    now: datetime,
    home: Path | None = None,
) -> LiveUsage:
    """The latest block's usage, from the live state plus appended bytes (or one rebuild).

    ``status --watch`` and the status line call this. On a rebuild the engine reads the
    full cache (and any new bytes) once, which costs what ``sessionmd usage`` costs.
    """
    roots = projects_roots(data_dirs, env, home)
    path = live_path(cache_dir, roots)
    now_ms = round(now.astimezone(timezone.utc).timestamp() * 1000)
    live = load(path, roots)
    how = "live"
    if live is not None:
        try:
            if refresh(live, now_ms, path):
                save(path, live)
        except Rebuild as why:
            live, how = None, f"rebuilt: {why}"
        except (TypeError, ValueError, IndexError, KeyError, AttributeError) as err:
            # A state of the right version and checksum but the wrong shape (a development
            # build wrote it): rebuild it rather than fail on every call.
            live, how = None, f"rebuilt: unusable live state ({type(err).__name__})"
    else:
        how = "rebuilt: no live state yet"
    if live is None:
        from sessionmd.usage.api import load_usage

        full = load_usage(
            data_dirs=data_dirs, env=env, cache_dir=cache_dir, now=now, view="blocks", home=home
        )
        live = from_state(full.state, roots, full.dirs, now_ms)
        with contextlib.suppress(OSError):
            save(path, live)
    return LiveUsage(live, now, how)
