"""ccusage's 5-hour blocks as a report: filtering and the ``blocks --json`` shape.

The block rule itself is ``api.build_blocks`` (the status helper builds on it); this module
selects the entries (view "blocks": no mirror lines; ``--since/--until`` by local day,
``--project``) and renders ccusage 20.0.24's JSON, burn rate and projection included for the
active block. Blocks with 0 tokens are kept, as ccusage keeps them.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from sessionmd.usage import pricing
from sessionmd.usage.api import UsageResult, build_blocks, to_ms
from sessionmd.usage.models import Block, UsageEntry
from sessionmd.usage.report import day_of, iso_ms, project_matcher


def select(
    result: UsageResult,
    tz: tzinfo,
    since: date | None = None,
    until: date | None = None,
    project: str | None = None,
) -> list[UsageEntry]:
    day = day_of(tz)
    lo = since.isoformat() if since else ""
    hi = until.isoformat() if until else "9999"
    match = project_matcher(project)
    out = []
    for e in result.entries:
        if not match(e.project):
            continue
        if since or until:
            d = day(to_ms(e.timestamp))
            if d < lo or d > hi:
                continue
        out.append(e)
    return out


def blocks(
    result: UsageResult,
    now: datetime,
    tz: tzinfo,
    since: date | None = None,
    until: date | None = None,
    project: str | None = None,
    session_hours: float = 5,
) -> list[Block]:
    return build_blocks(select(result, tz, since, until, project), now, session_hours)


def block_cost(block: Block) -> float:
    return sum(
        pricing.cost(
            e.model or "",
            e.tokens.input,
            e.tokens.output,
            e.tokens.cache_creation,
            e.tokens.cache_read,
        )
        for e in block.entries
    )


def burn_rate(block: Block) -> dict[str, float] | None:
    """ccusage's burn rate: tokens per minute between the block's first and last entry."""
    if len(block.entries) < 2:
        return None
    minutes = (block.entries[-1].timestamp - block.entries[0].timestamp).total_seconds() / 60
    if minutes <= 0:
        return None
    t = block.tokens
    return {
        "costPerHour": block_cost(block) / minutes * 60,
        "tokensPerMinute": t.total / minutes,
        "tokensPerMinuteForIndicator": (t.input + t.output) / minutes,
    }


def projection(block: Block, now: datetime) -> dict[str, float] | None:
    rate = burn_rate(block)
    if rate is None:
        return None
    remaining = max(0.0, (block.end - now).total_seconds() / 60)
    return {
        "remainingMinutes": round(remaining),
        "totalCost": round((block_cost(block) + rate["costPerHour"] / 60 * remaining) * 100) / 100,
        "totalTokens": round(block.tokens.total + rate["tokensPerMinute"] * remaining),
    }


def block_json(block: Block, now: datetime) -> dict[str, object]:
    start = iso_ms(to_ms(block.start))
    t = block.tokens
    out: dict[str, object] = {
        "actualEndTime": iso_ms(to_ms(block.actual_end)) if block.actual_end else None,
        "burnRate": burn_rate(block) if block.is_active else None,
        "costUSD": block_cost(block),
        "endTime": iso_ms(to_ms(block.end)),
        "entries": len(block.entries),
        "id": f"gap-{start}" if block.is_gap else start,
        "isActive": block.is_active,
        "isGap": block.is_gap,
        "models": list(block.models),
        "projection": projection(block, now) if block.is_active else None,
        "startTime": start,
        "tokenCounts": {
            "cacheCreationInputTokens": t.cache_creation,
            "cacheReadInputTokens": t.cache_read,
            "inputTokens": t.input,
            "outputTokens": t.output,
        },
        "totalTokens": t.total,
    }
    reset = next((e.limit_reset for e in block.entries if e.limit_reset), None)
    if reset is not None:
        out["usageLimitResetTime"] = iso_ms(to_ms(reset))
    return out


def blocks_json(found: list[Block], now: datetime) -> dict[str, object]:
    """ccusage 20.0.24's ``blocks --json`` shape."""
    return {"blocks": [block_json(b, now) for b in found]}
