"""ccusage 20.0.24's deduplication, as an order-free minimum, over compact packed records.

Claude Code writes one API response several times (streaming, resumed sessions, sub-agent
mirrors). ccusage 20 keeps, per key (``message.id``, ``requestId``) - or (``message.id``,
session) when ``requestId`` is missing - the copy with the largest input + output +
cache-creation + cache-read total; a non-sidechain copy beats a sidechain one; ties keep the
first in (file path, line) order. That rule is a minimum over the rank
``(sidechain, -total, path, offset)``, so it does not depend on the order lines are read in:
files can be scanned in parallel, or appended to later, and merged with ``min``.

Two winners are kept per key: the best ordinary line, and the best ``agent_progress`` mirror
line. ccusage's daily view counts both kinds (its winner is the better of the two); its blocks
and sessions views ignore mirrors (the ordinary winner only).

Each winner is a 74-byte ``bytes`` (``struct``), not a tuple of Python ints, so that state
costs about 260 bytes per distinct message (key string, winner and dictionary entry; about
300 of resident memory on a 1 GB corpus).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from operator import itemgetter
from typing import Protocol

import msgspec

from sessionmd.usage.lineread import BODY, PACK, RANK
from sessionmd.usage.quarters import QuarterSums

_body = BODY.unpack_from
_file_at = RANK + 56  # the file index's offset in a packed winner
_offset_at = RANK + 40
_model_at = RANK + 60  # the model index's offset
_CHUNK = 8192  # winners per chunk (``winner_chunks``)
_STAMP = struct.Struct(">q")  # a packed winner's timestamp, just after the rank prefix
_TS = struct.Struct(f">{RANK}xq{PACK.size - RANK - 8}x")  # a packed winner's timestamp alone
_RECORD = struct.Struct(f"{PACK.size}s")  # one packed winner, cut whole out of a joined run
_first = itemgetter(0)
# A packed winner's file and model index alone, the rest skipped
_FILE_ONLY = struct.Struct(f">{_file_at}xI{PACK.size - _file_at - 4}x")
_MODEL_ONLY = struct.Struct(f">{_model_at}xI{PACK.size - _model_at - 4}x")


def split_records(blob: bytes) -> Iterator[bytes]:
    """The packed winners joined back to back in ``blob``, one ``bytes`` each, cut in C."""
    return map(_first, _RECORD.iter_unpack(blob))


def indexes_within(blob: bytes, files: int, models: int) -> bool:
    """Every winner joined in ``blob`` (at least one) points inside tables of these sizes.

    Checked by the largest index of each kind, in C: a Python loop over every winner made a
    warm run's cache read three times slower.
    """
    top_file: int = max(_FILE_ONLY.iter_unpack(blob))[0]
    top_model: int = max(_MODEL_ONLY.iter_unpack(blob))[0]
    return top_file < files and top_model < models


def unpack(packed: bytes) -> tuple[int, ...]:
    """The body of a packed winner: ts_ms, input, output, cache_creation, cache_read, offset,
    reset_ms, file index, model index, sidechain."""
    return _body(packed, RANK)


class FileInfo(msgspec.Struct, array_like=True):
    """One transcript file as the state knows it (identity and how far it has been read).

    A msgspec Struct so that the cache decodes straight into these (the status line loads
    thousands of them on every call).
    """

    path: str
    session: str  # session id from the path (ccusage's ``session`` grouping)
    project: str  # the folder under ``projects/`` (Claude Code's encoded cwd)
    size: int = 0
    mtime_ns: int = 0
    inode: int = 0
    dev: int = 0
    offset: int = 0  # just past the last complete line read
    cwd: str = ""


@dataclass(slots=True)
class State:
    """Every key's winning copy, for both views, plus the file and model tables they point to."""

    files: list[FileInfo] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    main: dict[str, bytes] = field(default_factory=dict)
    prog: dict[str, bytes] = field(default_factory=dict)
    problems: list[tuple[str, int, str]] = field(default_factory=list)  # bad lines seen so far
    # The daily view's sums of these winners (``winner_chunks(True)``), kept in step with
    # them and in the cache, so a warm ``usage daily`` need not sum every winner again.
    # None when not known (``api._load`` makes them where the daily view asks).
    quarters: QuarterSums | None = None
    _model_idx: dict[str, int] = field(default_factory=dict)
    _rank: list[int] = field(default_factory=list)  # see ``path_rank``

    def __post_init__(self) -> None:
        self._model_idx = {m: i for i, m in enumerate(self.models)}

    def model_index(self, name: str) -> int:
        idx = self._model_idx.get(name)
        if idx is None:
            idx = len(self.models)
            self.models.append(name)
            self._model_idx[name] = idx
        return idx

    def beats(self, new: bytes, cur: bytes) -> bool:
        """True when ``new`` ranks before ``cur`` under ccusage 20's rule.

        The rank prefix orders non-sidechain first, then the larger total; only a tie looks
        further, at the file path and then the byte offset (first in (path, line) wins).
        Ties are common (a resumed session copies lines verbatim), so paths are compared
        through a cached rank, not as strings.
        """
        a = new[:RANK]
        b = cur[:RANK]
        if a != b:
            return a < b
        fa = new[_file_at : _file_at + 4]
        fb = cur[_file_at : _file_at + 4]
        if fa == fb:
            # Offsets are never negative, so their big-endian bytes sort as the numbers do.
            return new[_offset_at : _offset_at + 8] < cur[_offset_at : _offset_at + 8]
        rank = self._rank if len(self._rank) == len(self.files) else self.path_rank()
        return rank[int.from_bytes(fa, "big")] < rank[int.from_bytes(fb, "big")]

    def path_rank(self) -> list[int]:
        """Each file's position in path order (rebuilt when files were added)."""
        if len(self._rank) == len(self.files):
            return self._rank
        files = self.files
        rank = [0] * len(files)
        for n, idx in enumerate(sorted(range(len(files)), key=lambda i: files[i].path)):
            rank[idx] = n
        self._rank = rank
        return rank

    def sink(self, file_idx: int, tables: tuple[Table, Table] | None = None) -> _FileSink:
        """The sink that folds one file's usage lines into this state (through ``tables``,
        recorders of ``main`` and ``prog``, when given)."""
        return _FileSink(self, file_idx, tables)

    def daily_winner(self, key: str) -> bytes | None:
        """The winner the daily view counts for ``key``: the better of its two."""
        return self._better(self.main.get(key), self.prog.get(key))

    def _better(self, main: bytes | None, prog: bytes | None) -> bytes | None:
        # As ``winner_chunks`` picks: the mirror only where it beats the ordinary line.
        if prog is None:
            return main
        if main is None or self.beats(prog, main):
            return prog
        return main

    def correct_sums(self, main: Recorder, prog: Recorder) -> None:
        """Bring ``quarters`` in step after a run that went through these recorders: each
        key whose daily winner changed takes the old one out and the new one in."""
        if self.quarters is None:
            return
        gone: list[bytes] = []
        came: list[bytes] = []
        for key in main.before.keys() | prog.before.keys():
            old = self._better(
                main.before[key] if key in main.before else self.main.get(key),
                prog.before[key] if key in prog.before else self.prog.get(key),
            )
            new = self.daily_winner(key)
            if old is not new:
                if old is not None:
                    gone.append(old)
                if new is not None:
                    came.append(new)
        self.quarters.subtract(gone)
        self.quarters.add_chunks([b"".join(came)])

    def merge_packed(
        self,
        models: list[str],
        main_keys: Sequence[str],
        main_blob: bytes,
        prog_keys: Sequence[str] = (),
        prog_blob: bytes = b"",
    ) -> None:
        """Fold another state's winners (a worker's, over the same file table) into this one.

        They come as keys and their packed winners joined back to back: two lists and two
        byte strings pickle and load far faster than dictionaries of small objects. A key
        this state lacks is inserted as is; only common keys are ranked.

        Keys common to both are few (a message's copies mostly live in one project, and
        workers read runs of paths), so every key is inserted in one C-level ``update`` and
        the common ones, found by a set intersection, are ranked afterwards: a Python loop
        over every key cost the parent a tenth of a cold scan.
        """
        remap = {n: self.model_index(m) for n, m in enumerate(models)}
        moved = {n: to for n, to in remap.items() if n != to}
        beats = self.beats
        for mine, keys, blob in (
            (self.main, main_keys, main_blob),
            (self.prog, prog_keys, prog_blob),
        ):
            if not keys:
                continue
            if moved:
                blob = _remodel(blob, moved, len(models))
            if len(blob) != len(keys) * PACK.size:
                raise ValueError("merge_packed: keys and winners differ in number")
            values = split_records(blob)
            common = mine.keys() & keys
            kept = {key: mine[key] for key in common}
            mine.update(zip(keys, values, strict=True))
            for key, cur in kept.items():
                if not beats(mine[key], cur):
                    mine[key] = cur

    def winner_chunks(self, with_progress: bool, size: int = _CHUNK) -> Iterator[bytes]:
        """Every winner of one view (as ``winners`` picks them), packed back to back in chunks.

        For aggregations that need neither keys nor order: ``PACK.iter_unpack`` over a chunk
        unpacks in C, where a generator of tuples cost a Python frame each. Chunks, not one
        string: ``bytes.join`` holds an 80-byte buffer record per part while it joins, which
        for every winner at once doubled the report's peak memory.
        """
        main = self.main
        values: Iterable[bytes] = main.values()
        if with_progress and self.prog:
            beats = self.beats
            extra: list[bytes] = []
            better: dict[str, bytes] = {}
            for key, packed in self.prog.items():
                cur = main.get(key)
                if cur is None:
                    extra.append(packed)
                elif beats(packed, cur):
                    better[key] = packed
            if better:
                values = map(better.get, main, main.values())  # C-level, no frame
            values = chain(values, extra)
        it = iter(values)
        while True:
            chunk = b"".join(islice(it, size))
            if not chunk:
                return
            yield chunk

    def count_after(self, ms: int, with_progress: bool) -> int:
        """How many winners of one view are dated after ``ms`` (clock skew).

        One slice per winner finds the latest stamp; the winners are ranked one by one only
        when some stamp is after ``ms``, which is rare.
        """
        tables = [self.main, self.prog] if with_progress else [self.main]
        stamp = itemgetter(slice(RANK, RANK + 8))
        bound = _STAMP.pack(ms)
        # Big-endian bytes sort as the numbers do while both are >= 0; a negative stamp
        # sorts high, which only sends us down the exact path.
        if ms >= 0 and not any(t and max(map(stamp, t.values())) > bound for t in tables):
            return 0
        return sum(1 for _k, v, _p in self.winners(with_progress) if v[0] > ms)

    def winners(self, with_progress: bool) -> Iterator[tuple[str, tuple[int, ...], bool]]:
        """(key, unpacked winner, from a mirror line) for one view, one at a time.

        The daily view counts ``agent_progress`` mirrors (the better of the two winners);
        blocks and sessions do not. A generator, so a report over a million messages never
        holds a million unpacked tuples.
        """
        prog = self.prog if with_progress else {}
        beats = self.beats
        for key, packed in self.main.items():
            other = prog.get(key)
            if other is not None and beats(other, packed):
                yield key, unpack(other), True
            else:
                yield key, unpack(packed), False
        if prog:
            main = self.main
            for key, packed in prog.items():
                if key not in main:
                    yield key, unpack(packed), True

    def stamps(self, with_progress: bool) -> list[int]:
        """Every winner's time (ms) for one view, sorted: ``status`` finds on these which
        messages its windows need as objects (``status_io.split_history``)."""
        times = [
            t for chunk in self.winner_chunks(with_progress) for (t,) in _TS.iter_unpack(chunk)
        ]
        times.sort()
        return times


class Table(Protocol):
    """What the scan loop does to a winners table: a ``dict``, or a ``Recorder`` of one."""

    def setdefault(self, key: str, packed: bytes, /) -> bytes: ...

    def __setitem__(self, key: str, packed: bytes, /) -> None: ...


class Recorder:
    """A winners table (``State.main`` or ``prog``) that notes each key's winner from before
    the first change a run makes to it (None for a key the run added), so that sums kept
    beside the state (``State.quarters``) are corrected for exactly the winners that
    changed. Only warm runs (appended bytes) go through one: it costs a call per line."""

    __slots__ = ("before", "table")

    def __init__(self, table: dict[str, bytes]) -> None:
        self.table = table
        self.before: dict[str, bytes | None] = {}

    def setdefault(self, key: str, packed: bytes, /) -> bytes:
        cur = self.table.setdefault(key, packed)
        if cur is packed and key not in self.before:
            self.before[key] = None
        return cur

    def __setitem__(self, key: str, packed: bytes, /) -> None:
        if key not in self.before:
            self.before[key] = self.table[key]
        self.table[key] = packed


class _FileSink:
    """One file's view of a State, in the shape the scan loop wants (see ``scan.Sink``)."""

    __slots__ = ("beats", "file_idx", "main", "model_index", "models", "prog")

    def __init__(
        self, state: State, file_idx: int, tables: tuple[Table, Table] | None = None
    ) -> None:
        self.file_idx = file_idx
        self.main: Table = state.main
        self.prog: Table = state.prog
        if tables is not None:
            self.main, self.prog = tables
        self.beats = state.beats
        self.model_index = state.model_index
        self.models = state._model_idx


def _remodel(blob: bytes, moved: dict[int, int], count: int) -> bytes:
    """Joined winners with their model indexes moved from a worker's model table to ours.

    The worker numbers models in the order it met them, so its indexes differ from ours
    in nearly every batch: rewriting them record by record cost more than the merge. While
    there are fewer than 256 models (always, in practice), an index is its last byte, and
    one strided ``translate`` rewrites that byte in every record at once.
    """
    size = PACK.size
    if count <= 256 and max(moved.values()) < 256:  # ``count``: the worker's models
        table = bytearray(range(256))
        for old, to in moved.items():
            table[old] = to
        out = bytearray(blob)
        out[_model_at + 3 :: size] = out[_model_at + 3 :: size].translate(table)
        return bytes(out)
    records = []
    for n in range(0, len(blob), size):
        packed = blob[n : n + size]
        new = moved.get(int.from_bytes(packed[_model_at : _model_at + 4], "big"))
        if new is not None:
            packed = packed[:_model_at] + new.to_bytes(4, "big") + packed[_model_at + 4 :]
        records.append(packed)
    return b"".join(records)
