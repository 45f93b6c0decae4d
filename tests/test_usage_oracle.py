"""Every day, block and session equals the generator's ccusage-20 oracle, per view.

The oracle re-implements ccusage 20.0.24's rules and was checked against its binary; the
daily view counts agent_progress mirrors (``max_total/all``), blocks and sessions do not
(``max_total/no_progress``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from usage_support import NOW_DT, generate, tokens

from sessionmd.cli.usage import usage
from sessionmd.usage.api import build_blocks, load_usage
from sessionmd.usage.blocks import blocks_json, report_blocks, summarise
from sessionmd.usage.daily import daily, daily_json
from sessionmd.usage.sessions import sessions, sessions_json

CORPORA = {
    "default": ("--projects", "3", "--sessions", "4", "--messages", "30", "--seed", "1"),
    "resumes-and-agents": (
        "--projects", "2", "--sessions", "6", "--messages", "20", "--seed", "7",
        "--resume-rate", "0.6", "--subagent-rate", "0.8", "--api-error-rate", "0.4",
    ),
    "same-usage-streaming": (
        "--projects", "2", "--sessions", "3", "--messages", "25", "--seed", "3",
        "--stream-usage", "same", "--malformed-rate", "0.02",
    ),
}  # fmt: skip


@pytest.fixture(scope="module", params=sorted(CORPORA))
def corpus(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp(request.param)
    return out, generate(out, *CORPORA[request.param])


def _check_daily(root: Path, oracle: dict[str, Any], tz: Any) -> None:
    result = load_usage(data_dirs=[root], env={}, cache_dir=None, now=NOW_DT, view="daily")
    got = daily_json(daily(result, tz))
    expected = oracle["views"]["max_total/all"]["daily"]
    assert [r["period"] for r in got["daily"]] == sorted(expected)  # type: ignore[index]
    for row in got["daily"]:  # type: ignore[attr-defined]
        assert tokens(row) == tokens(expected[row["period"]]), row["period"]
        assert row["totalTokens"] == expected[row["period"]]["totalTokens"]


def test_daily_equals_oracle(corpus: Any) -> None:
    root, oracle = corpus
    _check_daily(root, oracle, ZoneInfo("UTC"))


def test_sessions_equal_oracle(corpus: Any) -> None:
    root, oracle = corpus
    result = load_usage(data_dirs=[root], env={}, cache_dir=None, now=NOW_DT, view="sessions")
    got = {r["period"]: r for r in sessions_json(sessions(result, ZoneInfo("UTC")))["session"]}  # type: ignore[attr-defined]
    expected = oracle["views"]["max_total/no_progress"]["sessions"]
    assert sorted(got) == sorted(expected)
    for sid, row in expected.items():
        assert tokens(got[sid]) == tokens(row), sid


def test_blocks_equal_oracle(corpus: Any) -> None:
    root, oracle = corpus
    result = load_usage(data_dirs=[root], env={}, cache_dir=None, now=NOW_DT, view="blocks")
    got = blocks_json(report_blocks(result, NOW_DT, ZoneInfo("UTC")), NOW_DT)["blocks"]
    expected = oracle["views"]["max_total/no_progress"]["blocks"]
    assert len(got) == len(expected)  # type: ignore[arg-type]
    for mine, theirs in zip(got, expected, strict=True):  # type: ignore[call-overload]
        for field in ("startTime", "isGap", "entries", "totalTokens"):
            assert mine[field] == theirs[field], (theirs["startTime"], field)
        if not theirs["isGap"]:
            for field in ("endTime", "actualEndTime", "tokenCounts", "models", "isActive"):
                assert mine[field] == theirs[field], (theirs["startTime"], field)
            assert mine.get("usageLimitResetTime") == theirs.get("usageLimitResetTime")


def test_views_differ_only_by_mirror_lines(corpus: Any) -> None:
    """Mirrors are sidechain copies: they never win over the sub-agent's own line."""
    root, oracle = corpus
    daily_view = load_usage(data_dirs=[root], env={}, cache_dir=None, now=NOW_DT, view="daily")
    blocks_view = load_usage(data_dirs=[root], env={}, cache_dir=None, now=NOW_DT, view="blocks")
    assert len(daily_view.rows) == oracle["views"]["max_total/all"]["entries"]
    assert len(blocks_view.rows) == oracle["views"]["max_total/no_progress"]["entries"]


def test_new_york_days_follow_the_oracle(tmp_path: Path) -> None:
    """Days in America/New_York across the March DST change."""
    oracle = generate(
        tmp_path,
        *("--projects", "2", "--sessions", "5", "--messages", "20", "--seed", "5"),
        *("--start", "2026-03-05T00:00:00Z", "--days", "6", "--tz", "America/New_York"),
    )
    _check_daily(tmp_path, oracle, ZoneInfo("America/New_York"))


def test_cli_json_matches_oracle(corpus: Any, tmp_path: Path) -> None:
    root, oracle = corpus
    env = {"SESSIONMD_CACHE_DIR": str(tmp_path / "cache"), "CLAUDE_CONFIG_DIR": str(root)}
    runner = CliRunner()
    res = runner.invoke(usage, ["daily", "--json", "-z", "UTC"], env=env)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    expected = oracle["views"]["max_total/all"]["totals"]
    assert tokens(data["totals"]) == tokens(expected)
    res = runner.invoke(usage, ["sessions", "--json"], env=env)
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)["session"]
    assert len(got) == len(oracle["views"]["max_total/no_progress"]["sessions"])


def test_api_build_blocks_equals_the_report(corpus: Any) -> None:
    """The status helper's ``build_blocks`` (entries) and the report (packed rows) agree."""
    root, _oracle = corpus
    result = load_usage(data_dirs=[root], env={}, cache_dir=None, now=NOW_DT, view="blocks")
    from_entries = blocks_json(summarise(build_blocks(result.entries, NOW_DT)), NOW_DT)
    from_rows = blocks_json(report_blocks(result, NOW_DT, ZoneInfo("UTC")), NOW_DT)
    assert from_entries == from_rows


def test_two_process_scan_equals_one_process(corpus: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The forked worker's winners merge into exactly what one process finds."""
    from sessionmd.usage import engine

    root, oracle = corpus
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(engine, "_MIN_CLAIM", 1)  # many small batches through the pipe
    monkeypatch.setattr(engine, "_MAX_CLAIM", 1)
    two = load_usage(data_dirs=[root], env={}, cache_dir=None, now=NOW_DT, view="daily")
    assert two.stats.processes == 2
    one = load_usage(
        data_dirs=[root], env={}, cache_dir=None, now=NOW_DT, view="daily", processes=1
    )
    assert one.stats.processes == 1
    assert two.rows == one.rows
    assert len(two.rows) == oracle["views"]["max_total/all"]["entries"]
