"""Read usage records out of one transcript file, from a byte offset to its last complete line.

Why it is shaped like this: a transcript is mostly user text and tool output; only assistant
lines (and sub-agent ``agent_progress`` mirrors) carry ``"usage":{``. So the raw bytes are
searched for that marker and only the lines holding it are decoded, with msgspec Structs that
name just the fields sessionmd needs (everything else is skipped by the C decoder). The file is
read in fixed-size chunks so that a pathological 50 MB line costs one chunk of memory, not 50 MB.

The marker is searched with StringZilla's SIMD ``find``, not ``bytes.find``: every byte of
every transcript passes through this search, and CPython's (a skip loop keyed on the
needle's last byte, which in JSON text rarely skips far) took a third of a cold scan's CPU;
StringZilla takes a quarter of that (measured on a 1 GB corpus: 0.98 s against 0.30 s).

Nothing here imports pydantic, rich or click. (The status line reads appended lines with
``lineread`` instead: msgspec alone costs it 25 ms to import.)
A winner is a packed byte string (``lineread.PACK``) so that a million of them stay small.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Optional, Protocol

import msgspec
import stringzilla
from msgspec import UNSET

from sessionmd.usage.lineread import (
    EPOCH,
    LIMIT_MARKER,
    MARKER,
    MIRROR_INNER_NOT_NULL,
    MIRROR_LOOSE_NOT_NULL,
    MIRROR_OUTER_NOT_NULL,
    PACK,
    dedupe_key,
    limit_reset_ms,
    version_ok,
)

if TYPE_CHECKING:
    from sessionmd.usage.dedupe import Table

# A message's winning copy, packed (the layout lives in ``lineread``, which the status line's
# reader shares): a 9-byte rank prefix (sidechain, then 2**63 - total, big-endian) makes "is
# this copy better?" a comparison of two short byte strings; the body that follows holds:
# ts_ms, input, output, cache_creation, cache_read, offset, reset_ms, file index, model
# index, sidechain.
pack = PACK.pack
_BIAS = 1 << 63


def repack(body: tuple[int, ...]) -> bytes:
    """A packed winner from its body fields (``BODY`` order)."""
    total = body[1] + body[2] + body[3] + body[4]
    return pack(body[9], _BIAS - total, *body)


_NOT_ASCII = bytes(range(128, 256))
CHUNK = 1 << 20  # bytes read at a time
MAX_LINE = 16 << 20  # a usage line longer than this is skipped (and counted), never buffered


# Timestamps must carry a zone (Claude Code writes UTC with Z); a naive one is not guessed.
_Stamp = Annotated[datetime, msgspec.Meta(tz=True)]

# What ccusage 20.0.24 accepts, field by field (probed with its binary, one mutated line at a
# time: tests/test_usage_ccusage.py keeps the two in step). A field may be missing, but when
# present: ids, model and session id are non-empty strings (null rejects the line), token
# counts are non-negative integers (null rejects), ``costUSD`` is a number, ``version``
# starts with digits.digits.digits (checked in the scan loop, once per distinct value),
# ``isSidechain`` is a boolean or null. ``type`` and ``cwd`` may be anything, except that a
# null ``cwd`` rejects the line. msgspec does not check a default against the field's type,
# so ``= None`` below means "missing" while a JSON null still fails the type.
_Id = Annotated[str, msgspec.Meta(min_length=1)]
_Count = Annotated[int, msgspec.Meta(ge=0)]


class _Usage(msgspec.Struct, gc=False, kw_only=True):
    input_tokens: _Count
    cache_creation_input_tokens: _Count = None  # type: ignore[assignment]
    cache_read_input_tokens: _Count = None  # type: ignore[assignment]
    output_tokens: _Count


class _Text(msgspec.Struct, gc=False):
    text: Optional[str] = None  # noqa: UP045


class _Message(msgspec.Struct, gc=False):
    model: _Id = None  # type: ignore[assignment]
    id: _Id = None  # type: ignore[assignment]
    usage: Optional[_Usage] = None  # noqa: UP045


class _LimitMessage(msgspec.Struct, gc=False):
    content: Optional[list[_Text]] = None  # noqa: UP045


class _Inner(msgspec.Struct, gc=False):
    """The assistant line Claude Code mirrors inside a ``progress`` line's ``data.message``.

    ccusage checks it as an assistant line, except that ``cwd``, ``version`` and ``sessionId``
    only must not be null (``_mirror_fault``).
    """

    isSidechain: Optional[bool] = None  # noqa: UP045
    cwd: Any = msgspec.UNSET
    sessionId: Any = msgspec.UNSET
    version: Any = msgspec.UNSET
    message: Optional[_Message] = None  # noqa: UP045
    requestId: _Id = None  # type: ignore[assignment]
    timestamp: Optional[_Stamp] = None  # noqa: UP045
    costUSD: float = None  # type: ignore[assignment]


class _Data(msgspec.Struct, gc=False):
    message: Optional[_Inner] = None  # noqa: UP045


class _Line(msgspec.Struct, gc=False):
    # Fields in the order Claude Code writes them: msgspec looks a key up from where the
    # previous one matched, so a known key is found at the first comparison.
    isSidechain: Optional[bool] = None  # noqa: UP045
    cwd: Any = msgspec.UNSET  # None only for a JSON null
    sessionId: _Id = None  # type: ignore[assignment]
    version: Any = msgspec.UNSET  # None only for a JSON null; checked in the scan loop
    message: Optional[_Message] = None  # noqa: UP045
    data: Optional[_Data] = None  # noqa: UP045
    requestId: _Id = None  # type: ignore[assignment]
    timestamp: Optional[_Stamp] = None  # noqa: UP045
    costUSD: float = None  # type: ignore[assignment]


class _MirrorLine(msgspec.Struct, gc=False):
    """A line carrying a mirror (``data.message``) whose own fields fail ``_Line``'s checks.

    ccusage 20's daily view counts a mirror whatever the line's ``type``, ``timestamp``,
    ``isSidechain`` or ``message`` hold; of its own fields only ``sessionId`` must be a
    non-empty string, and ``cwd``, ``version``, ``requestId`` and ``costUSD`` must not be null.
    """

    cwd: Any = msgspec.UNSET
    sessionId: _Id = None  # type: ignore[assignment]
    version: Any = msgspec.UNSET
    data: Optional[_Data] = None  # noqa: UP045
    requestId: Any = msgspec.UNSET
    costUSD: Any = msgspec.UNSET


class _LimitLine(msgspec.Struct, gc=False):
    message: Optional[_LimitMessage] = None  # noqa: UP045


_decode_line = msgspec.json.Decoder(_Line).decode
_decode_mirror = msgspec.json.Decoder(_MirrorLine).decode


def _mirror_fault(outer: _Line | _MirrorLine, inner: _Inner) -> str:
    """Why ccusage 20 would skip this mirror line ("" when it counts it)."""
    names: tuple[str, ...] = MIRROR_OUTER_NOT_NULL
    if isinstance(outer, _MirrorLine):  # _Line has already refused a null requestId, costUSD
        names += MIRROR_LOOSE_NOT_NULL
    for name in names:
        if getattr(outer, name) is None:
            return f"malformed: `{name}` is null"
    for name in MIRROR_INNER_NOT_NULL:
        if getattr(inner, name) is None:
            return f"malformed: `data.message.{name}` is null"
    return ""


def _as_mirror(raw: memoryview) -> _MirrorLine | None:
    """The line read with a mirror line's looser checks; None unless it carries a mirror."""
    try:
        line = _decode_mirror(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return line if line.data is not None and line.data.message is not None else None


_decode_limit = msgspec.json.Decoder(_LimitLine).decode


class Sink(Protocol):
    """Where scanned usage lines go: one file's view of the dedupe state.

    ``main`` and ``prog`` map a dedupe key to its packed winner (ordinary lines and
    ``agent_progress`` mirrors); ``beats(new, cur)`` is the ranking; ``models`` maps a model
    name to its index (``model_index`` adds one). The scan loop packs and compares inline:
    it runs once per usage line, and a method call per line costs a tenth of the scan.
    """

    file_idx: int
    main: Table
    prog: Table
    models: dict[str, int]

    def beats(self, new: bytes, cur: bytes) -> bool: ...

    def model_index(self, name: str) -> int: ...


@dataclass(slots=True)
class Problem:
    """A line or file that was skipped, with where it is, for ``--verbose``."""

    path: str
    line: int  # 1-based; 0 for the whole file (or not yet known: see ``offset``)
    reason: str
    offset: int = -1  # byte offset of the line, until its line number is worked out


@dataclass(slots=True)
class FileScan:
    """What one pass over a file's new bytes found (the usage itself went to the sink)."""

    end_offset: int = 0  # offset just past the last complete line
    problems: list[Problem] = field(default_factory=list)
    cwd: str | None = None
    lines_decoded: int = 0
    bytes_read: int = 0
    future: int = 0  # usage lines whose timestamp is after ``now`` (clock skew)


def _reset_ms(raw: bytes | memoryview) -> int:
    """``Claude AI usage limit reached|<epoch>``: the reset time ccusage reports for a block."""
    try:
        line = _decode_limit(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return 0
    if line.message is None or not line.message.content:
        return 0
    return limit_reset_ms(part.text for part in line.message.content)


def scan_file(
    path: str,
    session: str,
    sink: Sink,
    *,
    offset: int = 0,
    now_ms: int | None = None,
) -> FileScan:
    """Feed the usage lines of ``path`` after byte ``offset`` into ``sink``.

    ``session`` is the session id the file belongs to (from its path), the fallback dedupe
    scope for lines without ``requestId``. A last line with no newline is normal (Claude
    Code is still writing it): it is used only when it is already complete JSON; otherwise
    ``end_offset`` stops before it and the next pass reads it again.
    """
    out = FileScan(end_offset=offset)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        out.problems.append(Problem(path, 0, f"unreadable: {err.strerror or err}"))
        return out
    try:
        if offset:
            os.lseek(fd, offset, os.SEEK_SET)
        _scan_fd(fd, path, session, out, sink, now_ms)
    except OSError as err:
        out.problems.append(Problem(path, 0, f"read failed: {err.strerror or err}"))
    finally:
        os.close(fd)
    return out


def _scan_fd(
    fd: int, path: str, session: str, out: FileScan, sink: Sink, now_ms: int | None
) -> None:
    base = out.end_offset  # file offset of data[0]
    data = b""
    skipping = -1  # offset of an over-long line whose bytes are being dropped
    while True:
        chunk = os.read(fd, CHUNK)
        if not chunk:
            break
        out.bytes_read += len(chunk)
        data = data + chunk if data else chunk
        if skipping >= 0:
            nl = data.find(b"\n")
            if nl < 0:
                base += len(data)
                data = b""
                continue
            out.problems.append(Problem(path, 0, "line longer than 16 MiB skipped", skipping))
            base += nl + 1
            data = data[nl + 1 :]
            skipping = -1
            out.end_offset = base
        # Everything up to the last newline in ``data`` is complete lines.
        complete = data.rfind(b"\n") + 1
        if complete:
            if complete == len(data):
                _scan_block(data, complete, base, path, session, out, sink, now_ms)
                base += complete
                data = b""
            else:
                _scan_block(data, complete, base, path, session, out, sink, now_ms)
                base += complete
                data = data[complete:]
            out.end_offset = base
        if len(data) > MAX_LINE:
            skipping = base
            base += len(data)
            data = b""
    if data and skipping < 0 and data.rstrip().endswith(b"}"):
        # No trailing newline: use it only if it is already a whole JSON line.
        try:
            msgspec.json.decode(data)
        except msgspec.DecodeError:
            return  # half-written: not an error, read again when the file grows
        if MARKER in data:
            _scan_block(data + b"\n", len(data) + 1, base, path, session, out, sink, now_ms)
        out.end_offset = base + len(data)


def _scan_block(
    data: bytes,
    stop: int,
    base: int,
    path: str,
    session: str,
    out: FileScan,
    sink: Sink,
    now_ms: int | None,
) -> None:
    """Decode the lines holding the usage marker in ``data[:stop]`` (complete lines).

    This loop runs once per usage line of every transcript: it is kept flat on purpose.
    """
    # StringZilla's functions for the newline searches too: they parse their arguments
    # faster than the bytes methods, which at two calls per usage line shows.
    find = stringzilla.find
    rfind = stringzilla.rfind
    view = memoryview(data)
    main = sink.main
    prog = sink.prog
    beats = sink.beats
    models = sink.models
    file_idx = sink.file_idx
    decode = _decode_line
    bias = _BIAS
    epoch = EPOCH
    # The next byte outside ASCII (``stop``: none left), found with SIMD searches. Only a
    # usage line that holds one needs its UTF-8 checked (msgspec skips unknown fields
    # without checking it), and most lines are pure ASCII even in transcripts with some
    # non-ASCII text: the check costs about a tenth of a line's decode.
    find_wide = stringzilla.find_first_of
    wide = find_wide(data, _NOT_ASCII, 0, stop)
    if wide < 0:
        wide = stop
    future = 0
    future_after = now_ms if now_ms is not None else 1 << 62
    cwd = out.cwd
    decoded = 0
    line: _Line | _MirrorLine
    last_model = None  # consecutive lines mostly name the same model
    last_version: object = UNSET  # and the same version: checked once per distinct value
    last_mi = 0
    pos = find(data, MARKER, 0, stop)
    while pos >= 0:
        start = rfind(data, b"\n", 0, pos) + 1
        end = find(data, b"\n", pos, stop)
        pos = find(data, MARKER, end, stop)
        decoded += 1
        if wide < start:
            wide = find_wide(data, _NOT_ASCII, start, stop)
            if wide < 0:
                wide = stop
        try:
            if wide < end:
                data[start:end].decode("utf-8")
            line = decode(view[start:end])
        except UnicodeDecodeError:
            out.problems.append(Problem(path, 0, "not UTF-8", base + start))
            continue
        except (msgspec.DecodeError, msgspec.ValidationError) as err:
            mirror = _as_mirror(view[start:end]) if type(err) is msgspec.ValidationError else None
            if mirror is None:
                text = str(err)
                reason = "not UTF-8" if "UTF-8" in text else f"malformed: {text}"
                out.problems.append(Problem(path, 0, reason[:160], base + start))
                continue
            line = mirror
        here = line.cwd
        if type(line) is _Line and (msg := line.message) is not None and msg.usage is not None:
            if here is None:
                out.problems.append(Problem(path, 0, "malformed: `cwd` is null", base + start))
                continue
            ver = line.version
            if ver is not UNSET and ver != last_version:
                if not version_ok(ver):
                    why = f"malformed: `version` {ver!r} is not digits.digits.digits"
                    out.problems.append(Problem(path, 0, why[:160], base + start))
                    continue
                last_version = ver
            ts = line.timestamp
            rid = line.requestId
            side = line.isSidechain is True
            table = main
        else:
            # ccusage's daily view counts a sub-agent's mirror (``data.message``) whatever
            # the line's ``type`` says, with looser checks on the line's own fields.
            d = line.data
            inner = d.message if d is not None else None
            if inner is None:
                continue
            fault = _mirror_fault(line, inner)
            if fault:
                out.problems.append(Problem(path, 0, fault, base + start))
                continue
            msg, ts, rid = inner.message, inner.timestamp, inner.requestId
            side = inner.isSidechain is not False
            table = prog
            if msg is None:
                continue
        if ts is None:
            continue
        u = msg.usage
        if u is None:
            continue
        if cwd is None and type(here) is str:
            cwd = here
        td = ts - epoch  # ``lineread.ms_of``, inlined: it runs once per usage line
        ms = td.days * 86_400_000 + td.seconds * 1000 + td.microseconds // 1000
        if ms > future_after:
            future += 1
        mid = msg.id
        if mid is not None and rid is not None:
            key = f"{mid}\x00{rid}"  # ``dedupe_key``'s common case, without a call per line
        else:
            key = dedupe_key(mid, rid, line.sessionId or session, path, base + start)
        model = msg.model or ""
        if model != last_model:
            mi = models.get(model)
            if mi is None:
                mi = sink.model_index(model)
            last_model = model
            last_mi = mi
        else:
            mi = last_mi
        reset = 0
        if model == "<synthetic>" and data.find(LIMIT_MARKER, start, end) >= 0:
            reset = _reset_ms(view[start:end])
        i = u.input_tokens
        o = u.output_tokens
        cc = u.cache_creation_input_tokens or 0
        cr = u.cache_read_input_tokens or 0
        try:
            packed = pack(
                side,
                bias - (i + o + cc + cr),
                ms,
                i,
                o,
                cc,
                cr,
                base + start,
                reset,
                file_idx,
                mi,
                side,
            )
        except struct.error:
            out.problems.append(Problem(path, 0, "token counts out of range", base + start))
            continue
        # One dict operation for a key not seen yet (the common case), two otherwise.
        cur = table.setdefault(key, packed)
        if cur is not packed and beats(packed, cur):
            table[key] = packed
    out.lines_decoded += decoded
    out.cwd = cwd
    out.future += future
    view.release()
