"""Token sums per (quarter hour, model) of the daily view's winners: all a day needs.

Why sums per quarter hour: every zone's day boundary falls on one (``report.day_of``), so
the sums fold into days exactly, in any zone, and a report over a million winners touches
each winner once, in one flat loop (``add_chunks``). A two-process scan has its worker,
idle once the files are read, sum two thirds of the winners (``engine._split_sum``), and
``merge`` adds the parts. The cache keeps the sums (``to_bytes``), and a warm run moves only
the winners it replaced (``subtract`` the old, ``add_chunks`` the new: ``State.correct_sums``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sessionmd.usage.lineread import PACK

QUARTER_MS = 900_000  # zone offsets and their changes fall on quarter hours

# A key is one int, quarter << 32 | model (an int keys a dict faster than a tuple). Model
# indexes are 32-bit in a packed winner; Python's shifts floor, so a quarter before 1970
# decodes too.
_SHIFT = 32
_MODEL = (1 << _SHIFT) - 1

# The fields a sum needs from a packed winner (``lineread.PACK``), the rest skipped unread:
# ts, input, output, cache_creation, cache_read, file index, model index.
_FIELDS = struct.Struct(">9xqqqqq16xIIx")
assert _FIELDS.size == PACK.size

# key -> [input, output, cache_creation, cache_read, entries]
Sums = dict[int, list[int]]
_RECORD = struct.Struct(">6q")  # a key and its five sums, as the cache keeps them
QUARTER_RECORD = _RECORD.size


def split_key(key: int) -> tuple[int, int]:
    """(quarter, model index) of a sums key."""
    return key >> _SHIFT, key & _MODEL


@dataclass(slots=True)
class QuarterSums:
    """The daily view's token sums, keyed by quarter hour and model index."""

    sums: Sums = field(default_factory=dict)

    def add_chunks(self, chunks: Iterable[bytes], keep: Sequence[bool] | None = None) -> None:
        """Add winners packed back to back (``State.winner_chunks``), those of files whose
        ``keep`` is true when it is given.

        The one loop that touches every winner: kept flat, with the key built inline.
        """
        sums = self.sums
        get = sums.get
        for chunk in chunks:
            for ts, i, o, cc, cr, f, m in _FIELDS.iter_unpack(chunk):
                if keep is not None and not keep[f]:
                    continue
                k = (ts // QUARTER_MS << _SHIFT) | m
                a = get(k)
                if a is None:
                    sums[k] = [i, o, cc, cr, 1]
                else:
                    a[0] += i
                    a[1] += o
                    a[2] += cc
                    a[3] += cr
                    a[4] += 1

    def merge(self, other: Sums) -> None:
        """Add sums made over the same model table."""
        sums = self.sums
        for k, b in other.items():
            a = sums.get(k)
            if a is None:
                sums[k] = b
            else:
                for n in range(5):
                    a[n] += b[n]

    def subtract(self, winners: Iterable[bytes]) -> None:
        """Take these packed winners out again (each one was added before): a winner that a
        warm run replaced. A key whose last entry goes is dropped, so a model no message
        uses any more is not listed."""
        sums = self.sums
        for packed in winners:
            ts, i, o, cc, cr, _f, m = _FIELDS.unpack(packed)
            k = (ts // QUARTER_MS << _SHIFT) | m
            a = sums[k]
            a[0] -= i
            a[1] -= o
            a[2] -= cc
            a[3] -= cr
            a[4] -= 1
            if not a[4]:
                del sums[k]

    def to_bytes(self) -> bytes:
        """The sums as fixed-size records (``_RECORD``), for the cache."""
        record = _RECORD.pack
        return b"".join(record(k, *a) for k, a in self.sums.items())

    @classmethod
    def from_bytes(cls, blob: bytes, models: int) -> QuarterSums | None:
        """Sums written by ``to_bytes``; None when a record names a model outside a table of
        ``models`` (a damaged or foreign cache)."""
        sums: Sums = {}
        for k, *a in _RECORD.iter_unpack(blob):
            if k & _MODEL >= models:
                return None
            sums[k] = a
        return cls(sums)
