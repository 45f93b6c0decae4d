"""``sessionmd statusline``: one line for Claude Code's ``statusLine`` setting.

Claude Code runs this after every reply (at most every ~300 ms) with a JSON object on
stdin: ``session_id``, ``transcript_path``, ``cwd``, ``model``, ``workspace``, and for
Pro/Max subscribers ``rate_limits`` ``{five_hour, seven_day}`` with ``used_percentage``
and ``resets_at``. It prints one short line and must never fail or be slow, so:

- :func:`run_fast` is called by ``sessionmd.cli.main`` before click is imported, and this
  module imports only the standard library, msgspec (the usage cache) and sessionmd's
  plain modules: no click, pydantic, rich or yaml (yaml only when sessionmd.yaml changed);
- any error prints :data:`FALLBACK` and exits 0;
- the official ``rate_limits`` are saved (atomically) for ``sessionmd status``.

``sessionmd statusline --help`` goes through click (:data:`statusline`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from sessionmd._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import IO, Any

FALLBACK = "sessionmd: usage unavailable"
HELP = """\
Usage: sessionmd statusline [--limit N|pro|max5|max20|auto] [--timezone ZONE]
                            [--data-dir DIR] [--no-color]

  One-line status for Claude Code's statusLine setting: zone, % of the 5-hour
  window used (~ = estimated, no ~ = Claude Code's official figure), runway at
  the current burn rate, reset time, this session's tokens, and the 7-day
  window's share when known. Reads Claude Code's JSON on stdin, saves its
  official rate_limits for `sessionmd status`, and never fails: on any error
  it prints "sessionmd: usage unavailable" and exits 0.

  Add it to ~/.claude/settings.json:
      {"statusLine": {"type": "command", "command": "sessionmd statusline"}}

  Example:
      echo '{"session_id": "abc", "cwd": "/home/me/app"}' | sessionmd statusline
      GOOD ~34% | 2h 10m left | resets 18:00 CET | session 45k
"""


def _options(args: Sequence[str]) -> dict[str, str]:
    """``--name value`` / ``--name=value`` pairs and bare flags; unknown ones are kept, unused."""
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--") and "=" in arg:
            name, _, value = arg[2:].partition("=")
            out[name] = value
        elif arg in ("--no-color",):
            out[arg[2:]] = "1"
        elif arg.startswith("--") and i + 1 < len(args):
            out[arg[2:]] = args[i + 1]
            i += 1
        i += 1
    return out


def _cwd(data: Mapping[str, Any]) -> Path:
    workspace = data.get("workspace")
    for value in (
        workspace.get("current_dir") if isinstance(workspace, dict) else None,
        data.get("cwd"),
    ):
        if isinstance(value, str) and value:
            return Path(value)
    return Path.cwd()


def render(args: Sequence[str], raw: bytes, env: Mapping[str, str]) -> str:
    """The status line for Claude Code's input ``raw``; raises on anything unexpected."""
    from sessionmd import paths
    from sessionmd.usage import quick_config
    from sessionmd.usage.clock import LocalZone, clock, resolve_zone
    from sessionmd.usage.limits import load_auto, load_derived, record_derived
    from sessionmd.usage.snapshot import load_snapshot, parse_rate_limits, save_snapshot
    from sessionmd.usage.status import StatusSettings, compute_status
    from sessionmd.usage.status_render import statusline_text

    opts = _options(args)
    data: Any = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("status line input is not a JSON object")
    now = clock(env)
    state = paths.state_dir(env)

    session = data.get("session_id")
    session_id = session if isinstance(session, str) else None
    snapshot = parse_rate_limits(data.get("rate_limits"), now, session_id)
    if snapshot is not None:
        with contextlib.suppress(OSError):  # a read-only state dir: show the line anyway
            save_snapshot(state, snapshot)
    else:
        snapshot = load_snapshot(state)

    config = quick_config.load(quick_config.find_root(_cwd(data)), state)
    measure = tuple(config.get("token_measure") or ("input", "output", "cache_creation"))
    zone_name = opts.get("timezone") or config.get("timezone")
    tz = resolve_zone(zone_name, env) if zone_name else LocalZone()
    weekly = config.get("weekly") or {}

    from sessionmd.usage.limits import measure_tokens
    from sessionmd.usage.live import load_live
    from sessionmd.usage.status import session_tokens

    data_dir = opts.get("data-dir")
    data_dirs = [Path(data_dir)] if data_dir else None
    # The latest block's messages and the sums before them: the live state plus appended bytes.
    live = load_live(data_dirs=data_dirs, env=env, cache_dir=paths.cache_dir(env), now=now)
    settings = StatusSettings(
        limit=opts.get("limit"),
        quota=config.get("quota"),
        measure=measure,
        weekly_limit=weekly.get("limit"),
        reset_weekday=weekly.get("reset_weekday", 0),
        reset_hour=weekly.get("reset_hour", 0),
        derived=load_derived(state, measure),
        auto=load_auto(state, now, measure)
        or (lambda: _full_auto(data_dirs, env, now, measure, state)),
    )
    status = compute_status(
        entries=live.entries,
        blocks=live.blocks,
        settings=settings,
        snapshot=snapshot,
        now=now,
        tz=tz,
        history=live.history,
    )
    for derived in status.derived:
        try:
            record_derived(state, derived, measure)
        except OSError:
            break
    tokens = None
    if session_id is not None:
        tokens = session_tokens(live.entries, session_id, measure) + measure_tokens(
            live.history.session(session_id), measure
        )
    colour = "no-color" not in opts
    return statusline_text(status, tokens, env, colour=colour)


def _full_auto(
    data_dirs: list[Path] | None,
    env: Mapping[str, str],
    now: datetime,
    measure: Sequence[str],
    state: Path,
) -> Any:
    """The auto limit over the whole history, saved for a day. Runs only when auto is the
    limit and none is saved (``sessionmd status`` saves one too): a full read, once."""
    from sessionmd import paths
    from sessionmd.usage.api import load_usage
    from sessionmd.usage.blocks import history_auto_limit
    from sessionmd.usage.limits import save_auto

    full = load_usage(
        data_dirs=data_dirs, env=env, cache_dir=paths.cache_dir(env), now=now, view="blocks"
    )
    limit = history_auto_limit(full, now, measure)
    if limit is not None:
        with contextlib.suppress(OSError):
            save_auto(state, limit, now, measure)
    return limit


def run_fast(
    args: list[str],
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Print the status line; always exit 0 (Claude Code blanks the line on a failure)."""
    out = sys.stdout if stdout is None else stdout
    try:
        source = sys.stdin.buffer if stdin is None else stdin
        raw = b"" if source.isatty() else source.read()
        line = render(args, raw, os.environ if env is None else env)
    except Exception:
        line = FALLBACK
    try:
        out.write(line + "\n")
        out.flush()
    except Exception:
        pass
    return 0


def _click_command() -> Any:
    import click

    @click.command(
        context_settings={"help_option_names": ["-h", "--help"], "ignore_unknown_options": True},
        add_help_option=False,
    )
    @click.option("-h", "--help", "show_help", is_flag=True, help="Show this message and exit.")
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def statusline(show_help: bool, args: tuple[str, ...]) -> None:
        """One-line status for Claude Code's statusLine setting."""
        if show_help:
            click.echo(HELP, nl=False)
            return
        sys.exit(run_fast(list(args)))

    return statusline


def __getattr__(name: str) -> Any:
    """``statusline``, the click command, built on first use so run_fast never imports click."""
    if name == "statusline":
        return _click_command()
    raise AttributeError(name)
