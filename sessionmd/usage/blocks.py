"""ccusage's 5-hour blocks as a report: filtering, summaries and the ``blocks --json`` shape.

``api.build_blocks`` is the rule over ``UsageEntry`` objects (the status helper builds on
it). A report over a whole history does not need an object per message: ``report_blocks``
applies the same rule to the engine's packed winners and keeps per-block sums only, so
``usage blocks`` on a million messages costs a pass over integers. A test holds the two
equal on generated corpora. The view is "blocks" (no mirror lines); ``--since/--until`` pick
entries by local day, ``--project`` by folder. Blocks with 0 tokens are kept, as ccusage does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from sessionmd.usage import pricing
from sessionmd.usage.api import UsageResult
from sessionmd.usage.dedupe import unpack
from sessionmd.usage.limits import Limit, auto_limit_of, measure_tokens
from sessionmd.usage.models import Block, TokenCounts
from sessionmd.usage.report import SYNTHETIC, day_of, iso_ms, project_matcher
from sessionmd.usage.timeline import HOUR_MS, UTC, from_ms, to_ms


@dataclass(slots=True)
class BlockSummary:
    """One block (or gap) of a report: times, sums and what ccusage shows about it."""

    start_ms: int
    end_ms: int
    is_gap: bool = False
    is_active: bool = False
    entries: int = 0
    first_ms: int = 0
    last_ms: int = 0
    tokens: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    models: list[str] = field(default_factory=list)
    by_model: dict[str, list[int]] = field(default_factory=dict)
    reset_ms: int = 0

    @property
    def start(self) -> datetime:
        return from_ms(self.start_ms)

    @property
    def end(self) -> datetime:
        return from_ms(self.end_ms)

    @property
    def total(self) -> int:
        return sum(self.tokens)

    @property
    def cost(self) -> float:
        return sum(pricing.cost(m, *v) for m, v in self.by_model.items())

    def as_block(self) -> Block:
        """The shared ``Block`` model (without per-message entries)."""
        return Block(
            start=self.start,
            end=self.end,
            actual_end=None if self.is_gap else from_ms(self.last_ms),
            is_active=self.is_active,
            is_gap=self.is_gap,
            tokens=TokenCounts(*self.tokens),
            models=list(self.models),
        )


def report_blocks(
    result: UsageResult,
    now: datetime,
    tz: tzinfo,
    since: date | None = None,
    until: date | None = None,
    project: str | None = None,
    session_hours: float = 5,
) -> list[BlockSummary]:
    """``api.build_blocks``'s rule over the packed winners, summarised per block."""
    day = day_of(tz)
    lo = since.isoformat() if since else ""
    hi = until.isoformat() if until else "9999"
    match = project_matcher(project)
    files = result.state.files
    models = result.state.models
    keep = [match(f.project) for f in files]
    # The blocks view has no mirror lines: the ordinary winners are all there is. Only the
    # packed bytes are kept and sorted (by one integer each), so the pass stays small.
    rank = [0] * len(files)
    for n, idx in enumerate(sorted(range(len(files)), key=lambda i: files[i].path)):
        rank[idx] = n
    picked: list[bytes] = []
    for packed in result.state.main.values():
        v = unpack(packed)
        if not keep[v[7]]:
            continue
        if since or until:
            d = day(v[0])
            if d < lo or d > hi:
                continue
        picked.append(packed)

    def order(packed: bytes) -> int:
        # Time order; equal times in (path, offset) order, as ccusage reads them.
        v = unpack(packed)
        return (v[0] << 72) | (rank[v[7]] << 48) | v[5]

    picked.sort(key=order)
    dur = round(session_hours * HOUR_MS)
    now_ms = to_ms(now)
    out: list[BlockSummary] = []
    cur: BlockSummary | None = None
    for packed in picked:
        v = unpack(packed)
        ts = v[0]
        if cur is None or ts - cur.start_ms > dur or ts - cur.last_ms > dur:
            if cur is not None:
                _close(cur, now_ms, dur)
                out.append(cur)
                if ts - cur.last_ms > dur:
                    out.append(BlockSummary(cur.last_ms + dur, ts, is_gap=True))
            start = ts - ts % HOUR_MS
            cur = BlockSummary(start, start + dur, first_ms=ts)
        cur.entries += 1
        cur.last_ms = ts
        t = cur.tokens
        t[0] += v[1]
        t[1] += v[2]
        t[2] += v[3]
        t[3] += v[4]
        model = models[v[8]]
        m = cur.by_model.get(model)
        if m is None:
            cur.by_model[model] = [v[1], v[2], v[3], v[4]]
            if model and model != SYNTHETIC:
                cur.models.append(model)
        else:
            m[0] += v[1]
            m[1] += v[2]
            m[2] += v[3]
            m[3] += v[4]
        if v[6] and not cur.reset_ms:
            cur.reset_ms = v[6]
    if cur is not None:
        _close(cur, now_ms, dur)
        out.append(cur)
    out.sort(key=lambda b: b.start_ms)
    return out


def history_auto_limit(result: UsageResult, now: datetime, measure: Sequence[str]) -> Limit | None:
    """``--limit auto`` over the whole history, from per-block sums: the same blocks as
    ``auto_limit(build_blocks(result.entries, now), ...)`` (a test holds them equal),
    without a ``UsageEntry`` per message, which took seconds and hundreds of MB per GB."""
    now_ms = to_ms(now)
    return auto_limit_of(
        (measure_tokens(TokenCounts(*b.tokens), measure), b.reset_ms != 0)
        for b in report_blocks(result, now, UTC)
        if not b.is_gap and b.end_ms <= now_ms
    )


def _close(block: BlockSummary, now_ms: int, dur: int) -> None:
    block.is_active = now_ms - block.last_ms < dur and now_ms < block.end_ms


def burn_rate(block: BlockSummary) -> dict[str, float] | None:
    """ccusage's burn rate: tokens per minute between the block's first and last entry."""
    minutes = (block.last_ms - block.first_ms) / 60_000
    if block.entries < 2 or minutes <= 0:
        return None
    t = block.tokens
    return {
        "costPerHour": block.cost / minutes * 60,
        "tokensPerMinute": block.total / minutes,
        "tokensPerMinuteForIndicator": (t[0] + t[1]) / minutes,
    }


def projection(block: BlockSummary, now: datetime) -> dict[str, float] | None:
    rate = burn_rate(block)
    if rate is None:
        return None
    remaining = max(0.0, (block.end - now) / timedelta(minutes=1))
    return {
        "remainingMinutes": round(remaining),
        "totalCost": round((block.cost + rate["costPerHour"] / 60 * remaining) * 100) / 100,
        "totalTokens": round(block.total + rate["tokensPerMinute"] * remaining),
    }


def block_json(block: BlockSummary, now: datetime) -> dict[str, object]:
    start = iso_ms(block.start_ms)
    t = block.tokens
    out: dict[str, object] = {
        "actualEndTime": None if block.is_gap else iso_ms(block.last_ms),
        "burnRate": burn_rate(block) if block.is_active else None,
        "costUSD": block.cost,
        "endTime": iso_ms(block.end_ms),
        "entries": block.entries,
        "id": f"gap-{start}" if block.is_gap else start,
        "isActive": block.is_active,
        "isGap": block.is_gap,
        "models": list(block.models),
        "projection": projection(block, now) if block.is_active else None,
        "startTime": start,
        "tokenCounts": {
            "cacheCreationInputTokens": t[2],
            "cacheReadInputTokens": t[3],
            "inputTokens": t[0],
            "outputTokens": t[1],
        },
        "totalTokens": block.total,
    }
    if block.reset_ms:
        out["usageLimitResetTime"] = iso_ms(block.reset_ms)
    return out


def blocks_json(found: list[BlockSummary], now: datetime) -> dict[str, object]:
    """ccusage 20.0.24's ``blocks --json`` shape."""
    return {"blocks": [block_json(b, now) for b in found]}


def summarise(blocks: list[Block]) -> list[BlockSummary]:
    """``BlockSummary`` of ``api.build_blocks`` output (to render blocks built from entries)."""
    out = []
    for b in blocks:
        s = BlockSummary(to_ms(b.start), to_ms(b.end), is_gap=b.is_gap, is_active=b.is_active)
        for e in b.entries:
            ts = to_ms(e.timestamp.astimezone(UTC))
            s.first_ms = s.first_ms or ts
            s.last_ms = ts
            s.entries += 1
            k = e.tokens
            for n, val in enumerate((k.input, k.output, k.cache_creation, k.cache_read)):
                s.tokens[n] += val
            m = s.by_model.setdefault(e.model or "", [0, 0, 0, 0])
            for n, val in enumerate((k.input, k.output, k.cache_creation, k.cache_read)):
                m[n] += val
            if e.limit_reset and not s.reset_ms:
                s.reset_ms = to_ms(e.limit_reset)
        s.models = list(b.models)
        out.append(s)
    return out
