"""The ``sessionmd`` command line: a thin layer over the library.

Subcommands live in one module each and are imported only when they run, so that
``sessionmd --help`` and ``sessionmd statusline`` start fast.
"""

from __future__ import annotations

import sys

from sessionmd._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, NoReturn

# name -> (module, attribute, one-line help shown in ``sessionmd --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "estimate": (
        "sessionmd.cli.estimate",
        "estimate",
        "Compile token estimates into plans, in place.",
    ),
    "check": (
        "sessionmd.cli.estimate",
        "check",
        "Validate plans; report every problem as path:line.",
    ),
    "strip": ("sessionmd.cli.estimate", "strip", "Remove sessionmd's generated blocks from plans."),
    "new": ("sessionmd.cli.new", "new", "Write the next plans/SESSION_N_PLAN.md from a template."),
    "usage": (
        "sessionmd.cli.usage",
        "usage",
        "Token usage from Claude Code transcripts (daily, blocks, sessions).",
    ),
    "status": (
        "sessionmd.cli.status",
        "status",
        "Quota zone, burn rate, runway and reset time for the active block.",
    ),
    "statusline": (
        "sessionmd.cli.statusline",
        "statusline",
        "One-line status for Claude Code's statusLine setting.",
    ),
}


def _build_group() -> Any:
    import importlib

    import click

    from sessionmd import __version__

    class LazyGroup(click.Group):
        """A click group that imports a subcommand's module only when it is invoked."""

        def list_commands(self, ctx: click.Context) -> list[str]:
            return list(COMMANDS)

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            if cmd_name not in COMMANDS:
                return None
            module, attr, _ = COMMANDS[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command

        def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
            # Short help from the table, so ``--help`` imports no subcommand module.
            with formatter.section("Commands"):
                formatter.write_dl([(name, row[2]) for name, row in COMMANDS.items()])

    @click.group(
        cls=LazyGroup,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )
    @click.version_option(__version__, prog_name="sessionmd")
    def cli() -> None:
        """Plan Claude Code sessions in markdown, and see the quota they really use.

        \b
        Example:
            sessionmd estimate plans/          # annotate every plan in place
            sessionmd estimate --check plans/  # in CI: exit 1 when an estimate is stale
            sessionmd status                   # quota zone of the active 5-hour block
        """

    return cli


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script and ``python -m sessionmd``."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["statusline"] and not ({"-h", "--help"} & set(args)):
        # Claude Code runs the status line every few hundred ms: skip click entirely.
        import importlib

        sys.exit(importlib.import_module("sessionmd.cli.statusline").run_fast(args[1:]))
    from sessionmd.errors import SessionmdError

    cli = _build_group()
    try:
        cli.main(args=args, prog_name="sessionmd", standalone_mode=True)
    except SessionmdError as err:  # pragma: no cover - commands catch their own
        sys.stderr.write(f"sessionmd: {err}\n")
        sys.exit(2)
    except SystemExit as done:  # click's standalone mode always ends this way
        if args[:1] and args[0] in QUICK_EXIT:
            exit_now(done.code)
        raise


# Commands that end holding the usage engine's state (a gigabyte of transcripts is half a
# million small objects): freeing them one by one took 40 ms of a 1.7 s cold ``usage daily``,
# and the system takes the memory back at once. They write no file after their output.
QUICK_EXIT = frozenset({"usage", "status"})


def exit_now(code: object) -> NoReturn:
    """Flush the output and end the process without tearing the interpreter down."""
    import contextlib
    import os

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        sys.stderr.write(f"{code}\n")
        status = 1
    for stream in (sys.stdout, sys.stderr):
        # A reader that went away (``| head``) or a closed stream: nothing left to say.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)
