"""Replace a cache or state file whole: write a temporary file beside it, then rename.

Readers (another status line, ``usage``, ``status``) only ever see the old file or the new
one. The temporary name carries the pid, so two processes writing at once never share one;
the last rename wins. Files are created 0600: they describe one user's usage. Standard
library only (the status line writes its state through this).

Plans are the user's work and are written by ``sessionmd.plan.write.write_atomic``, which
also keeps their mode and owner and fsyncs; these files can always be rebuilt.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from sessionmd._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import BinaryIO


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[BinaryIO]:
    """A file to write ``path``'s new content to; renamed over ``path`` on success, removed
    on any error (which propagates)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb", opener=lambda p, f: os.open(p, f, 0o600)) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
