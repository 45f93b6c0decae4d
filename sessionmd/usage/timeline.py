"""ccusage's 5-hour blocks over ``UsageEntry`` objects, and the millisecond clock helpers.

Pure functions, standard library only: the status line builds the active block with them
without importing the engine (msgspec alone costs it 25 ms to import).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from itertools import islice

from sessionmd.usage.models import Block, TokenCounts, UsageEntry

HOUR_MS = 3_600_000
UTC = timezone.utc


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def to_ms(dt: datetime) -> int:
    return round(dt.timestamp() * 1000)


def latest_block_start(stamps: Iterable[int], hours: float = 5) -> int:
    """The first entry of the latest block, from sorted timestamps (ccusage's block rule).

    The first stamp must be the first entry of a block (any entry after a pause longer than
    a block, or the first entry ever, or the first entry of a block found earlier).
    """
    dur = int(hours * HOUR_MS)
    times = iter(stamps)
    anchor = start = last = next(times)
    start -= start % HOUR_MS
    for ts in stamps:
        if ts - start > dur or ts - last > dur:
            start = ts - ts % HOUR_MS
            anchor = ts
        last = ts
    return anchor


def history_cut(stamps: Sequence[int], since: int, hours: float = 5, floor: int = 0) -> int:
    """Index of the first message that windows from ``since`` on depend on (sorted ms).

    That is the first message of the block holding the first message at or after ``since``
    (the latest block when none is that late): blocks built from it on are the blocks
    ccusage builds from everything, from that block on, and every message at or after
    ``since`` is among them. A block's start depends on every block before it back to a
    pause longer than a block, so the rule runs from that pause; only the block found is
    kept, so a history without such pauses costs the messages since ``since``, not all.
    ``floor``: the index of a block's first message (an earlier cut) where the walk back
    may stop instead of going on to the pause; one after the first message at or after
    ``since`` is ignored (``status`` passes the week's cut over a list clipped at now).
    """
    if not stamps:
        return 0
    dur = int(hours * HOUR_MS)
    i = min(bisect_left(stamps, since), len(stamps) - 1)
    chain = i
    stop = floor if floor <= i else 0
    while chain > stop and stamps[chain] - stamps[chain - 1] <= dur:
        chain -= 1
    # A block's first message is never at the same time as the one before it (that one
    # would have opened the block), so the bisection finds it.
    anchor = latest_block_start(islice(stamps, chain, i + 1), hours)
    return bisect_left(stamps, anchor, chain, i + 1)


def build_blocks(
    entries: Sequence[UsageEntry], now: datetime, session_hours: float = 5
) -> list[Block]:
    """ccusage's 5-hour blocks, gap blocks included, sorted by start.

    A block starts at its first entry's time floored to the UTC hour and lasts
    ``session_hours``; an entry more than that after the block's start or after the previous
    entry starts a new block; the pause between two blocks becomes a gap block from the last
    entry + ``session_hours`` to the next entry. A block is active when ``now`` is before its
    end and less than ``session_hours`` after its last entry.
    """
    dur = timedelta(hours=session_hours)
    ordered = sorted(entries, key=lambda e: e.timestamp)
    blocks: list[Block] = []
    cur: list[UsageEntry] = []
    start: datetime | None = None

    def close(begin: datetime, items: list[UsageEntry]) -> Block:
        tokens = TokenCounts()
        models: list[str] = []
        for e in items:
            tokens = tokens + e.tokens
            if e.model and e.model != "<synthetic>" and e.model not in models:
                models.append(e.model)
        last = items[-1].timestamp
        end = begin + dur
        return Block(
            start=begin,
            end=end,
            actual_end=last,
            is_active=(now - last) < dur and now < end,
            is_gap=False,
            entries=items,
            tokens=tokens,
            models=models,
        )

    for e in ordered:
        ts = e.timestamp.astimezone(UTC)
        if start is None:
            start = ts.replace(minute=0, second=0, microsecond=0)
        else:
            last = cur[-1].timestamp
            if ts - start > dur or ts - last > dur:
                blocks.append(close(start, cur))
                if ts - last > dur:
                    blocks.append(Block(last + dur, ts, None, False, True))
                start = ts.replace(minute=0, second=0, microsecond=0)
                cur = []
        cur.append(e)
    if cur and start is not None:
        blocks.append(close(start, cur))
    blocks.sort(key=lambda b: b.start)
    return blocks


def active_block(blocks: Sequence[Block]) -> Block | None:
    for b in reversed(blocks):
        if b.is_active:
            return b
    return None
