"""Usage per calendar day in a timezone, as ccusage 20's ``daily`` view computes it.

The daily view is the one that also counts sub-agents' ``agent_progress`` mirror lines (ask
``load_usage`` for view "daily"). Days whose token total is 0 are left out, as ccusage does.
"""

from __future__ import annotations

import struct
from datetime import date, tzinfo

from sessionmd.usage.api import UsageResult
from sessionmd.usage.lineread import PACK
from sessionmd.usage.report import QUARTER_MS, Tally, day_of, project_matcher, totals_json

# The fields a day needs from a packed winner (``scan.PACK``), the rest skipped unread:
# ts, input, output, cache_creation, cache_read, file index, model index.
_FIELDS = struct.Struct(">9xqqqqq16xIIx")
assert _FIELDS.size == PACK.size


def daily(
    result: UsageResult,
    tz: tzinfo,
    since: date | None = None,
    until: date | None = None,
    project: str | None = None,
) -> dict[str, Tally]:
    """Tallies keyed by ``YYYY-MM-DD`` in ``tz``, oldest first.

    Winners are summed per (quarter hour, model) in one flat loop over their packed bytes,
    then quarters are folded into days: a zone's day boundary always falls on a quarter hour
    (``report.day_of``), and a cold ``usage daily`` over a million messages spends its time
    here otherwise.
    """
    state = result.state
    models = state.models
    match = project_matcher(project)
    keep = [match(f.project) for f in state.files]
    everything = all(keep)
    span = len(models) + 1  # a (quarter, model) pair as one int: quarter * span + model
    sums: dict[int, list[int]] = {}
    get = sums.get
    for chunk in state.winner_chunks(with_progress=result.view == "daily"):
        for ts, i, o, cc, cr, f, m in _FIELDS.iter_unpack(chunk):
            if not everything and not keep[f]:
                continue
            k = ts // QUARTER_MS * span + m
            a = get(k)
            if a is None:
                sums[k] = [i, o, cc, cr, 1, ts, ts]
            else:
                a[0] += i
                a[1] += o
                a[2] += cc
                a[3] += cr
                a[4] += 1
                if ts < a[5]:
                    a[5] = ts
                elif ts > a[6]:
                    a[6] = ts
    day = day_of(tz)
    lo = since.isoformat() if since else ""
    hi = until.isoformat() if until else "9999"
    per_day: dict[str, dict[int, list[int]]] = {}
    for k, a in sums.items():
        quarter, model = divmod(k, span)
        d = day(quarter * QUARTER_MS)
        if not lo <= d <= hi:
            continue
        by_model = per_day.setdefault(d, {})
        b = by_model.get(model)
        if b is None:
            by_model[model] = a
        else:
            for n in range(5):
                b[n] += a[n]
            b[5] = min(b[5], a[5])
            b[6] = max(b[6], a[6])
    days: dict[str, Tally] = {}
    for d in sorted(per_day):
        t = Tally()
        # Models by first use, then name: the order no longer depends on which process read
        # what first (it decides the breakdown's order among equal costs).
        for model, a in sorted(per_day[d].items(), key=lambda kv: (kv[1][5], models[kv[0]])):
            t.add_sums(models[model], a[0], a[1], a[2], a[3], a[4], a[5], a[6])
        if t.total:
            days[d] = t
    return days


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
