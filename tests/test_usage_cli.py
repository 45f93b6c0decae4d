"""``sessionmd usage``: tables, JSON, filters, --verbose, and exit 2 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from syrupy.assertion import SnapshotAssertion
from usage_support import TIE_CASES, TIE_ORDER, assistant_line, write_session, write_ties

from sessionmd.cli import _build_group

STAMPS = [
    ("app-one", "s1", "2026-01-10T09:15:00.000Z", "m1", 120, "claude-sonnet-4-5-20250929"),
    ("app-one", "s1", "2026-01-10T10:40:00.000Z", "m2", 80, "claude-opus-4-5-20251101"),
    ("app-one", "s2", "2026-01-11T22:05:00.000Z", "m3", 300, "claude-sonnet-4-5-20250929"),
    ("app-two", "s3", "2026-01-12T03:30:00.000Z", "m4", 50, "claude-haiku-4-5-20251001"),
]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "claude"
    by_file: dict[tuple[str, str], list[str]] = {}
    for project, session, ts, mid, out, model in STAMPS:
        line = assistant_line(
            ts=ts, mid=mid, rid="r" + mid, session=session, out=out, model=model, cc=1000, cr=5000
        )
        by_file.setdefault((f"-home-dev-{project}", session), []).append(line)
    for (project, session), lines in by_file.items():
        write_session(root, project, session, lines)
    return root


def run(corpus: Path, tmp_path: Path, *args: str) -> Result:
    env = {
        "CLAUDE_CONFIG_DIR": str(corpus),
        "SESSIONMD_CACHE_DIR": str(tmp_path / "cache"),
        "NO_COLOR": "1",
    }
    return CliRunner().invoke(_build_group(), ["usage", *args], env=env)


def test_daily_table(corpus: Path, tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    res = run(corpus, tmp_path, "daily", "--timezone", "UTC")
    assert res.exit_code == 0, res.output
    assert res.stdout == snapshot


def test_blocks_table(corpus: Path, tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    res = run(corpus, tmp_path, "blocks", "--timezone", "America/New_York")
    assert res.exit_code == 0, res.output
    assert res.stdout == snapshot


def test_sessions_table(corpus: Path, tmp_path: Path, snapshot: SnapshotAssertion) -> None:
    res = run(corpus, tmp_path, "sessions", "--timezone", "UTC")
    assert res.exit_code == 0, res.output
    assert res.stdout == snapshot


def test_daily_json_in_new_york_days(corpus: Path, tmp_path: Path) -> None:
    res = run(corpus, tmp_path, "daily", "--json", "-z", "America/New_York")
    data = json.loads(res.stdout)
    assert [(d["period"], d["outputTokens"]) for d in data["daily"]] == [
        ("2026-01-10", 200),
        ("2026-01-11", 350),  # 22:05 UTC on the 11th and 03:30 UTC on the 12th are both the 11th
    ]
    assert data["totals"]["totalTokens"] == 4 * 6001 + 550


@pytest.mark.parametrize(
    ("args", "periods"),
    [
        (["--since", "20260111"], ["2026-01-11", "2026-01-12"]),
        (["--until", "2026-01-11"], ["2026-01-10", "2026-01-11"]),
        (["--since", "2026-01-11", "--until", "20260111"], ["2026-01-11"]),
        (["--project", "app-two"], ["2026-01-12"]),
        (["--project", "/home/dev/app-one"], ["2026-01-10", "2026-01-11"]),
    ],
)
def test_filters(corpus: Path, tmp_path: Path, args: list[str], periods: list[str]) -> None:
    res = run(corpus, tmp_path, "daily", "--json", "-z", "UTC", *args)
    assert res.exit_code == 0, res.output
    assert [d["period"] for d in json.loads(res.stdout)["daily"]] == periods


def test_sessions_json_shape(corpus: Path, tmp_path: Path) -> None:
    data = json.loads(run(corpus, tmp_path, "sessions", "--json").stdout)
    first = data["session"][0]
    assert set(first) == {
        "agent", "cacheCreationTokens", "cacheReadTokens", "inputTokens", "metadata",
        "modelBreakdowns", "modelsUsed", "outputTokens", "period", "totalCost", "totalTokens",
    }  # fmt: skip
    assert sorted(s["period"] for s in data["session"]) == ["s1", "s2", "s3"]


def test_blocks_json_marks_the_active_block(tmp_path: Path) -> None:
    root = tmp_path / "claude"
    now = datetime.now(timezone.utc)
    stamps = [now - timedelta(minutes=50), now - timedelta(minutes=5)]
    lines = [
        assistant_line(ts=t.strftime("%Y-%m-%dT%H:%M:%S.000Z"), mid=f"m{n}", rid=f"r{n}", out=100)
        for n, t in enumerate(stamps)
    ]
    write_session(root, "p", "s", lines)
    res = run(root, tmp_path, "blocks", "--active", "--json")
    blocks = json.loads(res.stdout)["blocks"]
    assert len(blocks) == 1
    block = blocks[0]
    assert block["isActive"] and not block["isGap"]
    assert block["burnRate"]["tokensPerMinute"] == pytest.approx(202 / 45, rel=0.01)
    assert block["projection"]["remainingMinutes"] >= 0


def test_verbose_lists_skipped_lines(corpus: Path, tmp_path: Path) -> None:
    path = next((corpus / "projects").rglob("s3.jsonl"))
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"type":"assistant","message":{"usage":{"input_tokens":"x"}}}\n')
    quiet = run(corpus, tmp_path, "daily")
    assert "skipped 1 unreadable lines or files" in quiet.stderr
    loud = run(corpus, tmp_path, "daily", "--verbose")
    assert f"{path}:2: malformed" in loud.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["daily", "--since", "2026-13-01"], "--since '2026-13-01'"),
        (["daily", "--until", "yesterday"], "expected YYYYMMDD or YYYY-MM-DD"),
        (["sessions", "--timezone", "Mars/Olympus"], "not an IANA time zone"),
        (["blocks", "--data-dir", "/nonexistent/claude"], "/nonexistent/claude: no such directory"),
        (["blocks", "--session-length", "0"], "--session-length must be positive"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    corpus: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    res = run(corpus, tmp_path, *args)
    assert res.exit_code == 2
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_help_has_examples(tmp_path: Path) -> None:
    for cmd in ([], ["daily"], ["blocks"], ["sessions"]):
        res = run(tmp_path, tmp_path, *cmd, "--help")
        assert res.exit_code == 0
        assert "Example:" in res.stdout


def test_no_transcripts_is_not_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run(empty, tmp_path, "daily", "--json")
    assert res.exit_code == 0
    assert json.loads(res.stdout)["daily"] == []
    assert "no Claude Code transcripts found" in res.stderr


def _process(corpus: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """The real console entry point in its own process (``main``, not click's test runner)."""
    env = {
        **os.environ,
        "CLAUDE_CONFIG_DIR": str(corpus),
        "SESSIONMD_CACHE_DIR": str(tmp_path / "cache"),
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "sessionmd", "usage", *args], env=env, capture_output=True
    )


def test_the_quick_exit_loses_no_output_and_keeps_the_exit_code(
    corpus: Path, tmp_path: Path
) -> None:
    """``usage`` ends with ``os._exit`` (no teardown of the engine's state): what it printed
    must arrive whole, success exits 0, and an error keeps its code 2 and its message."""
    proc = _process(corpus, tmp_path, "daily", "--json", "--timezone", "UTC")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == run(corpus, tmp_path, "daily", "--json", "-z", "UTC").stdout
    bad = _process(corpus, tmp_path, "daily", "--since", "2026-13-01")
    assert bad.returncode == 2
    assert b"--since '2026-13-01'" in bad.stderr


@pytest.mark.parametrize("case", sorted(TIE_CASES))
def test_equal_cost_models_are_listed_in_path_and_line_order(tmp_path: Path, case: str) -> None:
    """ccusage's order for breakdowns of equal cost (``test_usage_ccusage`` checks it against
    ccusage itself): first met in (file path, line) order, not first in time."""
    write_ties(tmp_path / "claude", case)
    res = run(tmp_path / "claude", tmp_path, "daily", "--json", "-z", "UTC")
    assert res.exit_code == 0, res.output
    (day,) = json.loads(res.stdout)["daily"]
    assert [row["modelName"] for row in day["modelBreakdowns"]] == TIE_ORDER[case]


def test_a_sessions_models_are_listed_in_line_order(tmp_path: Path) -> None:
    """ccusage's ``modelsUsed`` for a session: first met in (file path, line) order, not
    first in time (``test_usage_ccusage`` checks it against ccusage itself)."""
    write_ties(tmp_path / "claude", "lines")
    res = run(tmp_path / "claude", tmp_path, "sessions", "--json", "-z", "UTC")
    assert res.exit_code == 0, res.output
    (session,) = json.loads(res.stdout)["session"]
    assert session["modelsUsed"] == TIE_ORDER["lines"]
    assert [row["modelName"] for row in session["modelBreakdowns"]] == TIE_ORDER["lines"]


def test_json_is_written_in_parts_exactly_as_dumps_writes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Many more chunks than one part holds, nested lists, non-ASCII and floats: the parts
    add up to ``json.dumps(indent=2, sort_keys=True)`` and a newline, byte for byte."""
    from sessionmd.cli.usage import _print_json

    data = {
        "session": [
            {"period": f"s{n} – café", "totalCost": n / 7, "modelsUsed": ["b", "a"], "z": {}}
            for n in range(3000)
        ],
        "totals": {"inputTokens": 1, "empty": []},
    }
    _print_json(data)
    assert capsys.readouterr().out == json.dumps(data, indent=2, sort_keys=True) + "\n"
