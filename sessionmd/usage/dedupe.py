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

Each winner is a 73-byte ``bytes`` (``struct``), not a tuple of Python ints, so that state
costs about 200 bytes per distinct message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import msgspec

from sessionmd.usage.scan import BODY, PACK, RANK, repack

_body = BODY.unpack_from
_file_at = RANK + 56  # the file index's offset in a packed winner
_offset_at = RANK + 40


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
    _model_idx: dict[str, int] = field(default_factory=dict)

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
        """
        a = new[:RANK]
        b = cur[:RANK]
        if a != b:
            return a < b
        fa = int.from_bytes(new[_file_at : _file_at + 4], "big")
        fb = int.from_bytes(cur[_file_at : _file_at + 4], "big")
        if fa != fb:
            return self.files[fa].path < self.files[fb].path
        oa = int.from_bytes(new[_offset_at : _offset_at + 8], "big", signed=True)
        ob = int.from_bytes(cur[_offset_at : _offset_at + 8], "big", signed=True)
        return oa < ob

    def sink(self, file_idx: int) -> _FileSink:
        """The sink that folds one file's usage lines into this state."""
        return _FileSink(self, file_idx)

    def merge(
        self,
        models: list[str],
        main: Iterable[tuple[str, bytes]],
        prog: Iterable[tuple[str, bytes]] = (),
    ) -> None:
        """Fold another state's winners (a worker's, over the same file table) into this one."""
        remap = {n: self.model_index(m) for n, m in enumerate(models)}
        moved = {n for n, to in remap.items() if n != to}
        beats = self.beats
        for mine, theirs in ((self.main, main), (self.prog, prog)):
            for key, packed in theirs:
                if moved:
                    v = unpack(packed)
                    if v[8] in moved:
                        packed = repack((*v[:8], remap[v[8]], v[9]))
                cur = mine.get(key)
                if cur is None or beats(packed, cur):
                    mine[key] = packed

    def export(self) -> tuple[list[str], list[str], bytes, list[str], bytes]:
        """(models, main keys, main winners joined, mirror keys, mirror winners joined).

        The compact form a worker sends back: two lists and two byte strings pickle and load
        far faster, and in far less memory, than dictionaries of small objects.
        """
        return (
            self.models,
            list(self.main),
            b"".join(self.main.values()),
            list(self.prog),
            b"".join(self.prog.values()),
        )

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


class _FileSink:
    """One file's view of a State, in the shape the scan loop wants (see ``scan.Sink``)."""

    __slots__ = ("beats", "file_idx", "main", "model_index", "models", "prog")

    def __init__(self, state: State, file_idx: int) -> None:
        self.file_idx = file_idx
        self.main = state.main
        self.prog = state.prog
        self.beats = state.beats
        self.model_index = state.model_index
        self.models = state._model_idx


def split_packed(keys: list[str], blob: bytes) -> Iterator[tuple[str, bytes]]:
    """Pairs (key, packed winner) from ``State.export``'s keys and joined winners."""
    size = PACK.size
    for n, key in enumerate(keys):
        yield key, blob[n * size : (n + 1) * size]
