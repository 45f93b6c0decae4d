"""Token sums per (quarter hour, model) of the daily view's winners: all a day needs.

Why sums per quarter hour: every zone's day boundary falls on one (``report.day_of``), so
the sums fold into days exactly, in any zone, and a report over a million winners touches
each winner once, in one flat loop (``add_chunks``). A two-process scan has its worker,
idle once the files are read, sum two thirds of the winners (``engine._split_sum``), and
``merge`` adds the parts.
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
