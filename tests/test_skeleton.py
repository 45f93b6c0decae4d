"""The CLI entry points exist and answer --help without importing subcommands."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from sessionmd.cli import COMMANDS, _build_group


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(_build_group(), ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


def test_python_m_sessionmd_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sessionmd", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("sessionmd, version")
