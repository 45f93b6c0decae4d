"""One error type per stream, each carrying the file and line it is about.

The library raises these and never prints or exits; the CLI turns them into a single
``path:line: message`` line on stderr and exit code 2.
"""

from __future__ import annotations


class SessionmdError(Exception):
    """Bad input: a message plus, where known, the file and 1-based line it concerns."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return f"{where}{self.message}"


class PlanError(SessionmdError):
    """A plan (or handoff) file that cannot be parsed, estimated or rewritten."""


class ConfigError(SessionmdError):
    """A config or model file that is not valid."""


class UsageError(SessionmdError):
    """Transcripts or usage state that cannot be read at all (single bad lines are counted, not raised)."""
