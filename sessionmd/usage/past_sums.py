"""Exact token sums of the week before the latest blocks, for ``sessionmd status``.

``status`` needs objects (``UsageEntry``) only for the messages its 5-hour window can see:
their block, burn rate, limit message. The 7-day window needs only how many tokens were
used since a time. On a heavy history a week is a hundred thousand messages, and an
object each cost about 1.5 s and 55 MB per hundred thousand; these sums cost five array
slots per message, and answer "tokens since t" exactly, where the status line's 5-minute
buckets (``live.History``) may be up to 5 minutes off.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterable
from datetime import datetime
from itertools import compress
from operator import and_

from sessionmd.usage.lineread import PACK, RANK
from sessionmd.usage.models import TokenCounts
from sessionmd.usage.timeline import to_ms

# A packed winner's time and four counts, the rest skipped
_COUNTS = struct.Struct(f">{RANK}x5q{PACK.size - RANK - 40}x")


class PastSums:
    """Token sums of the messages dated from ``start`` to before ``end``.

    The interface ``status.compute_status`` asks of its ``history``: ``start`` (sums are
    complete from here), ``end`` (the first message held as an object is at or after it),
    and :meth:`tokens_since`.
    """

    __slots__ = ("_cols", "end", "start")

    def __init__(self, start: datetime, end: datetime, chunks: Iterable[bytes]) -> None:
        """``chunks``: the engine's packed winners, joined (``State.winner_chunks``); those
        dated from ``start`` to before ``end`` are kept, as five columns (time and counts)."""
        self.start = start
        self.end = end
        lo, hi = to_ms(start), to_ms(end)
        cols = [array("q") for _ in range(5)]
        for chunk in chunks:  # every step in C: a Python loop per winner cost 0.15 s per 1e5
            columns = list(zip(*_COUNTS.iter_unpack(chunk), strict=True))
            if not columns:
                continue
            ts = columns[0]
            keep = bytes(map(and_, map(lo.__le__, ts), map(hi.__gt__, ts)))
            for col, values in zip(cols, columns, strict=True):
                col.extend(compress(values, keep))
        self._cols = cols

    def __len__(self) -> int:
        return len(self._cols[0])

    def tokens_since(self, since: datetime) -> TokenCounts:
        """Tokens of the messages dated at or after ``since`` (all before ``end``).

        Not sorted, so a pass over the columns (in C): ``status`` asks this once or twice
        per display, and sorting them cost more than a year of such questions."""
        mark = to_ms(since)
        ts, *counts = self._cols
        after = bytes(map(mark.__le__, ts))
        i, o, cc, cr = (sum(compress(col, after)) for col in counts)
        return TokenCounts(i, o, cc, cr)
