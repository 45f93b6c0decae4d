"""Usage per calendar day in a timezone, as ccusage 20's ``daily`` view computes it.

The daily view is the one that also counts sub-agents' ``agent_progress`` mirror lines (ask
``load_usage`` for view "daily"). Days whose token total is 0 are left out, as ccusage does.
"""

from __future__ import annotations

from datetime import date, tzinfo

from sessionmd.usage.api import UsageResult
from sessionmd.usage.report import Tally, selected_winners, totals_json


def daily(
    result: UsageResult,
    tz: tzinfo,
    since: date | None = None,
    until: date | None = None,
    project: str | None = None,
) -> dict[str, Tally]:
    """Tallies keyed by ``YYYY-MM-DD`` in ``tz``, oldest first."""
    models = result.state.models
    days: dict[str, Tally] = {}
    for d, v in selected_winners(result, tz, since, until, project):
        t = days.get(d)
        if t is None:
            t = days[d] = Tally()
        t.add(models[v[8]], v[1], v[2], v[3], v[4], v[0])
    return {d: days[d] for d in sorted(days) if days[d].total}


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
