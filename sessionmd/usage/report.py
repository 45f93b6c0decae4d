"""Shared pieces of the three reports: token sums with per-model cost, dates, filters, ISO times.

Reports aggregate the engine's packed winners directly (``UsageResult.winners()``), so a cold
``usage daily`` never builds per-message objects. Field names follow ccusage 20.0.24's JSON.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from sessionmd.errors import UsageError
from sessionmd.usage import pricing

if TYPE_CHECKING:
    from sessionmd.usage.api import UsageResult

SYNTHETIC = "<synthetic>"  # Claude Code's model name on API-error lines
QUARTER_MS = 900_000  # zone offsets and their changes fall on quarter hours


@dataclass(slots=True)
class Tally:
    """Token sums of one row (day, session) with a per-model breakdown, as ccusage reports."""

    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    entries: int = 0
    last_ms: int = 0
    by_model: dict[str, list[int]] = field(default_factory=dict)

    def add(self, model: str, i: int, o: int, cc: int, cr: int, ts_ms: int) -> None:
        """One entry of ``model`` at ``ts_ms``."""
        self.add_sums(model, i, o, cc, cr, 1, ts_ms, ts_ms)

    def add_sums(
        self, model: str, i: int, o: int, cc: int, cr: int, n: int, first_ms: int, last_ms: int
    ) -> None:
        """``add`` for ``n`` entries of one model at once (their sums, first and last times)."""
        self.input += i
        self.output += o
        self.cache_creation += cc
        self.cache_read += cr
        self.entries += n
        if last_ms > self.last_ms:
            self.last_ms = last_ms
        m = self.by_model.get(model)
        if m is None:
            self.by_model[model] = [i, o, cc, cr, first_ms]
        else:
            m[0] += i
            m[1] += o
            m[2] += cc
            m[3] += cr
            if first_ms < m[4]:
                m[4] = first_ms

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_creation + self.cache_read

    @property
    def cost(self) -> float:
        """Summed exactly (``fsum``): the models' order follows the scan's, which two
        processes sharing the work make vary from run to run; the figure must not."""
        return math.fsum(pricing.cost(m, *v[:4]) for m, v in self.by_model.items())

    def models_used(self) -> list[str]:
        return sorted(m for m in self.by_model if m and m != SYNTHETIC)

    def order_models(self) -> None:
        """Put ``by_model`` in first-use order (``add_sums``' ``first_ms``): breakdowns of
        equal cost keep it, as ccusage keeps the order it met the models in."""
        firsts = self.by_model
        self.by_model = {m: firsts[m] for m in sorted(firsts, key=lambda m: firsts[m][4])}

    def models_in_order(self) -> list[str]:
        """Models by first use, as ``add_sums``' ``first_ms`` ranks them (ccusage's session
        ``modelsUsed``; the session view passes a (file path, line) position)."""
        used = [m for m in self.by_model if m and m != SYNTHETIC]
        return sorted(used, key=lambda m: (self.by_model[m][4], m))

    def breakdowns(self) -> list[dict[str, object]]:
        rows = [
            {
                "cacheCreationTokens": v[2],
                "cacheReadTokens": v[3],
                "cost": pricing.cost(m, *v[:4]),
                "inputTokens": v[0],
                "modelName": m,
                "outputTokens": v[1],
            }
            for m, v in self.by_model.items()
            if m and m != SYNTHETIC
        ]
        rows.sort(key=lambda r: -float(r["cost"]))  # type: ignore[arg-type]
        return rows

    def token_fields(self) -> dict[str, object]:
        return {
            "cacheCreationTokens": self.cache_creation,
            "cacheReadTokens": self.cache_read,
            "inputTokens": self.input,
            "outputTokens": self.output,
        }


def position(rank: list[int], winner: tuple[int, ...]) -> int:
    """A winner's place in (file path, line) order, as one int: the order ccusage meets lines
    in, which sets its order of models (``rank`` is ``State.path_rank()``)."""
    return rank[winner[7]] << 40 | winner[5]


def totals_json(rows: list[Tally]) -> dict[str, object]:
    t = Tally()
    cost = 0.0
    for r in rows:
        t.input += r.input
        t.output += r.output
        t.cache_creation += r.cache_creation
        t.cache_read += r.cache_read
        cost += r.cost
    return {**t.token_fields(), "totalCost": cost, "totalTokens": t.total}


def parse_day(text: str, option: str = "--since") -> date:
    """``YYYYMMDD`` or ``YYYY-MM-DD``, as ccusage accepts them."""
    m = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", text.strip())
    if not m:
        raise UsageError(f"{option} {text!r}: expected YYYYMMDD or YYYY-MM-DD")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as err:
        raise UsageError(f"{option} {text!r}: {err}") from None


def day_of(tz: tzinfo) -> Callable[[int], str]:
    """A fast ms -> ``YYYY-MM-DD`` in ``tz``, memoised per quarter hour.

    Every zone offset in use is a multiple of 15 minutes and changes on a quarter hour, so
    one conversion per quarter hour is exact, across midnight and DST.
    """
    memo: dict[int, str] = {}

    def day(ms: int) -> str:
        q = ms // QUARTER_MS
        d = memo.get(q)
        if d is None:
            when = datetime.fromtimestamp(q * QUARTER_MS / 1000, tz=tz)
            # ``isoformat`` is 3x faster than ``strftime``. They differ only before year 1000
            # (isoformat pads the year with zeros), where strftime's form is kept.
            d = when.date().isoformat() if when.year >= 1000 else when.strftime("%Y-%m-%d")
            memo[q] = d
        return d

    return day


def iso_ms(ms: int) -> str:
    """``2026-01-06T19:00:00.000Z``: ccusage's time format."""
    t = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def encode_project(path: str) -> str:
    """Claude Code's folder name for a cwd: every character not in [A-Za-z0-9] becomes ``-``."""
    return re.sub(r"[^A-Za-z0-9]", "-", path)


def project_matcher(project: str | None) -> Callable[[str], bool]:
    """``--project``: a transcript folder name, a cwd path, or part of a folder name."""
    if not project:
        return lambda _name: True
    encoded = encode_project(project)

    def match(name: str) -> bool:
        return name in (project, encoded) or project in name

    return match


def selected_winners(
    result: UsageResult,
    tz: tzinfo,
    since: date | None,
    until: date | None,
    project: str | None,
) -> Iterator[tuple[str, Any]]:
    """(day in ``tz``, winning record) for every winner in the project and date range.

    The one filter the daily and session views share, so ``--since/--until/--project`` mean
    the same thing in both.
    """
    day = day_of(tz)
    lo = since.isoformat() if since else ""
    hi = until.isoformat() if until else "9999"
    match = project_matcher(project)
    keep = [match(f.project) for f in result.state.files]
    for _key, v, _progress in result.winners():
        if not keep[v[7]]:
            continue
        d = day(v[0])
        if lo <= d <= hi:
            yield d, v
