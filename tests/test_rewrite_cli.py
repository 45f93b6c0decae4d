"""`sessionmd estimate`, `check` and `strip` end to end, on copies of the real plans."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from syrupy.assertion import SnapshotAssertion

from sessionmd.cli import _build_group

REALWORLD = Path(__file__).parent / "fixtures" / "plans" / "realworld"
PLAN_NAMES = ["SESSION_10_PLAN.md", "SESSION_3_PLAN.md", "SESSION_5_PLAN.md", "SESSION_6B_PLAN.md"]


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """A project with the real plans (and the reports and handoffs beside them) in plans/."""
    (tmp_path / ".git").mkdir()
    shutil.copytree(REALWORLD, tmp_path / "plans")
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


def run(*args: str) -> Result:
    return CliRunner().invoke(_build_group(), list(args))


def snapshot_of_files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "plans").iterdir())}


def test_estimate_folder_compiles_plans_only_and_a_second_run_changes_nothing(repo: Path) -> None:
    before = snapshot_of_files(repo)
    first = run("estimate", "plans")
    assert first.exit_code == 0, first.output
    after = snapshot_of_files(repo)
    changed = sorted(name for name in before if before[name] != after[name])
    assert changed == sorted(PLAN_NAMES)  # reports and handoffs are left alone
    assert "4 plans: 4 written" in first.stdout
    second = run("estimate", "plans")
    assert second.exit_code == 0
    assert "4 plans: 4 unchanged" in second.stdout
    assert snapshot_of_files(repo) == after


def test_strip_gives_back_every_plan_as_written(repo: Path) -> None:
    before = snapshot_of_files(repo)
    assert run("estimate", "plans").exit_code == 0
    result = run("strip", "plans")
    assert result.exit_code == 0
    assert "plans/SESSION_3_PLAN.md: removed 6 sessionmd blocks" in result.stdout
    assert snapshot_of_files(repo) == before


def test_check_exit_codes(repo: Path) -> None:
    plan = repo / "plans" / "SESSION_3_PLAN.md"
    missing = run("estimate", "--check", "plans")
    assert missing.exit_code == 1
    assert (
        "plans/SESSION_3_PLAN.md: no estimate yet (run: sessionmd estimate plans/SESSION_3_PLAN.md)"
        in missing.stdout
    )
    assert run("estimate", "plans").exit_code == 0
    current = run("estimate", "--check", "plans")
    assert current.exit_code == 0
    assert current.stdout == "sessionmd: 4 plans current\n"

    # prose edited outside the blocks: the estimate is still right, so still current
    text = plan.read_text()
    plan.write_text(text.replace("Build a real-time web dashboard", "Build a live web dashboard"))
    assert run("estimate", "--check", str(plan)).exit_code == 0

    # a duration edited: stale, and named
    plan.write_text(
        plan.read_text().replace(
            "### Phase 4: Historical Sessions (1 hour)",
            "### Phase 4: Historical Sessions (2 hours)",
        )
    )
    stale = run("estimate", "--check", "plans")
    assert stale.exit_code == 1
    assert stale.stdout == (
        "plans/SESSION_3_PLAN.md: estimate is stale (run: sessionmd estimate plans/SESSION_3_PLAN.md)\n"
    )

    # a hand edit inside a block is stale too
    assert run("estimate", str(plan)).exit_code == 0
    plan.write_text(plan.read_text().replace("**Estimate**: ", "**Estimate**: 9", 1))
    assert run("estimate", "--check", str(plan)).exit_code == 1


def test_check_follows_model_and_config_changes(repo: Path) -> None:
    assert run("estimate", "plans").exit_code == 0
    (repo / "sessionmd-model.yaml").write_text("buffer: 0.3\n")
    assert run("estimate", "--check", "plans").exit_code == 1
    assert run("estimate", "plans").exit_code == 0
    (repo / "sessionmd.yaml").write_text("quota: max5\n")
    result = run("estimate", "--check", "plans/SESSION_5_PLAN.md")
    assert result.exit_code == 1
    assert run("estimate", "plans").exit_code == 0
    assert run("estimate", "--check", "plans").exit_code == 0


def test_done_plan_is_a_record(repo: Path) -> None:
    plan = repo / "plans" / "SESSION_5_PLAN.md"
    assert run("estimate", str(plan)).exit_code == 0
    compiled = plan.read_text()
    done = compiled.replace("---\n", "---\nstatus: done\n", 1)
    # later edits would change the estimate, but a record keeps the one it had
    done = done.replace("(45 min)", "(3 hours)")
    plan.write_text(done)
    result = run("estimate", str(plan))
    assert result.exit_code == 0
    assert "record (status: done), left as it is" in result.stdout
    assert plan.read_text() == done
    assert run("estimate", "--check", str(plan)).exit_code == 0


def test_diff_prints_and_writes_nothing(repo: Path, snapshot: SnapshotAssertion) -> None:
    before = snapshot_of_files(repo)
    result = run("estimate", "--diff", "plans/SESSION_3_PLAN.md")
    assert result.exit_code == 0
    assert snapshot_of_files(repo) == before
    assert result.stdout.startswith(
        "--- a/plans/SESSION_3_PLAN.md\n+++ b/plans/SESSION_3_PLAN.md\n"
    )
    # the digest covers the generator's source code, so it changes with every commit
    assert re.sub(r"sha256=[0-9a-f]{64}", "sha256=<digest>", result.stdout) == snapshot


def test_json_shape_and_dry_run(repo: Path, snapshot: SnapshotAssertion) -> None:
    before = snapshot_of_files(repo)
    result = run("estimate", "--json", "--dry-run", "plans/SESSION_10_PLAN.md")
    assert result.exit_code == 0
    assert snapshot_of_files(repo) == before
    data = json.loads(result.stdout)
    plan = data[0]
    assert set(plan) >= {"path", "phases", "total", "state"}
    assert plan["state"] == "would-write"
    for phase in plan["phases"]:
        assert set(phase) >= {"number", "title", "hours", "type", "tokens", "author_tokens", "line"}
        assert set(phase["tokens"]) == {"low", "mid", "high"}
    assert set(plan["total"]) >= {"low", "mid", "high", "buffered", "safe_limit", "quota", "fits"}
    assert data == snapshot


def test_json_lines_are_lines_of_the_written_file(repo: Path) -> None:
    result = run("estimate", "--json", "plans/SESSION_3_PLAN.md")
    lines = (repo / "plans" / "SESSION_3_PLAN.md").read_text().split("\n")
    for phase in json.loads(result.stdout)[0]["phases"]:
        assert lines[phase["line"] - 1].startswith(f"### Phase {phase['number']}:")


def test_plain_summary_says_what_was_taken(repo: Path, snapshot: SnapshotAssertion) -> None:
    result = run("estimate", "plans/SESSION_3_PLAN.md")
    assert result.exit_code == 0
    assert "implementation (default)" in result.stdout
    assert "Since the last run: first estimate of this plan" in result.stdout
    assert result.stdout == snapshot
    again = run("estimate", "plans/SESSION_3_PLAN.md")
    assert "Since the last run: estimate unchanged" in again.stdout


def test_changes_since_the_last_run_are_named(repo: Path) -> None:
    plan = repo / "plans" / "SESSION_3_PLAN.md"
    assert run("estimate", str(plan)).exit_code == 0
    plan.write_text(plan.read_text().replace("(1 hour)", "(2 hours)"))
    result = run("estimate", str(plan))
    assert (
        "Since the last run: mid 363,900 -> 408,900 (+45,000); Phase 4 mid 70,000 -> 115,000"
        in result.stdout
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("---\ntitle: [unclosed\n---\n# Phase 1: A (1h)\n", "invalid YAML in frontmatter"),
        (
            "# Phase 1: A (1h)\n<!-- sessionmd:total -->\n",
            ":2: '<!-- sessionmd:total -->' is never closed",
        ),
        ("# Phase 1: A (1h)\n**Type**: dancing\n", "unknown task type"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_touches_nothing(
    repo: Path, content: str, message: str
) -> None:
    bad = repo / "plans" / "bad_plan.md"
    bad.write_text(content)
    before = snapshot_of_files(repo)
    result = run("estimate", "plans")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("sessionmd: plans/bad_plan.md:")
    assert message in result.stderr
    assert snapshot_of_files(repo) == before  # not even the good plans were written


def test_not_utf8_and_missing_file(repo: Path) -> None:
    bad = repo / "plans" / "latin_plan.md"
    bad.write_bytes(b"# Phase 1: Caf\xe9 (1h)\n")
    result = run("estimate", str(bad))
    assert result.exit_code == 2
    assert result.stderr == f"sessionmd: {bad}:1: not UTF-8 (byte 0xe9 at column 15)\n"
    missing = run("estimate", "plans/NOPE_PLAN.md")
    assert missing.exit_code == 2
    assert missing.stderr == "sessionmd: plans/NOPE_PLAN.md: no such file\n"


def test_crlf_and_bom_plan_round_trips(repo: Path) -> None:
    plan = repo / "plans" / "SESSION_5_PLAN.md"
    original = b"\xef\xbb\xbf" + plan.read_bytes().replace(b"\n", b"\r\n")
    plan.write_bytes(original)
    assert run("estimate", str(plan)).exit_code == 0
    compiled = plan.read_bytes()
    assert compiled.startswith(b"\xef\xbb\xbf---\r\n")
    assert b"\n" not in compiled.replace(b"\r\n", b"")
    assert run("estimate", "--check", str(plan)).exit_code == 0
    assert run("strip", str(plan)).exit_code == 0
    assert plan.read_bytes() == original


def test_check_reports_problems_as_path_line(repo: Path) -> None:
    plan = repo / "plans" / "new_plan.md"
    plan.write_text("# Plan\n\n## Phase 1: Setup\n\nno duration here\n\n## Phase 2: Build (2h)\n")
    ok = run("check", str(plan))
    assert ok.exit_code == 0
    assert ok.stdout == ""
    strict = run("check", "--strict", str(plan))
    assert strict.exit_code == 1
    assert strict.stdout.startswith(f"{plan}:3: Phase 1 has no duration")
    bad = repo / "plans" / "bad_plan.md"
    bad.write_text("## Phase 1: A (1h)\n**Duration**: soon\n")
    result = run("check", "--strict", str(plan), str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2: " in result.stderr
    assert f"{plan}:3: " in result.stdout


def test_check_json(repo: Path) -> None:
    plan = repo / "plans" / "new_plan.md"
    plan.write_text("## Phase 1: Setup\n")
    result = run("check", "--strict", "--json", str(plan))
    assert result.exit_code == 1
    items = json.loads(result.stdout)
    assert [(i["line"], i["code"], i["severity"]) for i in items] == [(1, "no-duration", "warning")]


def test_strip_stdout_and_no_blocks(repo: Path) -> None:
    plan = repo / "plans" / "SESSION_6B_PLAN.md"
    original = plan.read_text()
    result = run("strip", str(plan))
    assert result.stdout == f"{plan}: no sessionmd blocks\n"
    assert run("estimate", str(plan)).exit_code == 0
    printed = run("strip", "--stdout", str(plan))
    assert printed.stdout == original
    assert plan.read_text() != original


def test_no_arguments_means_the_plans_folder(repo: Path) -> None:
    result = run("estimate", "--check")
    assert result.exit_code == 1
    assert result.stdout.count("no estimate yet") == 4


def test_every_command_help_has_an_example() -> None:
    for name in ("estimate", "check", "strip"):
        result = run(name, "--help")
        assert result.exit_code == 0
        assert "Example:" in result.stdout


def test_parallel_and_serial_compile_write_the_same_bytes(repo: Path, tmp_path: Path) -> None:
    many = repo / "many"
    many.mkdir()
    for index in range(30):
        name = PLAN_NAMES[index % len(PLAN_NAMES)]
        shutil.copy(repo / "plans" / name, many / f"{index}_{name}")
    serial = repo / "serial"
    shutil.copytree(many, serial)
    assert run("estimate", "--jobs", "2", "many").exit_code == 0
    assert run("estimate", "--jobs", "1", "serial").exit_code == 0
    for path in many.iterdir():
        assert path.read_bytes() == (serial / path.name).read_bytes()
    assert run("estimate", "--check", "--jobs", "2", "many").exit_code == 0


def test_a_folder_without_plans_says_so(repo: Path) -> None:
    empty = repo / "notes"
    empty.mkdir()
    (empty / "README.md").write_text("# Phase 1: not a plan file (1h)\n")
    result = run("estimate", "--check", "notes")
    assert result.exit_code == 0
    assert result.stderr.startswith("sessionmd: no plans in notes")
    assert (empty / "README.md").read_text() == "# Phase 1: not a plan file (1h)\n"


@pytest.mark.skipif(shutil.which("patch") is None, reason="patch(1) is not installed")
def test_diff_is_a_patch_that_applies(repo: Path) -> None:
    plan = repo / "plans" / "tiny_plan.md"
    original = "# Plan\n\n## Phase 1: A (1h)\nlast line without newline"
    plan.write_text(original)
    result = run("estimate", "--diff", "plans/tiny_plan.md")
    assert "\\ No newline at end of file\n" in result.stdout
    (repo / "change.patch").write_text(result.stdout)
    assert run("estimate", "plans/tiny_plan.md").exit_code == 0
    compiled = plan.read_text()
    plan.write_text(original)
    subprocess.run(["patch", "-s", "-p1", "-i", "change.patch"], cwd=repo, check=True)
    assert plan.read_text() == compiled


def test_folder_rerun_reports_current_plans_from_their_recorded_estimate(repo: Path) -> None:
    """Current plans are not compiled again; their rows come from the recorded section."""
    first = run("estimate", "plans").stdout.splitlines()
    second = run("estimate", "plans").stdout.splitlines()
    assert [line.replace(": written,", ": unchanged,") for line in first[:-1]] == second[:-1]
    assert second[-1] == "4 plans: 4 unchanged"
    # a hand edit inside a block breaks the digest: that plan is compiled and rewritten
    plan = repo / "plans" / "SESSION_5_PLAN.md"
    compiled = plan.read_text()
    plan.write_text(compiled.replace("**Estimate**: ", "**Estimate**: 9", 1))
    third = run("estimate", "plans").stdout
    assert "plans/SESSION_5_PLAN.md: written," in third
    assert plan.read_text() == compiled
    # a record among them is said to be one, compiled or not
    plan.write_text(compiled.replace("---\n", "---\nstatus: done\n", 1))
    assert "plans/SESSION_5_PLAN.md: record (status: done)" in run("estimate", "plans").stdout


def test_estimate_reports_the_derived_limit_beside_the_portable_quota(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The written verdict uses the frontmatter/config quota (same on every machine); the
    limit derived on this machine from Claude Code's official percentage is reported too."""
    from datetime import datetime, timezone

    from sessionmd.usage.limits import DEFAULT_MEASURE, Derived, record_derived

    state = tmp_path / "state-with-limit"
    monkeypatch.setenv("SESSIONMD_STATE_DIR", str(state))
    plan = "plans/SESSION_3_PLAN.md"
    without = json.loads(run("estimate", "--json", "--dry-run", plan).stdout)[0]
    assert without["derivedLimit"] is None
    safe = without["total"]["safe_limit"]
    when = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
    for tokens, fits in ((safe * 2, True), (safe - 1, False)):
        record_derived(
            state, Derived("five_hour", tokens, when, tokens // 10, 10.0, when), DEFAULT_MEASURE
        )
        data = json.loads(run("estimate", "--json", "--dry-run", plan).stdout)[0]
        assert data["derivedLimit"]["tokens"] == tokens
        assert data["derivedLimit"]["fits"] is fits
        assert data["total"] == without["total"]  # the written estimate does not change
        text = run("estimate", "--dry-run", plan).stdout
        verdict = "fits" if fits else "does NOT fit"
        assert f"of your derived limit {tokens:,} (derived 2026-11-20" in text
        assert text.rstrip().splitlines()[-3].endswith(verdict) or f"): {verdict}" in text
