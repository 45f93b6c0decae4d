"""Usage per session, as ccusage 20's ``session`` view computes it.

A session is a transcript file, or a session's folder of sub-agent files (its id is the file
or folder name, as ccusage reports it). Mirror lines are not counted (view "sessions").
Sessions whose token total is 0 are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo

from sessionmd.usage.api import UsageResult
from sessionmd.usage.report import Tally, iso_ms, position, selected_winners, totals_json


@dataclass(slots=True)
class SessionRow:
    session_id: str
    project: str
    tally: Tally


def sessions(
    result: UsageResult,
    tz: tzinfo,
    since: date | None = None,
    until: date | None = None,
    project: str | None = None,
) -> list[SessionRow]:
    """One row per session with usage, costliest first (ccusage's order)."""
    files = result.state.files
    models = result.state.models
    rank = result.state.path_rank()
    rows: dict[str, SessionRow] = {}
    for _d, v in selected_winners(result, tz, since, until, project):
        f = files[v[7]]
        row = rows.get(f.session)
        if row is None:
            row = rows[f.session] = SessionRow(f.session, f.project, Tally())
        # A model's first use is its first winner in (file path, line) order, as ccusage
        # meets them (not its earliest time): ``modelsUsed`` and equal-cost breakdowns
        # follow it.
        first = position(rank, v)
        row.tally.add_sums(models[v[8]], v[1], v[2], v[3], v[4], 1, first, v[0])
    out = [r for r in rows.values() if r.tally.total]
    for r in out:
        r.tally.order_models()
    costs = {r.session_id: r.tally.cost for r in out}
    out.sort(key=lambda r: (-costs[r.session_id], -r.tally.last_ms, r.session_id))
    return out


def sessions_json(rows: list[SessionRow]) -> dict[str, object]:
    """ccusage 20.0.24's ``session --json`` shape (``period`` is the session id)."""
    return {
        "session": [
            {
                "agent": "claude",
                **r.tally.token_fields(),
                "metadata": {"lastActivity": iso_ms(r.tally.last_ms)},
                "modelBreakdowns": r.tally.breakdowns(),
                "modelsUsed": r.tally.models_in_order(),
                "outputTokens": r.tally.output,
                "period": r.session_id,
                "totalCost": r.tally.cost,
                "totalTokens": r.tally.total,
            }
            for r in rows
        ],
        "totals": totals_json([r.tally for r in rows]),
    }
