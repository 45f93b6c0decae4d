"""Quota zones: what share of a window is used says which kind of work still fits.

The thresholds and actions are the seed plan's "New Threshold System" (section 1): DANGER
starts at 80 %, not 90 %, so there is room left to plan the next session. A zone holds
its lower bound and excludes its upper one, so 80.0 % is DANGER and 79.99 % is MODERATE.

The seed's token figures ("60-80k tokens") assume a 200k window; here they are kept as
shares of the window's limit and turned into tokens for the user's own limit, so the
advice stays right whatever the limit is. Imported by the status line: standard library only.
"""

from __future__ import annotations

from sessionmd._typing import NamedTuple


class Zone(NamedTuple):
    name: str
    low: float  # percent, inclusive
    high: float  # percent, exclusive (inf for the last zone)
    marker: str  # ASCII tag for plain output and the status line
    headline: str  # the seed's one-line description of the zone
    actions: tuple[str, ...]  # templates: {t:A-B} / {t:<A} -> shares of the limit, in tokens
    colour: str  # rich style name


ZONES: tuple[Zone, ...] = (
    Zone(
        "FRESH",
        0.0,
        10.0,
        "o",
        "Full quota - strategic planning time",
        (
            "Plan the session: pick the phases that fit this window",
            "Start the largest task of the plan now",
        ),
        "cyan",
    ),
    Zone(
        "EXCELLENT",
        10.0,
        25.0,
        "+",
        "Any task OK - early monitoring active",
        ("Any task fits, including large ones", "Keep an eye on the burn rate"),
        "green",
    ),
    Zone(
        "GOOD",
        25.0,
        50.0,
        "+",
        "Large tasks OK",
        ("Large tasks OK ({t:30-40})",),
        "green",
    ),
    Zone(
        "MODERATE",
        50.0,
        80.0,
        "~",
        "Medium tasks OK",
        ("Medium tasks OK ({t:15-30})",),
        "yellow",
    ),
    Zone(
        "DANGER",
        80.0,
        90.0,
        "!",
        "START PLANNING NEXT SESSION - small tasks only",
        (
            "Finish current task if small ({t:<7.5})",
            "Plan next session: /plan-next-session",
            "Schedule automation for quota reset",
            "Save context and stop safely",
        ),
        "bold dark_orange",
    ),
    Zone(
        "CRITICAL",
        90.0,
        95.0,
        "!!",
        "Wrap up current task",
        ("Wrap up the current task", "Execute scheduled automation", "Write the handoff now"),
        "bold red",
    ),
    Zone(
        "EMERGENCY",
        95.0,
        float("inf"),
        "!!!",
        "Save immediately",
        ("Save immediately: commit and write the handoff", "Let automation handle next session"),
        "bold white on red",
    ),
)

# Percentages at which the user is alerted: the boundaries where the advice changes
# (medium tasks, start planning, wrap up, save) and the limit itself.
ALERT_THRESHOLDS: tuple[float, ...] = (50.0, 80.0, 90.0, 95.0, 100.0)


def zone_for(percent: float) -> Zone:
    """The zone a usage percentage falls in; below 0 is FRESH, above 100 is EMERGENCY."""
    for zone in reversed(ZONES):
        if percent >= zone.low:
            return zone
    return ZONES[0]


def zone_named(name: str) -> Zone:
    for zone in ZONES:
        if zone.name == name:
            return zone
    raise KeyError(name)


def next_alert(percent: float) -> float | None:
    """The first alert threshold strictly above ``percent``; None once the limit is reached."""
    for threshold in ALERT_THRESHOLDS:
        if percent < threshold:
            return threshold
    return None


def tokens_to(threshold: float, used: int, limit: int) -> int:
    """Tokens left before usage reaches ``threshold`` percent of ``limit`` (never negative)."""
    return max(0, round(limit * threshold / 100.0) - used)


def short_tokens(tokens: float) -> str:
    """``15000`` -> ``15k``, ``1_250_000`` -> ``1.2M``: short enough for advice and the status line."""
    value = abs(tokens)
    sign = "-" if tokens < 0 else ""
    if value >= 1_000_000:
        return f"{sign}{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{sign}{value / 1000:.0f}k"
    if value >= 1000:
        return f"{sign}{value / 1000:.1f}k"
    return f"{sign}{value:.0f}"


def actions(zone: Zone, limit: int | None) -> list[str]:
    """The zone's recommended actions, with shares of the limit written as tokens.

    Without a limit the shares are written as percentages of the window instead.
    """
    out: list[str] = []
    for template in zone.actions:
        out.append(_fill(template, limit))
    return out


def _fill(template: str, limit: int | None) -> str:
    parts: list[str] = []
    rest = template
    while "{t:" in rest:
        head, _, tail = rest.partition("{t:")
        spec, _, rest = tail.partition("}")
        parts.append(head)
        prefix = "<" if spec.startswith("<") else ""
        shares = [float(x) for x in spec.lstrip("<").split("-")]
        if limit is None:
            parts.append(prefix + "-".join(f"{x:g}" for x in shares) + "% of the window")
        else:
            tokens = "-".join(short_tokens(limit * x / 100.0) for x in shares)
            parts.append(f"{prefix}{tokens} tokens")
    parts.append(rest)
    return "".join(parts)


def strategic_alert(
    percent: float,
    remaining: int | None,
    runway_minutes: float | None,
    reset_at: str | None,
    limit: int | None = None,
) -> list[str]:
    """The seed's 80 % alert (section 1), with this window's own figures filled in.

    A "small task" is the seed's 15k of a 200k window: 7.5 % of the limit.
    """
    pace = ""
    if runway_minutes is not None:
        pace = f" (~{runway_minutes:.0f} minutes at current pace)"
    left = f"You have {remaining:,} tokens remaining{pace}." if remaining is not None else ""
    when = f"session can auto-start at {reset_at}" if reset_at else "at quota reset"
    lines = [
        f"{percent:.0f}% Quota Used - STRATEGIC PLANNING TIME",
        "",
    ]
    if left:
        lines += [left, ""]
    lines += [
        "RECOMMENDED ACTIONS:",
        f"1. Finish current small task ({_fill('{t:<7.5}', limit)})",
        "2. Plan next session (what to build, which agent, objectives)",
        f"3. Schedule automation ({when})",
        "4. Save context to handoff file",
        "",
        "Run: /plan-next-session",
    ]
    return lines
