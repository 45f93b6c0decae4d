"""The incremental usage cache: dedupe state and read offsets, in msgpack, under the cache dir.

Why: real users have gigabytes of transcripts and the status line runs every few hundred
milliseconds, so each run should read only the bytes appended since the last one. The cache
holds, per file, its identity (inode, device, size, mtime) and the offset of its last complete
line; and, per message key, the winning copy's counts, time, model, file and byte offset (so a
line appended to one file can still replace a winner another file gave). Ids, counts and
times only, never transcript text.

One file per set of data dirs, ``usage-v<N>-<hash>.bin`` (the status line keeps its own
small state beside it: ``live``). Layout: an 8-byte magic with the version, a msgpack header
(tables, counts, CRC-32 of the winners and sums), the keys as length-prefixed msgpack lists,
then the packed winners back to back (``lineread.PACK``, 74 bytes each), then the daily
view's sums per quarter hour and model (48 bytes each), which warm runs keep in step.
Written and read in sections, so saving never holds a second copy of the state in memory.
It is written to a temporary file and renamed into place (``atomic``), so two processes at
once only ever see whole files; the last writer wins. A file that is missing, of another version, for other
data dirs, or corrupt is ignored and rebuilt.
"""

from __future__ import annotations

import contextlib
import os
import struct
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import msgspec

from sessionmd.usage.atomic import replacing
from sessionmd.usage.dedupe import FileInfo, State, indexes_within, split_records
from sessionmd.usage.lineread import PACK
from sessionmd.usage.quarters import QUARTER_RECORD, QuarterSums

VERSION = 8  # 8: the daily view's sums per quarter hour and model (``State.quarters``)
MAGIC = b"SMDUSE\x00" + bytes([VERSION])
_SIZE = PACK.size
_LEN = struct.Struct(">I")
_BATCH = 4096  # winners written per write call


class _Header(msgspec.Struct, array_like=True, tag="sessionmd-usage"):
    version: int
    roots: list[str]
    files: list[FileInfo]
    models: list[str]
    n_main: int
    n_prog: int
    keys_bytes: int  # unused (0): keys follow in length-prefixed batches
    crc: int  # CRC-32 of the packed winners, then of the sums
    problems: list[tuple[str, int, str]] = []  # bad lines already read (for --verbose)
    n_quarters: int = -1  # sums records after the winners (-1: none kept)


_encoder = msgspec.msgpack.Encoder()
_header = msgspec.msgpack.Decoder(_Header)
_keys = msgspec.msgpack.Decoder(list[str])


def cache_path(cache_dir: Path, roots: Sequence[str]) -> Path:
    """The full cache for these roots (the status line keeps its own: ``live.live_path``)."""
    import hashlib

    digest = hashlib.sha1("\0".join(roots).encode()).hexdigest()[:12]
    return cache_dir / f"usage-v{VERSION}-{digest}.bin"


def prune(cache_dir: Path) -> int:
    """Delete cache files of other versions, the status line's live state of other versions,
    and the recent/block files of versions up to 5 (the live state replaced them): they are
    never read again."""
    from sessionmd.usage.live import VERSION as LIVE_VERSION

    gone = 0
    try:
        names = os.listdir(cache_dir)
    except OSError:
        return 0
    for name in names:
        kind, _, rest = name.partition("-v")
        version = rest.split("-", 1)[0]
        if not version.isdigit():
            continue
        stale = (kind == "usage" and int(version) != VERSION) or (
            kind == "live" and int(version) != LIVE_VERSION
        )
        if stale or kind in ("recent", "block"):
            with contextlib.suppress(OSError):
                os.unlink(cache_dir / name)
                gone += 1
    return gone


def _batches(values: list[bytes]) -> Iterator[bytes]:
    for n in range(0, len(values), _BATCH):
        yield b"".join(values[n : n + _BATCH])


def dump(out: BinaryIO, state: State, roots: Sequence[str]) -> None:
    """Write the state to ``out``."""
    keys = [*state.main, *state.prog]
    values = [*state.main.values(), *state.prog.values()]
    sums = b"" if state.quarters is None else state.quarters.to_bytes()
    crc = 0
    for chunk in _batches(values):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(sums, crc)
    header = _encoder.encode(
        _Header(
            VERSION,
            list(roots),
            state.files,
            state.models,
            len(state.main),
            len(state.prog),
            0,
            crc,
            state.problems,
            -1 if state.quarters is None else len(state.quarters.sums),
        )
    )
    out.write(MAGIC)
    out.write(_LEN.pack(len(header)))
    out.write(header)
    for n in range(0, len(keys), _BATCH):
        part = _encoder.encode(keys[n : n + _BATCH])
        out.write(_LEN.pack(len(part)))
        out.write(part)
    for chunk in _batches(values):
        out.write(chunk)
    out.write(sums)


def encode_state(state: State, roots: Sequence[str]) -> bytes:
    """``dump`` into bytes (tests; small states)."""
    import io

    buf = io.BytesIO()
    dump(buf, state, roots)
    return buf.getvalue()


def load(
    src: BinaryIO, roots: Sequence[str], accept: Callable[[list[FileInfo]], bool] | None = None
) -> State | None:
    """The state in ``src``, or None when it is not a whole cache of this version for these
    roots, or when ``accept`` refuses its file table (read first, so the winners of a cache
    that will not be used are never loaded)."""
    try:
        if src.read(len(MAGIC)) != MAGIC:
            return None
        (size,) = _LEN.unpack(src.read(_LEN.size))
        head = _header.decode(src.read(size))
        if head.version != VERSION or head.roots != list(roots):
            return None
        if accept is not None and not accept(head.files):
            return None
        count = head.n_main + head.n_prog
        keys: list[str] = []
        while len(keys) < count:
            (size,) = _LEN.unpack(src.read(_LEN.size))
            keys.extend(_keys.decode(src.read(size)))
        if len(keys) != count:
            return None
        nfiles, nmodels = len(head.files), len(head.models)
        values: list[bytes] = []
        crc = 0
        for start in range(0, count, _BATCH):
            n = min(_BATCH, count - start)
            blob = src.read(n * _SIZE)
            if len(blob) != n * _SIZE:
                return None
            crc = zlib.crc32(blob, crc)
            if not indexes_within(blob, nfiles, nmodels):
                return None  # points outside its own tables: foreign or damaged
            values.extend(split_records(blob))
        quarters = None
        if head.n_quarters >= 0:
            blob = src.read(head.n_quarters * QUARTER_RECORD)
            if len(blob) != head.n_quarters * QUARTER_RECORD:
                return None
            crc = zlib.crc32(blob, crc)
            quarters = QuarterSums.from_bytes(blob, nmodels)
            if quarters is None:
                return None  # names a model outside its own table
        if src.read(1) or crc != head.crc:
            return None
    except (OSError, struct.error, msgspec.DecodeError, msgspec.ValidationError):
        return None
    main = dict(zip(keys[: head.n_main], values[: head.n_main], strict=True))
    prog = dict(zip(keys[head.n_main :], values[head.n_main :], strict=True))
    state = State(
        files=head.files, models=list(head.models), main=main, prog=prog, quarters=quarters
    )
    state.problems = [(p, ln, why) for p, ln, why in head.problems]
    return state


def decode_state(data: bytes, roots: Sequence[str]) -> State | None:
    import io

    return load(io.BytesIO(data), roots)


def read(
    path: Path, roots: Sequence[str], accept: Callable[[list[FileInfo]], bool] | None = None
) -> State | None:
    try:
        with path.open("rb") as fh:
            return load(fh, roots, accept)
    except OSError:
        return None


def save(path: Path, state: State, roots: Sequence[str]) -> bool:
    """Atomically replace ``path`` with the state; False (and nothing changed) when it cannot."""
    try:
        with replacing(path) as fh:
            dump(fh, state, roots)
    except OSError:
        return False
    return True
