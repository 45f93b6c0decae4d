"""Usage per calendar day in a timezone, as ccusage 20's ``daily`` view computes it.

The daily view is the one that also counts sub-agents' ``agent_progress`` mirror lines (ask
``load_usage`` for view "daily"). Days whose token total is 0 are left out, as ccusage does.
"""

from __future__ import annotations

from datetime import date, tzinfo

from sessionmd.usage.api import UsageResult
from sessionmd.usage.quarters import QUARTER_MS, QuarterSums, split_key
from sessionmd.usage.report import Tally, day_of, position, project_matcher, totals_json


def daily(
    result: UsageResult,
    tz: tzinfo,
    since: date | None = None,
    until: date | None = None,
    project: str | None = None,
) -> dict[str, Tally]:
    """Tallies keyed by ``YYYY-MM-DD`` in ``tz``, oldest first.

    Built from the winners' sums per (quarter hour, model): the ones the state keeps
    (``State.quarters``: made by the scan or ``load_usage``, kept in the cache and in step
    with appended lines), else summed from the state here (always so for one project). A
    zone's day boundary always falls on a quarter hour (``report.day_of``), so quarters fold
    into days exactly, in any zone.
    """
    state = result.state
    match = project_matcher(project)
    keep = [match(f.project) for f in state.files]
    quarters = state.quarters if result.view == "daily" and not project else None
    if quarters is None:
        quarters = QuarterSums()
        chunks = state.winner_chunks(with_progress=result.view == "daily")
        quarters.add_chunks(chunks, None if all(keep) else keep)
    day = day_of(tz)
    lo = since.isoformat() if since else ""
    hi = until.isoformat() if until else "9999"
    per_day: dict[str, dict[int, list[int]]] = {}
    for k, a in quarters.sums.items():
        quarter, model = split_key(k)
        d = day(quarter * QUARTER_MS)
        if not lo <= d <= hi:
            continue
        by_model = per_day.setdefault(d, {})
        b = by_model.get(model)
        if b is None:
            by_model[model] = list(a)
        else:
            for n in range(5):
                b[n] += a[n]
    models = state.models
    days: dict[str, Tally] = {}
    tied: set[str] = set()
    for d in sorted(per_day):
        t = Tally()
        for model in sorted(per_day[d], key=lambda m: models[m]):
            a = per_day[d][model]
            t.add_sums(models[model], a[0], a[1], a[2], a[3], a[4], 0, 0)
        if not t.total:
            continue
        days[d] = t
        costs = [row["cost"] for row in t.breakdowns()]
        if len(set(costs)) < len(costs):
            tied.add(d)
    if tied:
        # ccusage sorts a day's breakdowns by cost and leaves equal costs in the order it
        # met the models, which follows (file path, line). Equal costs are rare (two models
        # without a price), so first positions are looked up only for such days.
        first = _first_positions(result, tz, tied, keep)
        for d in tied:
            for name, sums in days[d].by_model.items():
                sums[4] = first.get((d, name), 1 << 62)
            days[d].order_models()
    return days


def _first_positions(
    result: UsageResult, tz: tzinfo, wanted: set[str], keep: list[bool]
) -> dict[tuple[str, str], int]:
    """(day, model) -> ``report.position`` of its first winner, for the days in ``wanted``.

    Known difference, left: ccusage places a message where it first met any copy of it, so
    a message whose better copy came later in a later file (a resumed session's) moves
    earlier there than here. It shows only among breakdowns of equal cost.
    """
    state = result.state
    rank = state.path_rank()
    day = day_of(tz)
    first: dict[tuple[str, str], int] = {}
    for _key, v, _progress in result.winners():
        if not keep[v[7]]:
            continue
        d = day(v[0])
        if d not in wanted:
            continue
        pos = position(rank, v)
        slot = (d, state.models[v[8]])
        if pos < first.get(slot, pos + 1):
            first[slot] = pos
    return first


def daily_json(days: dict[str, Tally]) -> dict[str, object]:
    """ccusage 20.0.24's ``daily --json`` shape."""
    rows = [
        {
            "agent": "all",
            **t.token_fields(),
            "metadata": {"agents": ["claude"]},
            "modelBreakdowns": t.breakdowns(),
            "modelsUsed": t.models_used(),
            "outputTokens": t.output,
            "period": d,
            "totalCost": t.cost,
            "totalTokens": t.total,
        }
        for d, t in days.items()
    ]
    return {"daily": rows, "totals": totals_json(list(days.values()))}
