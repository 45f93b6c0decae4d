"""The slice of usage that the current windows depend on, for the status line.

The 5-hour and 7-day figures need only the last 7 days of entries, but ccusage's block
rule makes a block's start depend on every block before it back to the last pause longer
than a block (a block starts 5 hours after the previous one's start while entries keep
coming). So the slice starts at such a pause at or before ``now - 7 days``: blocks built
from it are the same blocks ccusage builds from the whole history.

Works on the usage engine's flat rows (``sessionmd.usage.api.Row``: time in ms first,
then input, output, cache creation and cache read tokens, model, session, project), so
only the rows in the slice become ``UsageEntry`` objects. Standard library only.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sessionmd.usage.models import TokenCounts, UsageEntry

WEEK = timedelta(days=7)
COLUMNS = {"input": 1, "output": 2, "cache_creation": 3, "cache_read": 4}
BLOCK_MS = 5 * 3600 * 1000


def _ms(when: datetime) -> int:
    return round(when.timestamp() * 1000)


def _ts(row: Any) -> int:
    return int(row[0])


def slice_start(rows: Sequence[Any], since_ms: int) -> int:
    """Index of the first row to keep: the last chain start (a row more than a block
    after the one before it, or row 0) at or before the first row at ``since_ms``."""
    i = min(bisect_left(rows, since_ms, key=_ts), max(0, len(rows) - 1))
    while i > 0 and rows[i][0] - rows[i - 1][0] <= BLOCK_MS:
        i -= 1
    return i


def recent_entries(
    rows: Sequence[Any], now: datetime, span: timedelta | None = WEEK
) -> list[UsageEntry]:
    """Entries from the chain start before ``now - span`` onwards (all when ``span`` is
    None), sorted by time.

    ``rows`` must be sorted by time (as ``UsageResult.rows`` is).
    """
    if not rows:
        return []
    start = 0 if span is None else slice_start(rows, _ms(now - span))
    utc = timezone.utc
    out: list[UsageEntry] = []
    for r in rows[start:]:
        out.append(
            UsageEntry(
                timestamp=datetime.fromtimestamp(r[0] / 1000, tz=utc),
                tokens=TokenCounts(r[1], r[2], r[3], r[4]),
                session_id=r[6],
                project=r[7],
                model=r[5] or None,
            )
        )
    return out


def tokens_since(
    rows: Sequence[Any], start: datetime, now: datetime, measure: Sequence[str]
) -> int:
    """Tokens in ``measure`` of the rows from ``start`` to ``now`` (rows sorted by time)."""
    stamps_from = bisect_left(rows, _ms(start), key=_ts)
    end_ms = _ms(now)
    columns = [COLUMNS[k] for k in measure]
    total = 0
    for r in rows[stamps_from:]:
        if r[0] > end_ms:
            break
        for c in columns:
            total += r[c]
    return total


def session_tokens(
    rows: Sequence[Any],
    session_id: str,
    now: datetime,
    measure: Sequence[str],
    span: timedelta = WEEK,
) -> int:
    """Tokens in ``measure`` of one session's rows over the last ``span`` (a live session
    older than that is rare, and scanning all history would cost the status line)."""
    start = bisect_left(rows, _ms(now - span), key=_ts)
    columns = [COLUMNS[k] for k in measure]
    total = 0
    for r in rows[start:]:
        if r[6] == session_id:
            for c in columns:
                total += r[c]
    return total
