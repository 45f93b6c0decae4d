"""The incremental usage cache: dedupe state and read offsets, in msgpack, under the cache dir.

Why: real users have gigabytes of transcripts and the status line runs every few hundred
milliseconds, so each run should read only the bytes appended since the last one. The cache
holds, per file, its identity (inode, device, size, mtime) and the offset of its last complete
line; and, per message key, the winning copy's counts, time, model, file and byte offset (so a
line appended to one file can still replace a winner another file gave). Ids, counts and
times only, never transcript text.

Two files per set of data dirs:
``usage-v<N>-<hash>.msgpack`` (everything) and ``recent-v<N>-<hash>.msgpack`` (the file table
and only the winners of the current chain of 5-hour blocks, which the status line reads).
Both are written to a temporary file and renamed into place, so two processes at once only
ever see whole files; the last writer wins and each file is consistent on its own. A file
that is missing, of another version, for other data dirs, or corrupt is ignored and rebuilt.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import msgspec

from sessionmd.usage.dedupe import FileInfo, State
from sessionmd.usage.scan import BODY, PACK, RANK

VERSION = 2
_SIZE = PACK.size


class _Cache(msgspec.Struct, array_like=True, tag="sessionmd-usage"):
    version: int
    roots: list[str]
    files: list[FileInfo]
    models: list[str]
    main_keys: list[str]
    main_vals: bytes
    prog_keys: list[str]
    prog_vals: bytes
    window_start_ms: int = 0  # recent file only: winners at or after this time
    problems: list[tuple[str, int, str]] = []  # bad lines already read (for --verbose)
    dirs: list[tuple[str, int]] = []  # folders walked, with mtimes (new files change them)
    checked_ms: int = 0  # recent file only: when every known file was last stat'ed


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(_Cache)


def cache_paths(cache_dir: Path, roots: Sequence[str]) -> tuple[Path, Path]:
    """The full and the recent cache file for this set of transcript roots."""
    import hashlib  # here: the status line imports this module and rarely needs it twice

    digest = hashlib.sha1("\0".join(roots).encode()).hexdigest()[:12]
    return (
        cache_dir / f"usage-v{VERSION}-{digest}.msgpack",
        cache_dir / f"recent-v{VERSION}-{digest}.msgpack",
    )


def _join(table: dict[str, bytes]) -> tuple[list[str], bytes]:
    return list(table), b"".join(table.values())


def _split(keys: list[str], blob: bytes) -> dict[str, bytes] | None:
    if len(blob) != len(keys) * _SIZE:
        return None
    return {k: blob[n * _SIZE : (n + 1) * _SIZE] for n, k in enumerate(keys)}


def encode_state(
    state: State,
    roots: Sequence[str],
    window_start_ms: int = 0,
    main: dict[str, bytes] | None = None,
    dirs: Sequence[tuple[str, int]] = (),
    checked_ms: int = 0,
) -> bytes:
    main_keys, main_vals = _join(state.main if main is None else main)
    prog_keys, prog_vals = _join(state.prog if main is None else {})
    return _encoder.encode(
        _Cache(
            VERSION,
            list(roots),
            state.files,
            state.models,
            main_keys,
            main_vals,
            prog_keys,
            prog_vals,
            window_start_ms,
            state.problems,
            list(dirs),
            checked_ms,
        )
    )


class Loaded(NamedTuple):
    state: State
    window_start_ms: int
    dirs: list[tuple[str, int]]
    checked_ms: int


def decode_state(data: bytes, roots: Sequence[str]) -> Loaded | None:
    """The state in ``data``, or None when it is not a cache of this version for these roots."""
    try:
        raw = _decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if raw.version != VERSION or raw.roots != list(roots):
        return None
    main = _split(raw.main_keys, raw.main_vals)
    prog = _split(raw.prog_keys, raw.prog_vals)
    if main is None or prog is None:
        return None
    files = raw.files
    nfiles, nmodels = len(files), len(raw.models)
    for packed in (*main.values(), *prog.values()):
        v = BODY.unpack_from(packed, RANK)
        if v[7] >= nfiles or v[8] >= nmodels:
            return None  # points outside its own tables: foreign or damaged
    state = State(files=files, models=list(raw.models), main=main, prog=prog)
    state.problems = [tuple(p) for p in raw.problems]  # type: ignore[misc]
    return Loaded(state, raw.window_start_ms, [(d, m) for d, m in raw.dirs], raw.checked_ms)


def read(path: Path, roots: Sequence[str]) -> Loaded | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return decode_state(data, roots)


def write(path: Path, data: bytes) -> bool:
    """Atomically replace ``path`` with ``data``; False (and nothing changed) when it cannot.

    The temporary name carries the pid, so two processes never write the same temporary file;
    ``os.replace`` is atomic, so readers see the old file or the new one, never a mix.
    """
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)
        return True
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
