"""``sessionmd status``: the quota zone of the current 5-hour window and the 7-day window."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from sessionmd.cli.options import bad_input_exits, console, json_option


def _request(
    limit: str | None,
    weekly_limit: int | None,
    tz: str | None,
    data_dirs: tuple[Path, ...],
    now: str | None,
) -> Any:
    from sessionmd.usage.clock import clock
    from sessionmd.usage.status_io import StatusRequest

    env = dict(os.environ)
    return StatusRequest(
        cwd=Path.cwd(),
        env=env,
        now=clock(env, now),
        timezone=tz,
        limit=limit,
        weekly_limit=weekly_limit,
        data_dirs=data_dirs,
    )


def _renderable(status: Any) -> Any:
    from rich.text import Text

    from sessionmd.usage.status_render import render_lines

    text = Text()
    for line, style in render_lines(status):
        text.append(line.rstrip(), style=style or None)
        text.append("\n")
    return text


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--limit",
    metavar="N|pro|max5|max20|auto",
    help="Tokens per 5-hour window: a count (88000, 88k), a preset, or auto (p90 of your "
    "past full blocks). Default: official figures, then your derived limit, then config.",
)
@click.option("--weekly-limit", type=click.IntRange(min=1), help="Tokens per 7-day window.")
@click.option("--timezone", "tz", metavar="ZONE", help="IANA zone for times (default: system).")
@click.option(
    "--data-dir",
    "data_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Claude config dir (or its projects/ folder) to read instead of the default ones.",
)
@click.option("--watch", is_flag=True, help="Keep the display live until Ctrl-C.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.5),
    default=3.0,
    show_default=True,
    help="Seconds between refreshes with --watch.",
)
@click.option("--now", hidden=True, help="Pretend it is this ISO time (tests, demos).")
@json_option
def status(
    limit: str | None,
    weekly_limit: int | None,
    tz: str | None,
    data_dirs: tuple[Path, ...],
    watch: bool,
    interval: float,
    now: str | None,
    as_json: bool,
) -> None:
    """Quota zone, burn rate, runway and reset time for the current 5-hour window.

    Beside it, usage over the 7-day window. Official figures come first: when Claude
    Code has passed its rate_limits to `sessionmd statusline`, the percentage and reset
    time are Claude Code's; otherwise they are estimated from your transcripts and a
    limit (--limit, your derived limit, sessionmd.yaml's quota, or auto). Every figure
    says where it came from.

    \b
    Example:
        sessionmd status
        sessionmd status --limit max5 --timezone Europe/Berlin
        sessionmd status --json | jq .fiveHour.percent
        sessionmd status --watch --interval 5
    """
    from sessionmd.usage.status_io import watch_status

    with bad_input_exits():
        status_now, kept = watch_status(_request(limit, weekly_limit, tz, data_dirs, now), None)
    if not kept.roots:
        click.echo("sessionmd: no Claude Code transcripts found (projects/ folder)", err=True)
    if as_json:
        from sessionmd.usage.status import status_json

        click.echo(json.dumps(status_json(status_now), indent=2))
        return
    out = console()
    if not watch:
        if out.is_terminal:
            out.print(_renderable(status_now))
        else:
            from sessionmd.usage.status_render import render_text

            sys.stdout.write(render_text(status_now))
        return
    _watch(out, status_now, kept, limit, weekly_limit, tz, data_dirs, now, interval)


def _watch(
    out: Any,
    first: Any,
    kept: Any,
    limit: str | None,
    weekly_limit: int | None,
    tz: str | None,
    data_dirs: tuple[Path, ...],
    now: str | None,
    interval: float,
) -> None:
    """Redraw every ``interval`` seconds from the status line's live state (only appended
    bytes are read) on top of the history read once at the start."""
    from rich.live import Live

    from sessionmd.usage.status_io import watch_status

    with Live(
        _renderable(first),
        console=out,
        auto_refresh=False,
        screen=False,
        vertical_overflow="visible",
    ) as live:
        try:
            while True:
                time.sleep(interval)
                with bad_input_exits():
                    request = _request(limit, weekly_limit, tz, data_dirs, now)
                    current, kept = watch_status(request, kept)
                live.update(_renderable(current), refresh=True)
        except KeyboardInterrupt:
            pass
