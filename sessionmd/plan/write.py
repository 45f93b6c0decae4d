"""Reading and writing plan files at the edges: strict UTF-8 in, atomic replace out.

A plan is the user's work, so a failed write must never leave half a file: the new
text goes to a temporary file beside the target (same filesystem, so the final rename
is atomic), gets the target's mode and owner, is fsynced, and only then renamed over
the target. A symlink is followed and its target replaced, so the link stays a link.
A hard-linked plan becomes a separate file (as with every rename-based editor).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from sessionmd.errors import PlanError


def decode_plan(data: bytes, path: str) -> str:
    """Bytes as UTF-8 text, untouched (no newline translation); ``path:line: not UTF-8``."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise PlanError(
            f"not UTF-8 (byte 0x{data[err.start]:02x} at column {column})", path, line
        ) from None


def read_bytes(path: Path) -> bytes:
    """A plan's bytes, with a one-line error for a missing or unreadable file."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PlanError("no such file", str(path)) from None
    except IsADirectoryError:
        raise PlanError("is a directory, not a plan file", str(path)) from None
    except OSError as err:
        raise PlanError(f"cannot read: {err.strerror or err}", str(path)) from None


def read_plan(path: Path) -> str:
    """A plan's text exactly as stored (BOM and CRLF included)."""
    return decode_plan(read_bytes(path), str(path))


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, text: str) -> None:
    """Replace the file's content with ``text`` (UTF-8) so that it is all or nothing.

    Raises ``PlanError`` when the write fails; the original file is then untouched and
    the temporary file removed.
    """
    target = Path(os.path.realpath(path))
    data = text.encode("utf-8")
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as err:
        raise PlanError(f"cannot write: {err.strerror or err}", str(path)) from None
    try:
        fd, temp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".sessionmd-tmp", dir=target.parent
        )
    except OSError as err:
        raise PlanError(f"cannot write: {err.strerror or err}", str(path)) from None
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if info is not None:
                os.fchmod(fd, stat.S_IMODE(info.st_mode))
                with contextlib.suppress(PermissionError):
                    os.fchown(fd, info.st_uid, info.st_gid)
            else:
                os.fchmod(fd, 0o666 & ~_current_umask())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(err, OSError):
            raise PlanError(f"cannot write: {err.strerror or err}", str(path)) from None
        raise
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
