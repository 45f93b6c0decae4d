"""Builders for the status tests: usage entries and ccusage-rule 5-hour blocks.

Not a transcript reader: the tests build entries directly, the way the usage engine's
output looks, so zone, limit and status maths can be checked under a controlled clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sessionmd.usage.models import Block, TokenCounts, UsageEntry

FIVE = timedelta(hours=5)


def entry(when: datetime, tokens: int, session: str = "s1", cache_read: int = 0) -> UsageEntry:
    """An entry of ``tokens`` in the default measure, split over input/output/cache creation."""
    third = tokens // 3
    counts = TokenCounts(third, third, tokens - 2 * third, cache_read)
    return UsageEntry(when, counts, session, "-home-dev-app")


def blocks_of(entries: Sequence[UsageEntry], now: datetime) -> list[Block]:
    """ccusage's rule: start at the first entry floored to the hour, 5 hours long, a new
    block after 5 hours from its start or from the previous entry."""
    out: list[Block] = []
    for e in sorted(entries, key=lambda x: x.timestamp):
        last = out[-1] if out else None
        if (
            last is None
            or e.timestamp - last.start > FIVE
            or (last.entries and e.timestamp - last.entries[-1].timestamp > FIVE)
        ):
            start = e.timestamp.replace(minute=0, second=0, microsecond=0)
            last = Block(start, start + FIVE, None, False, False)
            out.append(last)
        last.entries.append(e)
        last.tokens = last.tokens + e.tokens
        last.actual_end = e.timestamp
    for b in out:
        b.is_active = b.start <= now < b.end
    return out
