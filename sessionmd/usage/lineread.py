"""One transcript line to a packed usage record, with the standard library only.

The status line reads the few lines appended since its last run; importing msgspec for them
would cost it 25 ms, half its budget. So this module reads a line with ``json`` and checks
it against the same schema as ``scan``'s msgspec Structs, field by field, which is what
ccusage 20 accepts: a field of the wrong type rejects the whole line, a missing field is
None, ids are non-empty strings, token counts non-negative integers (``input_tokens`` and
``output_tokens`` required), timestamps carry a zone (see ``scan`` for the rest). The key and the
packed record are built exactly as ``scan`` builds them (a test runs both over generated
corpora and malformed lines and compares).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from sessionmd._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

# The packed winner both readers build (``scan`` imports these): rank prefix (sidechain,
# 2**63 - total), then ts_ms, input, output, cache_creation, cache_read, offset, reset_ms,
# file index, model index, sidechain.
PACK = struct.Struct(">BQqqqqqqqIIB")
BODY = struct.Struct(">qqqqqqqIIB")  # PACK after its rank prefix
RANK = 9
MARKER = b'"usage":{'
LIMIT_MARKER = b"usage limit reached|"
_BIAS = 1 << 63


class BadLine(ValueError):
    """The line is not JSON, or a field has the wrong type (``scan`` counts the same lines)."""


def _check(obj: dict[str, Any], name: str, kind: type) -> Any:
    value = obj.get(name)
    if value is None or type(value) is kind:
        return value
    raise BadLine(f"{name}: expected {kind.__name__}")


def _id(obj: dict[str, Any], name: str) -> str | None:
    """An id, model or session id: missing is None; present, a non-empty string (not null)."""
    if name not in obj:
        return None
    value = obj[name]
    if type(value) is str and value:
        return value
    raise BadLine(f"{name}: expected a non-empty string")


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def version_ok(value: object) -> bool:
    """ccusage 20 counts a line only if its ``version`` (when present) is a string that starts
    with digits.digits.digits: "2.0.14", "1.0.0-beta" and "1.2.3.4" pass, "1.0", "v1.0.0",
    " 1.0.0", "" and null do not (probed with its binary)."""
    if type(value) is not str:
        return False
    major, dot, rest = value.partition(".")
    minor, dot2, rest = rest.partition(".")
    n = 0
    while n < len(rest) and "0" <= rest[n] <= "9":
        n += 1
    return bool(dot and dot2 and n and _digits(major) and _digits(minor))


def _number(obj: dict[str, Any], name: str) -> None:
    """``costUSD``: missing, or a number (not null, not a boolean)."""
    if name in obj and type(obj[name]) not in (int, float):
        raise BadLine(f"{name}: expected a number")


# A mirror line (``data.message`` holds a sub-agent's assistant line): the fields ccusage
# 20 lets be anything but a JSON null, on the outer line, on the outer line when it fails the
# strict line schema, and on the mirrored line. ``scan`` checks the same lists.
MIRROR_OUTER_NOT_NULL = ("cwd", "version")
MIRROR_LOOSE_NOT_NULL = ("requestId", "costUSD")
MIRROR_INNER_NOT_NULL = ("cwd", "version", "sessionId")

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def ms_of(when: datetime) -> int:
    """An aware time's milliseconds since the epoch, floored (the scan inlines it).

    The floor of ``(when - EPOCH) / 1 ms`` from the timedelta's fields (days and seconds are
    whole milliseconds): exact, unlike ``round(when.timestamp() * 1000)``, and without the
    two large-int microsecond totals that ``timedelta // timedelta`` builds (1.4% of a scan's
    instructions).
    """
    td = when - EPOCH
    return td.days * 86_400_000 + td.seconds * 1000 + td.microseconds // 1000


def _not_null(obj: dict[str, Any], *names: str) -> None:
    """Fields ccusage lets be anything but a JSON null."""
    for name in names:
        if name in obj and obj[name] is None:
            raise BadLine(f"{name}: null")


def _object(obj: dict[str, Any], name: str) -> dict[str, Any] | None:
    return _check(obj, name, dict)  # type: ignore[no-any-return]


def _stamp(obj: dict[str, Any]) -> int | None:
    value = _check(obj, "timestamp", str)
    if value is None:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise BadLine("timestamp: not an RFC 3339 date-time") from None
    if when.tzinfo is None:
        raise BadLine("timestamp: no time zone")
    return ms_of(when)


def _int(obj: dict[str, Any], name: str, required: bool) -> int:
    """A token count: a non-negative integer; an optional one may be missing (0), not null."""
    if name not in obj and not required:
        return 0
    value = obj.get(name)
    if type(value) is int and value >= 0:
        return value
    raise BadLine(f"{name}: expected a non-negative int")


def _message(obj: dict[str, Any] | None) -> tuple[str | None, str | None, tuple[int, ...] | None]:
    """(id, model, (input, output, cache_creation, cache_read) or None) of a ``message``."""
    if obj is None:
        return None, None, None
    mid = _id(obj, "id")
    model = _id(obj, "model")
    usage = _object(obj, "usage")
    if usage is None:
        return mid, model, None
    counts = (
        _int(usage, "input_tokens", True),
        _int(usage, "output_tokens", True),
        _int(usage, "cache_creation_input_tokens", False),
        _int(usage, "cache_read_input_tokens", False),
    )
    return mid, model, counts


def _inner(obj: dict[str, Any]) -> tuple[int | None, str | None, bool | None, Any]:
    """``scan._Inner``'s checks on a mirrored assistant line (``data.message``)."""
    side = _check(obj, "isSidechain", bool)
    message = _message(_object(obj, "message"))
    rid = _id(obj, "requestId")
    ts = _stamp(obj)
    _number(obj, "costUSD")
    return ts, rid, side, message


def _mirrored(line: dict[str, Any]) -> dict[str, Any] | None:
    """``data.message``, checked as ``scan._Data`` checks it."""
    data = _object(line, "data")
    return None if data is None else _object(data, "message")


def limit_reset_ms(texts: Iterable[str | None]) -> int:
    """``Claude AI usage limit reached|<epoch>`` among a message's text parts: the reset time
    (ms) ccusage reports for a block, else 0. Both line readers use it."""
    for text in texts:
        head, sep, tail = (text or "").partition("usage limit reached|")
        if sep and head.endswith("Claude AI "):
            try:
                return int(tail.strip()) * 1000
            except ValueError:
                return 0
    return 0


def _reset_ms(line: dict[str, Any]) -> int:
    """The reset time of a limit line, checked as ``scan``'s msgspec schema checks it: a
    content that is not a list of objects with string (or no) text gives 0."""
    message = line.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return 0
    texts: list[str | None] = []
    for part in content:
        if not isinstance(part, dict):
            return 0
        text = part.get("text")
        if text is not None and not isinstance(text, str):
            return 0
        texts.append(text)
    return limit_reset_ms(texts)


def dedupe_key(mid: str | None, rid: str | None, session: str, path: str, offset: int) -> str:
    """ccusage 20's dedupe key: (message id, request id); (message id, session) without a
    request id; a line without a message id is its own key (its file and byte offset)."""
    if mid is None:
        return f"\x01{path}\x00{offset}"
    if rid is None:
        return f"{mid}\x00s:{session}"
    return f"{mid}\x00{rid}"


class Record:
    """One usage line as the dedupe state sees it: which table, its key, its packed copy."""

    __slots__ = ("cwd", "key", "mirror", "model", "packed", "ts")

    def __init__(
        self, key: str, packed: bytes, ts: int, model: str, mirror: bool, cwd: str | None
    ) -> None:
        self.key = key
        self.packed = packed
        self.ts = ts
        self.model = model
        self.mirror = mirror  # an agent_progress mirror (counted by the daily view only)
        self.cwd = cwd


def read_line(
    raw: bytes,
    path: str,
    session: str,
    offset: int,
    file_idx: int,
    model_index: Callable[[str], int],
) -> Record | None:
    """The record of one line holding the usage marker, or None when it carries no usage.

    ``session`` is the file's session id (the fallback dedupe scope), ``offset`` the line's
    byte offset (the tie-break, and the key of a line without a message id), and
    ``model_index`` numbers model names in the caller's table.
    Raises :class:`BadLine` where ``scan`` counts a malformed line.
    """
    try:
        line = json.loads(raw)
    except ValueError:
        raise BadLine("not JSON") from None
    if type(line) is not dict:
        raise BadLine("not a JSON object")
    try:
        # ``scan._Line``'s checks: msgspec checks every field before the scan looks at any.
        side_flag = _check(line, "isSidechain", bool)
        session_id = _id(line, "sessionId")
        top = _message(_object(line, "message"))
        inner_obj = _mirrored(line)
        inner = None if inner_obj is None else _inner(inner_obj)
        rid = _id(line, "requestId")
        ts = _stamp(line)
        _number(line, "costUSD")
        strict = True
    except BadLine:
        # ``scan._MirrorLine``'s looser checks, for a line that carries a mirror.
        session_id = _id(line, "sessionId")
        inner_obj = _mirrored(line)
        if inner_obj is None:
            raise
        inner = _inner(inner_obj)
        strict = False
    cwd = line.get("cwd")
    if strict and top[2] is not None:
        _not_null(line, "cwd")
        if "version" in line and not version_ok(line["version"]):
            raise BadLine("version: not digits.digits.digits")
        mid, model, counts = top
        side = side_flag is True
        mirror = False
    else:
        if inner_obj is None or inner is None:
            return None
        _not_null(line, *MIRROR_OUTER_NOT_NULL)
        if not strict:
            _not_null(line, *MIRROR_LOOSE_NOT_NULL)
        _not_null(inner_obj, *MIRROR_INNER_NOT_NULL)
        ts, rid, inner_side, (mid, model, counts) = inner
        side = inner_side is not False
        mirror = True
    if counts is None or ts is None:
        return None
    key = dedupe_key(mid, rid, session_id or session, path, offset)
    model = model or ""
    reset = 0
    if model == "<synthetic>" and LIMIT_MARKER in raw:
        reset = _reset_ms(line)
    i, o, cc, cr = counts
    try:
        packed = PACK.pack(
            side, _BIAS - (i + o + cc + cr), ts, i, o, cc, cr, offset, reset, file_idx,
            model_index(model), side,
        )  # fmt: skip
    except struct.error:
        raise BadLine("token counts out of range") from None
    return Record(key, packed, ts, model, mirror, cwd if type(cwd) is str else None)
