"""Text of ``sessionmd status`` (the seed's "Enhanced Status Display") and of the status line.

Pure: lines of text, each with a rich style name the CLI applies on a terminal and drops
when piped. Every figure says where it came from (official, derived, config, preset,
estimated). Standard library only, so the status line can use :func:`statusline_text`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sessionmd.usage.status import Status, WindowStatus, format_clock, format_duration
from sessionmd.usage.zones import short_tokens, zone_for

RULE = "━" * 44
BAR_WIDTH = 24
Line = tuple[str, str]  # (text, rich style)


def bar(percent: float, width: int = BAR_WIDTH) -> str:
    filled = max(0, min(width, round(width * percent / 100.0)))
    return "[" + "█" * filled + " " * (width - filled) + "]"


def _row(label: str, value: str, source: str | None = None) -> str:
    text = f"{label + ':':<14}{value}"
    if source:
        text = f"{text:<46} [{source}]"
    return text


def _reset_text(w: WindowStatus, status: Status, with_day: bool) -> str:
    if w.reset_at is None:
        return "with your next message (no active window)"
    local = w.reset_at.astimezone(status.tz)
    clock = format_clock(w.reset_at, status.tz)
    if with_day or local.date() != status.now.astimezone(status.tz).date():
        clock = f"{local:%a %d %b} {clock}"
    minutes = (w.reset_at - status.now).total_seconds() / 60.0
    return f"{clock} (in {format_duration(minutes)})"


def _window_rows(
    w: WindowStatus, status: Status, with_day: bool, extra: list[Line] | None = None
) -> list[Line]:
    style = "" if w.zone is None else zone_for(w.percent or 0.0).colour
    rows: list[Line] = []
    pct = "" if w.percent is None else f" ({w.percent:.0f}%)"
    rows.append((_row("Used", f"{w.used:,} tokens{pct}", w.percent_source), ""))
    if w.remaining is not None and w.percent is not None:
        left = max(0.0, 100.0 - w.percent)
        rows.append((_row("Remaining", f"{w.remaining:,} tokens ({left:.0f}%)"), ""))
    if w.percent is not None:
        rows.append((_row("Usage", f"{bar(w.percent)} {w.percent:.0f}%"), style))
    rows += extra or []
    if w.limit is not None:
        rows.append((_row("Limit", f"{w.limit:,} tokens", w.limit_source), ""))
    else:
        rows.append((_row("Limit", "not set (weekly.limit in sessionmd.yaml)"), "dim"))
    rows.append((_row("Resets", _reset_text(w, status, with_day), w.reset_source), ""))
    return rows


def render_lines(status: Status) -> list[Line]:
    """The full status display, as (text, style) lines."""
    five = status.five_hour
    lines: list[Line] = [
        (f"TOKEN QUOTA - 5-hour window ({status.tz_name})", "bold"),
        (RULE, "dim"),
    ]
    if status.burn_rate is None:
        burn = "no usage in this window yet"
    else:
        burn = f"{status.burn_rate:,.0f} tokens/min"
    if five.remaining == 0:
        runway = "none: the limit is reached"
    elif status.runway_minutes is None:
        runway = "idle (no usage in the last 30 min)" if status.burn_rate == 0 else "unknown"
    else:
        runway = f"~{format_duration(status.runway_minutes)}"
        if status.runway_responses is not None:
            runway += f" (~{status.runway_responses:,} responses)"
        if status.runway_past_reset:
            runway += ", past the reset"
    extra = [(_row("Burn Rate", burn, status.burn_source), ""), (_row("Est. Runway", runway), "")]
    lines += _window_rows(five, status, with_day=False, extra=extra)

    zone = status.zone
    if zone is not None:
        lines += [
            ("", ""),
            (f"{zone.marker} {zone.name} ZONE - {zone.headline}", zone.colour),
            (RULE, "dim"),
            ("", ""),
            ("Recommended Actions:", "bold"),
        ]
        lines += [(f"   {i}. {action}", "") for i, action in enumerate(status.actions, 1)]
        lines.append(("", ""))
        if status.next_alert is None:
            lines.append(("Next Alert:   none: the limit is reached", "bold red"))
        else:
            lines.append(
                (
                    f"Next Alert:   {status.next_alert:.0f}% usage "
                    f"(~{status.tokens_to_next_alert or 0:,} tokens)",
                    "",
                )
            )
    if status.alert:
        lines.append(("", ""))
        lines += [
            (f"  {text}" if text else "", zone.colour if zone else "") for text in status.alert
        ]

    lines += [
        ("", ""),
        (f"WEEKLY WINDOW - 7-day ({status.tz_name})", "bold"),
        (RULE, "dim"),
    ]
    lines += _window_rows(status.weekly, status, with_day=True)
    lines += [
        ("", ""),
        (
            f"Tokens counted: {' + '.join(status.measure)}. Checked {format_clock(status.now, status.tz)}.",
            "dim",
        ),
    ]
    return lines


def render_text(status: Status) -> str:
    return "\n".join(text.rstrip() for text, _ in render_lines(status)) + "\n"


# -- status line ------------------------------------------------------------------------

ANSI = {
    "FRESH": "36",
    "EXCELLENT": "32",
    "GOOD": "32",
    "MODERATE": "33",
    "DANGER": "38;5;208",
    "CRITICAL": "1;31",
    "EMERGENCY": "1;97;41",
}


def statusline_text(
    status: Status,
    session: int | None,
    env: Mapping[str, str] | None = None,
    colour: bool = True,
) -> str:
    """One short line: zone, % used, runway, reset time, this session's tokens."""
    env = os.environ if env is None else env
    five = status.five_hour
    zone = status.zone
    name = zone.name if zone else "?"
    if colour and not env.get("NO_COLOR"):
        name = f"\x1b[{ANSI.get(name, '0')}m{name}\x1b[0m"
    pct = "?" if five.percent is None else f"{five.percent:.0f}%"
    # "~": an estimate; none for Claude Code's own figure or its "limit reached" message
    mark = "" if status.official or five.percent_source.startswith("limit reached") else "~"
    parts = [f"{name} {mark}{pct}"]
    if five.remaining == 0:
        parts.append("limit reached")
    elif status.runway_past_reset:
        parts.append("lasts to reset")
    elif status.runway_minutes is not None:
        parts.append(f"{format_duration(status.runway_minutes)} left")
    elif status.burn_rate == 0 or status.burn_rate is None:
        parts.append("idle")
    if five.reset_at is not None:
        parts.append(f"resets {format_clock(five.reset_at, status.tz)}")
    if session is not None:
        parts.append(f"session {short_tokens(session)}")
    week = status.weekly
    if week.percent is not None and week.percent_source.startswith("official"):
        # only the official share: the status line reads the current chain of blocks, not
        # the whole week
        parts.append(f"7d {week.percent:.0f}%")
    return " | ".join(parts)
