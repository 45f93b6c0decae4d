"""Options shared by several commands, defined once as decorators."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from sessionmd.errors import SessionmdError

F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    """``--json``: machine-readable output on stdout instead of the rich display."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        func
    )


@contextmanager
def bad_input_exits() -> Iterator[None]:
    """Turn a library error into one ``path:line: message`` line on stderr and exit 2."""
    try:
        yield
    except SessionmdError as err:
        click.echo(f"sessionmd: {err}", err=True)
        sys.exit(2)


def console(stderr: bool = False) -> Any:
    """A rich Console: colour on a terminal only, ``NO_COLOR`` honoured, plain when piped."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)
