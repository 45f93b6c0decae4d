"""The token limit of a window, and where that number comes from.

Anthropic publishes no token limits, so every limit sessionmd uses is one of these, in
this order of precedence (the first that exists wins):

1. ``explicit``: ``--limit N`` / ``--limit max5`` / ``--limit auto`` on the command line.
2. ``official``: a fresh ``rate_limits`` snapshot from Claude Code. Its percentage is
   official; the token limit is the transcripts' tokens in that window divided by it.
3. ``derived``: the latest such quotient saved earlier (with its date), used when no
   fresh snapshot exists. It is the user's own limit in sessionmd's token measure.
4. ``config``: ``quota:`` in ``sessionmd.yaml`` (a token count, a preset, or ``auto``).
5. ``auto``: the 90th percentile of the user's past full blocks (see :func:`auto_limit`),
   else the ``pro`` preset when there is no history at all.

Presets (``pro``, ``max5``, ``max20``) are claude-monitor 4's plan presets: folklore that
differs tenfold between sources, so a derived limit always beats them. Standard library
only: the status line resolves limits on every call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from sessionmd._typing import TYPE_CHECKING, NamedTuple
from sessionmd.quota import PRESETS, Quota, parse_quota
from sessionmd.usage.models import Block, TokenCounts
from sessionmd.usage.snapshot import read_json, write_json_atomic

if TYPE_CHECKING:
    from typing import Any

DERIVED_FILE = "derived_limits.json"
AUTO_FILE = "auto_limit.json"
AUTO_FRESH_SECONDS = 24 * 3600  # the status line reuses ``status``'s auto limit this long
DEFAULT_MEASURE: tuple[str, ...] = ("input", "output", "cache_creation")
# Below this official percentage the quotient is too noisy to keep: Claude Code rounds
# the percentage, and at 2 % a rounding of 0.5 moves the limit by a quarter.
MIN_DERIVE_PERCENT = 10.0
DERIVED_KEEP = 20  # derivations kept per window, newest last
# claude-monitor's rule for "this block hit a limit": within 95 % of a known plan limit.
FULL_BLOCK_SHARE = 0.95
MIN_FULL_BLOCKS = 3


class Limit(NamedTuple):
    tokens: int
    kind: str  # explicit | official | derived | config | preset | auto
    source: str  # shown beside every figure computed from it

    @property
    def estimated(self) -> bool:
        """True unless the limit rests on Claude Code's own figures."""
        return self.kind not in ("official", "derived")


def measure_tokens(tokens: TokenCounts, measure: Sequence[str] = DEFAULT_MEASURE) -> int:
    """Tokens in the project's token measure (``token_measure`` in ``sessionmd.yaml``)."""
    total = 0
    for kind in measure:
        total += getattr(tokens, kind)
    return total


# -- derived limits ---------------------------------------------------------------------


class Derived(NamedTuple):
    window: str  # five_hour | seven_day
    tokens: int
    derived_at: datetime
    used_tokens: int
    used_percentage: float
    resets_at: datetime

    def source(self, tz: Any = timezone.utc) -> str:
        return f"derived {self.derived_at.astimezone(tz).date().isoformat()}"


def derive_limit(used_tokens: int, used_percentage: float) -> int | None:
    """The effective limit: tokens used / share used; None when the share is too small."""
    if used_percentage < MIN_DERIVE_PERCENT or used_tokens <= 0:
        return None
    return round(used_tokens * 100.0 / used_percentage)


def _derived_from_json(window: str, row: Any) -> Derived | None:
    if not isinstance(row, dict):
        return None
    try:
        return Derived(
            window,
            int(row["tokens"]),
            datetime.fromtimestamp(float(row["derived_at"]), tz=timezone.utc),
            int(row["used_tokens"]),
            float(row["used_percentage"]),
            datetime.fromtimestamp(float(row["resets_at"]), tz=timezone.utc),
        )
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None


def load_derived(state_dir: Path, measure: Sequence[str] = DEFAULT_MEASURE) -> dict[str, Derived]:
    """The latest derived limit per window, in ``measure``; others are ignored."""
    data = read_json(state_dir / DERIVED_FILE)
    if not isinstance(data, dict) or data.get("version") != 1:
        return {}
    if data.get("measure") != list(measure):
        return {}
    out: dict[str, Derived] = {}
    for window in ("five_hour", "seven_day"):
        rows = data.get(window)
        if isinstance(rows, list) and rows:
            derived = _derived_from_json(window, rows[-1])
            if derived is not None and derived.tokens > 0:
                out[window] = derived
    return out


def record_derived(
    state_dir: Path, derived: Derived, measure: Sequence[str] = DEFAULT_MEASURE
) -> bool:
    """Append a derivation, replacing the last one when it is of the same window period.

    Returns whether the file changed. One row per window period (``resets_at``) is kept,
    the latest, so the history shows one effective limit per 5-hour or 7-day window.
    """
    path = state_dir / DERIVED_FILE
    data = read_json(path)
    if (
        not isinstance(data, dict)
        or data.get("version") != 1
        or data.get("measure") != list(measure)
    ):
        data = {"version": 1, "measure": list(measure)}
    rows = data.get(derived.window)
    if not isinstance(rows, list):
        rows = []
    row = {
        "tokens": derived.tokens,
        "derived_at": derived.derived_at.timestamp(),
        "used_tokens": derived.used_tokens,
        "used_percentage": derived.used_percentage,
        "resets_at": derived.resets_at.timestamp(),
    }
    if rows and isinstance(rows[-1], dict):
        last = rows[-1]
        last_reset = last.get("resets_at")
        # the same window: its reset time, give or take Claude Code's rounding
        if isinstance(last_reset, (int, float)) and abs(last_reset - row["resets_at"]) < 300:
            if (
                last.get("tokens") == row["tokens"]
                and last.get("used_percentage") == row["used_percentage"]
            ):
                return False
            rows = rows[:-1]
    rows.append(row)
    data[derived.window] = rows[-DERIVED_KEEP:]
    write_json_atomic(path, data)
    return True


# -- auto -------------------------------------------------------------------------------


def _percentile(values: Sequence[int], share: float) -> int:
    """Linear-interpolation percentile (numpy's default), without numpy."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = share * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def _hit_limit(block: Block) -> bool:
    return any(e.limit_reset is not None for e in block.entries)


def completed_blocks(blocks: Iterable[Block], now: datetime) -> list[Block]:
    """Past blocks whose 5 hours are over: not gaps, not active, with tokens."""
    return [b for b in blocks if not b.is_gap and b.end <= now and b.tokens.total > 0]


def auto_limit(
    blocks: Iterable[Block], now: datetime, measure: Sequence[str] = DEFAULT_MEASURE
) -> Limit | None:
    """The 90th percentile of the user's past full blocks, as claude-monitor's custom plan
    (see :func:`auto_limit_of`), over blocks built from entries."""
    done = completed_blocks(blocks, now)
    return auto_limit_of((measure_tokens(b.tokens, measure), _hit_limit(b)) for b in done)


def auto_limit_of(completed: Iterable[tuple[int, bool]]) -> Limit | None:
    """The auto limit from each completed block's (tokens in the measure, hit a limit).

    A "full" block is a completed block in which Claude Code wrote "usage limit reached",
    or whose tokens came within 95 % of a preset's limit (claude-monitor's "hit a limit"
    rule). With fewer than three of those, every completed block counts instead. None when
    there is no completed block with tokens. Taking pairs, not blocks, lets a whole history
    be judged from per-block sums (``usage.blocks.history_auto_limit``) without an object
    per message.
    """
    rows = [(t, hit) for t, hit in completed if t > 0]
    totals = [t for t, _ in rows]
    if not totals:
        return None
    full = [
        t
        for t, hit in rows
        if hit or any(t >= q.tokens * FULL_BLOCK_SHARE for q in PRESETS.values())
    ]
    basis, what = (full, "full") if len(full) >= MIN_FULL_BLOCKS else (totals, "completed")
    tokens = _percentile(basis, 0.9)
    return Limit(tokens, "auto", f"auto: p90 of {len(basis)} {what} blocks")


def save_auto(
    state_dir: Path, limit: Limit, now: datetime, measure: Sequence[str] = DEFAULT_MEASURE
) -> None:
    """Keep an auto limit computed over the whole history, for the status line."""
    write_json_atomic(
        state_dir / AUTO_FILE,
        {
            "version": 1,
            "measure": list(measure),
            "tokens": limit.tokens,
            "source": limit.source,
            "computed_at": now.timestamp(),
        },
    )


def load_auto(
    state_dir: Path, now: datetime, measure: Sequence[str] = DEFAULT_MEASURE
) -> Limit | None:
    """The saved auto limit when it is in ``measure`` and less than a day old."""
    data = read_json(state_dir / AUTO_FILE)
    if not isinstance(data, dict) or data.get("version") != 1:
        return None
    if data.get("measure") != list(measure):
        return None
    tokens, source, when = data.get("tokens"), data.get("source"), data.get("computed_at")
    if not isinstance(tokens, int) or tokens <= 0 or not isinstance(source, str):
        return None
    if not isinstance(when, (int, float)) or not 0 <= now.timestamp() - when <= AUTO_FRESH_SECONDS:
        return None
    return Limit(tokens, "auto", source)


# -- precedence -------------------------------------------------------------------------


def _from_quota(quota: Quota, kind: str, where: str) -> Limit:
    if quota.source.startswith("preset "):
        name = quota.source.split()[1]
        return Limit(quota.tokens, "preset", f"{where}preset {name} (claude-monitor 4)")
    return Limit(quota.tokens, kind, kind)


AutoSource = Limit | Callable[[], Limit | None] | None


def _auto_or_pro(
    blocks: Iterable[Block], now: datetime, measure: Sequence[str], given: AutoSource
) -> Limit:
    if given is None:
        auto = auto_limit(blocks, now, measure)
    elif isinstance(given, Limit):
        auto = given
    else:
        auto = given()
    if auto is not None:
        return auto
    pro = PRESETS["pro"]
    return Limit(pro.tokens, "preset", "preset pro (claude-monitor 4; no history for auto)")


def resolve_limit(
    *,
    explicit: str | None,
    official: int | None,
    derived: Derived | None,
    config_quota: int | str | None,
    blocks: Iterable[Block],
    now: datetime,
    measure: Sequence[str] = DEFAULT_MEASURE,
    tz: Any = timezone.utc,
    auto: AutoSource = None,
) -> Limit:
    """The 5-hour limit by the precedence in this module's docstring.

    ``explicit`` and ``config_quota`` are validated here: a bad value raises ``ValueError``
    (the CLI turns it into exit 2). ``official`` is the limit derived live from a fresh
    snapshot, or None. ``auto``: an auto limit computed earlier (the status line passes
    the one saved in the state dir), or a function computing it only when it is needed,
    instead of computing it from ``blocks``.
    """
    if explicit is not None:
        if explicit.strip().lower() == "auto":
            return _auto_or_pro(blocks, now, measure, auto)
        quota = parse_quota(explicit, "--limit")
        assert quota is not None
        return _from_quota(quota, "explicit", "")
    if official is not None:
        return Limit(official, "official", "official: window tokens / official %")
    if derived is not None:
        return Limit(derived.tokens, "derived", derived.source(tz))
    if config_quota is not None:
        if isinstance(config_quota, str) and config_quota.strip().lower() == "auto":
            return _auto_or_pro(blocks, now, measure, auto)
        quota = parse_quota(config_quota, "config")
        assert quota is not None
        return _from_quota(quota, "config", "config: ")
    return _auto_or_pro(blocks, now, measure, auto)


def resolve_weekly_limit(
    *,
    explicit: int | None,
    official: int | None,
    derived: Derived | None,
    config_limit: int | None,
    tz: Any = timezone.utc,
) -> Limit | None:
    """The 7-day limit: same order as the 5-hour one, without presets or auto (no folklore
    exists for it); None when nothing gives one."""
    if explicit is not None:
        return Limit(explicit, "explicit", "explicit")
    if official is not None:
        return Limit(official, "official", "official: window tokens / official %")
    if derived is not None:
        return Limit(derived.tokens, "derived", derived.source(tz))
    if config_limit is not None:
        return Limit(config_limit, "config", "config")
    return None


def known_limit(
    state_dir: Path,
    *,
    config_quota: int | str | None,
    now: datetime,
    measure: Sequence[str] = DEFAULT_MEASURE,
    tz: Any = timezone.utc,
) -> Limit:
    """The best 5-hour limit known without reading transcripts, for other streams (the plan
    compiler's "fits the quota", scheduling): the latest derived limit, else the config's
    quota, else the auto limit ``status`` saved, else the ``pro`` preset. Raises
    ``ValueError`` for a bad config quota.
    """
    derived = load_derived(state_dir, measure).get("five_hour")
    saved_auto = load_auto(state_dir, now, measure)
    if derived is None and isinstance(config_quota, str) and config_quota.strip() == "auto":
        config_quota = None  # auto needs the transcripts: fall through to the saved one
    return resolve_limit(
        explicit=None,
        official=None,
        derived=derived,
        config_quota=config_quota,
        blocks=(),
        now=now,
        measure=measure,
        tz=tz,
        auto=saved_auto,
    )
