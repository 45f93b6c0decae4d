"""``sessionmd usage daily|blocks|sessions``: ccusage-style reports from Claude Code transcripts.

Thin: options are parsed here, everything else is ``sessionmd.usage``. ``--json`` prints
ccusage 20.0.24's shapes, so scripts written against ccusage keep working.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from sessionmd.cli.options import bad_input_exits, console, json_option
from sessionmd.errors import UsageError

if TYPE_CHECKING:
    from sessionmd.usage.report import Tally

F = TypeVar("F", bound=Callable[..., Any])


def zone_named(name: str | None) -> tzinfo:
    """``--timezone`` by IANA name, else the system's zone (``usage.clock``, as status)."""
    from sessionmd.usage.clock import resolve_zone

    return resolve_zone(name, os.environ, "--timezone")


def zone_label(tz: tzinfo) -> str:
    return str(getattr(tz, "key", None) or tz)


def common(func: F) -> F:
    """The options every report takes."""
    options = [
        click.option("--since", "-s", help="First day, YYYYMMDD or YYYY-MM-DD (in --timezone)."),
        click.option("--until", "-u", help="Last day, inclusive."),
        click.option(
            "--timezone", "-z", "tz_name", help="IANA zone for days (default: the system zone)."
        ),
        click.option("--project", "-p", help="Only this project (folder name or cwd path)."),
        click.option(
            "--data-dir",
            "data_dirs",
            multiple=True,
            type=click.Path(path_type=Path),
            help="Read this Claude config dir (or projects/ dir) instead of the usual ones.",
        ),
        click.option(
            "--no-cache", is_flag=True, help="Read everything; neither use nor write the cache."
        ),
        click.option(
            "--verbose", "-v", is_flag=True, help="List skipped lines (file:line) on stderr."
        ),
        json_option,
    ]
    for opt in reversed(options):
        func = opt(func)
    return func


class _Run:
    """What every report does first: resolve options, load usage for its view."""

    def __init__(
        self,
        view: str,
        since: str | None,
        until: str | None,
        tz_name: str | None,
        data_dirs: tuple[Path, ...],
        no_cache: bool,
        daily_sums: bool = False,
    ) -> None:
        from sessionmd import paths
        from sessionmd.usage.api import load_usage
        from sessionmd.usage.report import parse_day

        self.tz = zone_named(tz_name)
        self.since: date | None = parse_day(since, "--since") if since else None
        self.until: date | None = parse_day(until, "--until") if until else None
        for d in data_dirs:
            if not d.is_dir():
                raise UsageError("no such directory", str(d))
        self.now = datetime.now(timezone.utc)
        env = dict(os.environ)
        self.result = load_usage(
            data_dirs=list(data_dirs) or None,
            env=env,
            cache_dir=None if no_cache else paths.cache_dir(env),
            now=self.now,
            view=view,  # type: ignore[arg-type]
            daily_sums=daily_sums,
        )

    def report_problems(self, verbose: bool) -> None:
        """On stderr: skipped lines (all with --verbose, else a count) and clock skew."""
        res = self.result
        problems = res.problems
        if verbose:
            for p in problems:
                where = f"{p.path}:{p.line}" if p.line else p.path
                click.echo(f"{where}: {p.reason}", err=True)
            s = res.stats
            click.echo(
                f"sessionmd: {s.files} files, {s.files_read} read, {s.bytes_read:,} bytes, "
                f"{s.lines_decoded:,} usage lines decoded"
                + (f", rebuilt ({s.rebuilt})" if s.rebuilt else ", from cache"),
                err=True,
            )
        elif problems:
            click.echo(
                f"sessionmd: skipped {len(problems)} unreadable lines or files (--verbose lists them)",
                err=True,
            )
        from sessionmd.usage.api import to_ms

        s = res.stats
        if s.rebuilt and not s.future_entries:
            # Every line was read in this run and none was dated after ``now`` (the scan's
            # own test, same ``to_ms``): no winner can be.
            future = 0
        else:
            future = res.state.count_after(to_ms(self.now), with_progress=res.view == "daily")
        if future:
            click.echo(
                f"sessionmd: {future} entries are dated in the future (clock skew?)", err=True
            )
        if not res.roots:
            click.echo("sessionmd: no Claude Code transcripts found (projects/ folder)", err=True)


def _print_json(data: object) -> None:
    """``json.dumps(data, indent=2, sort_keys=True)`` (ccusage's keys are sorted too) and a
    newline, written as it is encoded.

    Why in parts: with ``indent`` the standard library encodes in Python, and ``dumps``
    joins a list of about a million small strings for 5,800 sessions: 36 MB at the peak,
    which took ``usage sessions --json`` on 1 GB of transcripts to 123 MB.
    """
    import sys
    from itertools import islice

    out = sys.stdout
    chunks = json.JSONEncoder(indent=2, sort_keys=True).iterencode(data)
    while part := "".join(islice(chunks, 8192)):
        out.write(part)
    out.write("\n")
    out.flush()


def _fmt(n: int) -> str:
    return f"{n:,}"


def _cells(label: str, models: str, counts: Sequence[int], cost: float) -> list[str]:
    """One table row: label, models, the four token kinds and their total, cost."""
    return [label, models, *(_fmt(n) for n in counts), f"${cost:,.2f}"]


def _tally_cells(label: str, t: Tally) -> list[str]:
    counts = (t.input, t.output, t.cache_creation, t.cache_read, t.total)
    return _cells(label, _short(t.models_used()), counts, t.cost)


def _total_cells(tallies: list[Tally]) -> list[str]:
    from sessionmd.usage.report import totals_json

    tot: Any = totals_json(tallies)
    kinds = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens")
    return _cells("Total", "", [tot[k] for k in kinds], tot["totalCost"])


def _table(title: str, first: str, rows: list[list[str]], total: list[str]) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column(first)
    table.add_column("Models")
    for name in ("Input", "Output", "Cache Create", "Cache Read", "Total Tokens", "Cost (USD)"):
        table.add_column(name, justify="right")
    for row in rows:
        table.add_row(*row)
    table.add_section()
    table.add_row(*total)
    con = console()
    if not con.is_terminal:
        con.width = 200  # piped: never cut numbers to fit 80 columns
    con.print(table)


def _short(models: list[str]) -> str:
    return "\n".join(m.removeprefix("claude-") for m in models)


@click.group()
def usage() -> None:
    """Token usage from Claude Code's transcripts, deduplicated exactly as ccusage 20 does.

    Reads ``$CLAUDE_CONFIG_DIR`` (comma-separated), else ~/.config/claude and ~/.claude;
    keeps an incremental cache so that repeated runs read only appended bytes.

    \b
    Example:
        sessionmd usage daily --since 20260101 --timezone Europe/Berlin
        sessionmd usage blocks --json
        sessionmd usage sessions --project my-app
    """


@usage.command()
@common
def daily(
    since: str | None,
    until: str | None,
    tz_name: str | None,
    project: str | None,
    data_dirs: tuple[Path, ...],
    no_cache: bool,
    verbose: bool,
    as_json: bool,
) -> None:
    """Tokens per day (agent_progress mirrors counted, as ccusage's daily view does).

    \b
    Example:
        sessionmd usage daily
        sessionmd usage daily --since 2026-01-01 --until 2026-01-31 --json
    """
    from sessionmd.usage.daily import daily as daily_rows
    from sessionmd.usage.daily import daily_json

    with bad_input_exits():
        # One project's days are summed from its own winners, not from everyone's sums.
        run = _Run("daily", since, until, tz_name, data_dirs, no_cache, daily_sums=not project)
        days = daily_rows(run.result, run.tz, run.since, run.until, project)
    run.report_problems(verbose)
    if as_json:
        _print_json(daily_json(days))
        return
    rows = [_tally_cells(d, t) for d, t in days.items()]
    total = _total_cells(list(days.values()))
    _table(f"Claude Code usage per day ({zone_label(run.tz)})", "Date", rows, total)


@usage.command()
@common
def sessions(
    since: str | None,
    until: str | None,
    tz_name: str | None,
    project: str | None,
    data_dirs: tuple[Path, ...],
    no_cache: bool,
    verbose: bool,
    as_json: bool,
) -> None:
    """Tokens per session (a transcript and its sub-agents), costliest first, as ccusage lists them.

    \b
    Example:
        sessionmd usage sessions --project -home-dev-my-app
        sessionmd usage sessions --json
    """
    from sessionmd.usage.sessions import sessions as session_rows
    from sessionmd.usage.sessions import sessions_json

    with bad_input_exits():
        run = _Run("sessions", since, until, tz_name, data_dirs, no_cache)
        rows = session_rows(run.result, run.tz, run.since, run.until, project)
    run.report_problems(verbose)
    if as_json:
        _print_json(sessions_json(rows))
        return
    table = [
        _tally_cells(
            f"{r.session_id}\n{r.project}\n"
            + datetime.fromtimestamp(r.tally.last_ms / 1000, run.tz).strftime("%Y-%m-%d %H:%M"),
            r.tally,
        )
        for r in rows
    ]
    total = _total_cells([r.tally for r in rows])
    _table(
        f"Claude Code usage per session (last activity in {zone_label(run.tz)})",
        "Session / project / last activity",
        table,
        total,
    )


@usage.command()
@common
@click.option("--active", "-a", is_flag=True, help="Only the active block.")
@click.option(
    "--session-length", "-n", default=5.0, show_default=True, help="Block length in hours."
)
def blocks(
    since: str | None,
    until: str | None,
    tz_name: str | None,
    project: str | None,
    data_dirs: tuple[Path, ...],
    no_cache: bool,
    verbose: bool,
    as_json: bool,
    active: bool,
    session_length: float,
) -> None:
    """ccusage's 5-hour usage blocks (and the gaps between them).

    A block starts at its first message's time floored to the hour (UTC) and lasts five
    hours; a message more than five hours after the block's start or after the previous
    message starts a new one. The active block is the one still open now.

    \b
    Example:
        sessionmd usage blocks --since 20260101
        sessionmd usage blocks --active --json
    """
    from sessionmd.usage.blocks import blocks_json, report_blocks

    with bad_input_exits():
        if session_length <= 0:
            raise UsageError("--session-length must be positive")
        run = _Run("blocks", since, until, tz_name, data_dirs, no_cache)
        found = report_blocks(
            run.result, run.now, run.tz, run.since, run.until, project, session_length
        )
    if active:
        found = [b for b in found if b.is_active]
    run.report_problems(verbose)
    if as_json:
        _print_json(blocks_json(found, run.now))
        return
    tz = run.tz
    rows = []
    for b in found:
        start = b.start.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        if b.is_gap:
            label = f"{start} (gap, {(b.end_ms - b.start_ms) / 3_600_000:.1f} h)"
            rows.append([label, "", "", "", "", "", "", ""])
            continue
        label = start + (" ACTIVE" if b.is_active else "")
        rows.append(_cells(label, _short(b.models), [*b.tokens[:4], b.total], b.cost))
    real = [b for b in found if not b.is_gap]
    sums = [sum(b.tokens[n] for b in real) for n in range(4)]
    total = _cells("Total", "", [*sums, sum(b.total for b in real)], sum(b.cost for b in real))
    _table(
        f"Claude Code 5-hour blocks (start times in {zone_label(tz)})", "Block start", rows, total
    )
