"""End to end: `sessionmd statusline` and `sessionmd status` as subprocesses on a corpus
from the shared generator, with Claude Code-shaped stdin and an injected clock."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from status_helpers import CORPUS_NOW, append_response, cli_env, make_corpus, run_cli

from sessionmd.usage.zones import short_tokens

NOW = datetime.fromisoformat(CORPUS_NOW.replace("Z", "+00:00"))
BLOCK_START = datetime(2026, 11, 21, 20, tzinfo=timezone.utc)
BLOCK_END = BLOCK_START + timedelta(hours=5)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("corpus")
    return out, make_corpus(out)


def measured(counts: dict[str, int]) -> int:
    """The default token measure: input + output + cache creation."""
    return (
        counts["inputTokens"]
        + counts["outputTokens"]
        + counts.get("cacheCreationInputTokens", counts.get("cacheCreationTokens", 0))
    )


def oracle_block(oracle: dict[str, Any]) -> dict[str, Any]:
    blocks = oracle["views"]["max_total/no_progress"]["blocks"]
    return next(b for b in blocks if b["startTime"].startswith("2026-11-21T20:00"))


def claude_input(corpus: Path, session: str, rate_limits: dict[str, Any] | None = None) -> bytes:
    """What Claude Code 2.1 passes to a statusLine command."""
    data: dict[str, Any] = {
        "session_id": session,
        "transcript_path": str(next(corpus.glob(f"projects/*/{session}.jsonl"))),
        "cwd": "/home/dev/work/proj-00",
        "model": {"id": "claude-opus-4-5-20251101", "display_name": "Opus 4.5"},
        "workspace": {
            "current_dir": "/home/dev/work/proj-00",
            "project_dir": "/home/dev/work/proj-00",
        },
        "version": "2.1.197",
        "output_style": {"name": "default"},
        "cost": {"total_cost_usd": 1.23, "total_duration_ms": 60000},
        "context_window": {"used_percentage": 12.5},
        "exceeds_200k_tokens": False,
    }
    if rate_limits is not None:
        data["rate_limits"] = rate_limits
    return json.dumps(data).encode()


def a_session(oracle: dict[str, Any], corpus: Path | None = None) -> tuple[str, int]:
    """The session that replied last (the one Claude Code is running), and its tokens."""
    sessions = oracle["views"]["max_total/no_progress"]["sessions"]
    latest: dict[str, str] = {}
    for path in (corpus or Path(oracle["generator"]["out_dir"])).glob("projects/*/*.jsonl"):
        for raw in path.read_bytes().splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict) and line.get("type") == "assistant":
                latest[path.stem] = max(latest.get(path.stem, ""), line["timestamp"])
    sid = max(latest, key=lambda k: latest[k])
    return sid, measured(sessions[sid])


def test_statusline_without_rate_limits(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path, snapshot: Any
) -> None:
    root, oracle = corpus
    env = cli_env(tmp_path, root)
    sid, tokens = a_session(oracle, root)
    proc = run_cli(["statusline", "--limit", "200000"], env, claude_input(root, sid))
    assert proc.returncode == 0
    line = proc.stdout.decode()
    assert line.count("\n") == 1
    used = measured(oracle_block(oracle)["tokenCounts"])
    assert line.startswith(f"{'MODERATE' if used >= 100_000 else 'GOOD'} ~{used / 2000:.0f}% | ")
    assert "resets 20:00 EST" in line
    assert f"session {short_tokens(tokens)}" in line
    assert "\x1b" not in line  # NO_COLOR
    assert line == snapshot
    assert not (tmp_path / "state" / "rate_limits.json").exists()


def test_statusline_saves_official_rate_limits(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    root, oracle = corpus
    env = cli_env(tmp_path, root)
    sid, _ = a_session(oracle, root)
    resets = int(BLOCK_END.timestamp())
    week = int((NOW + timedelta(days=3)).timestamp())
    limits = {
        "five_hour": {"used_percentage": 37.0, "resets_at": resets},
        "seven_day": {"used_percentage": 12.0, "resets_at": week},
    }
    proc = run_cli(["statusline"], env, claude_input(root, sid, limits))
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith("GOOD 37% | ")  # no "~": official
    assert "7d 12%" in proc.stdout.decode()
    saved = json.loads((tmp_path / "state" / "rate_limits.json").read_text())
    assert saved["rate_limits"]["five_hour"] == {"used_percentage": 37.0, "resets_at": resets}
    derived = json.loads((tmp_path / "state" / "derived_limits.json").read_text())
    used = measured(oracle_block(oracle)["tokenCounts"])
    assert derived["five_hour"][-1]["tokens"] == round(used * 100 / 37.0)
    assert derived["five_hour"][-1]["used_tokens"] == used

    # `status` now shows the official figures, marked as such, and the derived limit
    status = json.loads(run_cli(["status", "--json"], env).stdout)
    assert status["official"] is True
    five = status["fiveHour"]
    assert five["percent"] == 37.0 and five["percentSource"] == "official (0s ago)"
    assert five["resetSource"] == "official"
    assert five["limitTokens"] == round(used * 100 / 37.0)
    assert status["weekly"]["percent"] == 12.0

    # an hour later, with no fresh snapshot and the window reset: the derived limit
    later = cli_env(tmp_path, root, "2026-11-22T03:00:00Z")
    status = json.loads(run_cli(["status", "--json"], later).stdout)
    assert status["official"] is False
    assert status["fiveHour"]["limitSource"] == "derived 2026-11-21"


@pytest.mark.parametrize("stdin", [b"garbage{", b"[1, 2]", b"\xff\xfe\x00", b'{"rate_limits": 5'])
def test_statusline_never_fails(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path, stdin: bytes
) -> None:
    root, _ = corpus
    proc = run_cli(["statusline"], cli_env(tmp_path, root), stdin)
    assert proc.returncode == 0
    assert proc.stdout == b"sessionmd: usage unavailable\n"
    assert proc.stderr == b""


def test_statusline_with_no_transcripts_and_empty_stdin(tmp_path: Path) -> None:
    env = cli_env(tmp_path, tmp_path / "nothing-here")
    proc = run_cli(["statusline"], env, b"")
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith("FRESH ~0% | idle")


def test_statusline_survives_a_broken_config(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    root, oracle = corpus
    project = tmp_path / "proj"
    project.mkdir()
    (project / "sessionmd.yaml").write_text("quota: [unclosed\n")
    data = json.loads(claude_input(root, a_session(oracle, root)[0]))
    data["cwd"] = data["workspace"]["current_dir"] = str(project)
    proc = run_cli(["statusline"], cli_env(tmp_path, root), json.dumps(data).encode())
    assert proc.returncode == 0 and proc.stdout.decode().startswith(
        ("GOOD", "MODERATE", "EXCELLENT", "FRESH")
    )


def test_statusline_reads_the_project_config(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    root, oracle = corpus
    project = tmp_path / "proj"
    project.mkdir()
    used = measured(oracle_block(oracle)["tokenCounts"])
    (project / "sessionmd.yaml").write_text(f"quota: {used}\ntimezone: Asia/Tokyo\n")
    data = json.loads(claude_input(root, a_session(oracle, root)[0]))
    data["workspace"]["current_dir"] = str(project)
    proc = run_cli(["statusline"], cli_env(tmp_path, root), json.dumps(data).encode())
    assert proc.stdout.decode().startswith("EMERGENCY ~100% | ")
    assert "resets 10:00 JST" in proc.stdout.decode()
    cache = json.loads((tmp_path / "state" / "config_cache.json").read_text())
    assert next(iter(cache.values()))["values"] == {"quota": used, "timezone": "Asia/Tokyo"}


def test_statusline_help_goes_through_click(tmp_path: Path) -> None:
    proc = run_cli(["statusline", "--help"], cli_env(tmp_path, tmp_path))
    assert proc.returncode == 0
    assert b"Example:" in proc.stdout and b'"statusLine"' in proc.stdout


def test_status_json_matches_the_oracle(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    root, oracle = corpus
    proc = run_cli(["status", "--json", "--limit", "max20"], cli_env(tmp_path, root))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    used = measured(oracle_block(oracle)["tokenCounts"])
    five = data["fiveHour"]
    assert data["active"] is True and data["official"] is False
    assert five["usedTokens"] == used
    assert five["limitTokens"] == 220_000
    assert five["limitSource"] == "preset max20 (claude-monitor 4)"
    assert five["percent"] == round(used * 100 / 220_000, 2)
    assert five["resetsAt"] == "2026-11-21T20:00:00-05:00"
    assert data["timezone"] == "America/New_York"
    assert data["zone"] in ("GOOD", "MODERATE", "EXCELLENT")
    # the week (Monday 00:00 local) holds the whole corpus: every block's tokens
    blocks = oracle["views"]["max_total/no_progress"]["blocks"]
    in_window = [b for b in blocks if not b["isGap"] and b["startTime"] <= "2026-11-21T23:55"]
    assert data["weekly"]["usedTokens"] <= sum(measured(b["tokenCounts"]) for b in in_window)


def test_status_display_plain_when_piped(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path, snapshot: Any
) -> None:
    root, _ = corpus
    proc = run_cli(
        ["status", "--limit", "120000", "--timezone", "Europe/Berlin"], cli_env(tmp_path, root)
    )
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    assert "\x1b" not in text
    assert text == snapshot


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "lots"], "sessionmd: --limit: unknown quota 'lots'"),
        (["--timezone", "Mars/Olympus"], "sessionmd: --timezone: unknown time zone 'Mars/Olympus'"),
        (["--now", "yesterday"], "sessionmd: --now: not an ISO 8601 time"),
    ],
)
def test_status_bad_input_exits_2(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path, args: list[str], message: str
) -> None:
    root, _ = corpus
    proc = run_cli(["status", *args], cli_env(tmp_path, root))
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith(message)
    assert proc.stderr.decode().count("\n") == 1


def test_status_bad_config_exits_2(corpus: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    root, _ = corpus
    (tmp_path / "sessionmd.yaml").write_text("quota: plenty\n")
    proc = run_cli(["status"], cli_env(tmp_path, root), cwd=tmp_path)
    assert proc.returncode == 2
    assert str(tmp_path / "sessionmd.yaml") in proc.stderr.decode()


def test_status_help_has_an_example(tmp_path: Path) -> None:
    proc = run_cli(["status", "--help"], cli_env(tmp_path, tmp_path))
    assert proc.returncode == 0 and b"Example:" in proc.stdout


def test_status_watch_refreshes_until_interrupted(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    oracle = make_corpus(root)  # its own copy: this test appends to a transcript
    used = measured(oracle_block(oracle)["tokenCounts"])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sessionmd",
            "status",
            "--watch",
            "--interval",
            "0.5",
            "--limit",
            "max5",
        ],
        env=cli_env(tmp_path, root),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(2.5)
    # Claude Code writes one more response (5,000 tokens in the measure) meanwhile
    append_response(
        root,
        "watch",
        {
            "input_tokens": 100,
            "output_tokens": 900,
            "cache_creation_input_tokens": 4000,
            "cache_read_input_tokens": 1,
        },
    )
    time.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    shown = [row for row in out.decode().splitlines() if row.startswith("Used:")]
    assert shown, out
    assert shown[-2].startswith(f"Used:         {used + 5000:,} tokens")  # 5-hour, refreshed


def test_status_without_transcripts_warns_and_shows_a_fresh_window(tmp_path: Path) -> None:
    proc = run_cli(["status", "--json"], cli_env(tmp_path, tmp_path / "none"))
    assert proc.returncode == 0
    assert (
        proc.stderr.decode() == "sessionmd: no Claude Code transcripts found (projects/ folder)\n"
    )
    data = json.loads(proc.stdout)
    assert data["fiveHour"]["usedTokens"] == 0 and data["zone"] == "FRESH"
    missing = run_cli(
        ["status", "--data-dir", str(tmp_path / "nowhere")], cli_env(tmp_path, tmp_path)
    )
    assert missing.returncode == 2
