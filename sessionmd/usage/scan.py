"""Read usage records out of one transcript file, from a byte offset to its last complete line.

Why it is shaped like this: a transcript is mostly user text and tool output; only assistant
lines (and sub-agent ``agent_progress`` mirrors) carry ``"usage":{``. So the raw bytes are
searched for that marker and only the lines holding it are decoded, with msgspec Structs that
name just the fields sessionmd needs (everything else is skipped by the C decoder). The file is
read in fixed-size chunks so that a pathological 50 MB line costs one chunk of memory, not 50 MB.

Nothing here imports pydantic, rich or click: the status line's fast path uses this module.
A record is a compact tuple (see ``Record``) so that a million of them stay small.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Optional

import msgspec

MARKER = b'"usage":{'
LIMIT_MARKER = b"usage limit reached|"
CHUNK = 1 << 20  # bytes read at a time
MAX_LINE = 16 << 20  # a usage line longer than this is skipped (and counted), never buffered


class _Usage(msgspec.Struct):
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: Optional[int] = None  # noqa: UP045 - msgspec on 3.10
    cache_read_input_tokens: Optional[int] = None  # noqa: UP045


class _Text(msgspec.Struct):
    text: Optional[str] = None  # noqa: UP045


class _Message(msgspec.Struct):
    id: Optional[str] = None  # noqa: UP045
    model: Optional[str] = None  # noqa: UP045
    usage: Optional[_Usage] = None  # noqa: UP045


class _LimitMessage(msgspec.Struct):
    content: Optional[list[_Text]] = None  # noqa: UP045


class _Inner(msgspec.Struct):
    """The assistant line Claude Code mirrors inside a ``progress`` line's ``data.message``."""

    timestamp: Optional[datetime] = None  # noqa: UP045
    requestId: Optional[str] = None  # noqa: UP045
    isSidechain: Optional[bool] = None  # noqa: UP045
    message: Optional[_Message] = None  # noqa: UP045


class _Data(msgspec.Struct):
    type: Optional[str] = None  # noqa: UP045
    message: Optional[_Inner] = None  # noqa: UP045


class _Line(msgspec.Struct):
    type: Optional[str] = None  # noqa: UP045
    timestamp: Optional[datetime] = None  # noqa: UP045
    sessionId: Optional[str] = None  # noqa: UP045
    cwd: Optional[str] = None  # noqa: UP045
    isSidechain: Optional[bool] = None  # noqa: UP045
    requestId: Optional[str] = None  # noqa: UP045
    message: Optional[_Message] = None  # noqa: UP045
    data: Optional[_Data] = None  # noqa: UP045


class _LimitLine(msgspec.Struct):
    message: Optional[_LimitMessage] = None  # noqa: UP045


_decode_line = msgspec.json.Decoder(_Line).decode
_decode_limit = msgspec.json.Decoder(_LimitLine).decode

# A record: (key, ts_ms, input, output, cache_creation, cache_read, offset, sidechain,
#            progress, model, reset_ms, message_id, request_id).
# ``key`` is what ccusage 20 deduplicates on; ``offset`` is the line's byte offset in its file,
# which orders copies exactly as (path, line) does.
Record = tuple[str, int, int, int, int, int, int, bool, bool, str, int, str, str]


@dataclass(slots=True)
class Problem:
    """A line or file that was skipped, with where it is, for ``--verbose``."""

    path: str
    line: int  # 1-based; 0 for the whole file
    reason: str


@dataclass(slots=True)
class FileScan:
    """What one pass over a file's new bytes found."""

    records: list[Record] = field(default_factory=list)
    end_offset: int = 0  # offset just past the last complete line
    end_line: int = 0  # lines before end_offset
    problems: list[Problem] = field(default_factory=list)
    cwd: str | None = None
    session_field: str | None = None
    lines_decoded: int = 0
    bytes_read: int = 0
    future: int = 0  # records whose timestamp is after ``now`` (clock skew)


def _ms(ts: datetime) -> int:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return int(ts.timestamp() * 1000 + (0.5 if ts.microsecond % 1000 else 0))


def _reset_ms(raw: bytes | memoryview) -> int:
    """``Claude AI usage limit reached|<epoch>``: the reset time ccusage reports for a block."""
    try:
        line = _decode_limit(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return 0
    if line.message is None or not line.message.content:
        return 0
    for part in line.message.content:
        text = part.text or ""
        head, sep, tail = text.partition("usage limit reached|")
        if sep and head.endswith("Claude AI "):
            try:
                return int(tail.strip()) * 1000
            except ValueError:
                return 0
    return 0


def scan_file(
    path: str,
    session: str,
    *,
    offset: int = 0,
    line_no: int = 0,
    now_ms: int | None = None,
    final: bool = True,
) -> FileScan:
    """Records from ``path`` after byte ``offset`` (which starts line ``line_no + 1``).

    ``session`` is the session id the file belongs to (from its path), the fallback dedupe
    scope for lines without ``requestId``. A last line with no newline is normal (Claude
    Code is still writing it): it is decoded only when it is complete JSON and ``final`` is
    true; otherwise it is left for the next pass and ``end_offset`` stops before it.
    """
    out = FileScan(end_offset=offset, end_line=line_no)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        out.problems.append(Problem(path, 0, f"unreadable: {err.strerror or err}"))
        return out
    try:
        if offset:
            os.lseek(fd, offset, os.SEEK_SET)
        _scan_fd(fd, path, session, out, now_ms, final)
    except OSError as err:
        out.problems.append(Problem(path, 0, f"read failed: {err.strerror or err}"))
    finally:
        os.close(fd)
    return out


def _scan_fd(
    fd: int, path: str, session: str, out: FileScan, now_ms: int | None, final: bool
) -> None:
    base = out.end_offset  # file offset of data[0]
    lines = out.end_line  # lines before data[0]
    data = b""
    skipping = False  # inside an over-long line: drop bytes until its newline
    skip_line = 0
    eof = False
    while not eof:
        chunk = os.read(fd, CHUNK)
        out.bytes_read += len(chunk)
        if not chunk:
            eof = True
        else:
            data = data + chunk if data else chunk
        if skipping:
            nl = data.find(b"\n")
            if nl < 0:
                base += len(data)
                data = b""
                if eof:
                    # The over-long line is the last one and unfinished: come back to it later.
                    out.problems.append(Problem(path, skip_line, "line longer than 16 MiB skipped"))
                continue
            out.problems.append(Problem(path, skip_line, "line longer than 16 MiB skipped"))
            base += nl + 1
            lines += 1
            data = data[nl + 1 :]
            skipping = False
            out.end_offset, out.end_line = base, lines
        # Everything up to the last newline in ``data`` is complete lines.
        last_nl = data.rfind(b"\n")
        complete = last_nl + 1
        if complete:
            _scan_block(data, complete, base, lines, path, session, out, now_ms)
            lines += data.count(b"\n", 0, complete)
            base += complete
            data = data[complete:]
            out.end_offset, out.end_line = base, lines
        if len(data) > MAX_LINE:
            skipping, skip_line = True, lines + 1
            base += len(data)
            data = b""
    if data and final and not skipping:
        # No trailing newline: count it only if it is already a whole JSON line.
        if MARKER in data:
            before = len(out.records)
            probs = len(out.problems)
            _scan_block(data + b"\n", len(data) + 1, base, lines, path, session, out, now_ms)
            if len(out.records) > before or len(out.problems) == probs:
                out.end_offset, out.end_line = base + len(data), lines + 1
            del out.problems[probs:]  # a half-written line is not an error
        elif data.strip() and data.rstrip().endswith(b"}"):
            try:
                msgspec.json.decode(data)
            except msgspec.DecodeError:
                return
            out.end_offset, out.end_line = base + len(data), lines + 1


def _scan_block(
    data: bytes,
    stop: int,
    base: int,
    lines: int,
    path: str,
    session: str,
    out: FileScan,
    now_ms: int | None,
) -> None:
    """Decode the lines holding the usage marker in ``data[:stop]`` (complete lines)."""
    find = data.find
    rfind = data.rfind
    view = memoryview(data)
    records = out.records
    append = records.append
    models: dict[str, str] = {}
    pos = find(MARKER, 0, stop)
    while pos >= 0:
        start = rfind(b"\n", 0, pos) + 1
        end = find(b"\n", pos, stop)
        raw = view[start:end]
        out.lines_decoded += 1
        try:
            line = _decode_line(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as err:
            line_no = lines + data.count(b"\n", 0, start) + 1
            reason = "not UTF-8" if "UTF-8" in str(err) else f"malformed: {err}"
            out.problems.append(Problem(path, line_no, reason[:160]))
            pos = find(MARKER, end, stop)
            continue
        progress = False
        msg = line.message
        ts = line.timestamp
        rid = line.requestId
        side = bool(line.isSidechain)
        if line.type == "progress":
            d = line.data
            inner = d.message if d is not None and d.type == "agent_progress" else None
            if inner is None:
                pos = find(MARKER, end, stop)
                continue
            msg, ts, rid = inner.message, inner.timestamp, inner.requestId
            side = True if inner.isSidechain is None else bool(inner.isSidechain)
            progress = True
        if msg is None or msg.usage is None or ts is None:
            pos = find(MARKER, end, stop)
            continue
        if line.cwd is not None and out.cwd is None:
            out.cwd = line.cwd
        if line.sessionId is not None and out.session_field is None:
            out.session_field = line.sessionId
        u = msg.usage
        ms = _ms(ts)
        if now_ms is not None and ms > now_ms:
            out.future += 1
        mid = msg.id
        if mid is None:
            key = f"\x01{path}\x00{base + start}"
        elif rid is None:
            key = f"{mid}\x00s:{line.sessionId or session}"
        else:
            key = f"{mid}\x00{rid}"
        model = msg.model or ""
        model = models.setdefault(model, model)
        reset = 0
        if model == "<synthetic>" and data.find(LIMIT_MARKER, start, end) >= 0:
            reset = _reset_ms(raw)
        append(
            (
                key,
                ms,
                u.input_tokens,
                u.output_tokens,
                u.cache_creation_input_tokens or 0,
                u.cache_read_input_tokens or 0,
                base + start,
                side,
                progress,
                model,
                reset,
                mid or "",
                rid or "",
            )
        )
        pos = find(MARKER, end, stop)
    view.release()
