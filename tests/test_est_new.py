"""`sessionmd new`: the next plan from a template, never overwriting one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import frontmatter
import pytest
from click.testing import CliRunner
from syrupy.assertion import SnapshotAssertion

from sessionmd.cli import _build_group
from sessionmd.errors import PlanError
from sessionmd.plan.models import PlanFrontmatter
from sessionmd.plan.new import next_session_number, write_exclusive

REAL_PLANS = Path("/work/shared/realworld/plans")


def run(root: Path, *args: str) -> tuple[int, str, str]:
    old = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(_build_group(), ["new", *args])
    finally:
        os.chdir(old)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def test_next_number_skips_other_files(tmp_path: Path) -> None:
    for name in (
        "SESSION_3_PLAN.md",
        "SESSION_6B_PLAN.md",
        "session_10_plan.md",
        "SESSION_12_COMPLETE.md",
        "SESSION_20_HANDOFF.md",
        "NOTES.md",
    ):
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert next_session_number(tmp_path) == 11
    assert next_session_number(tmp_path / "missing") == 1


def test_next_number_of_the_real_plans_folder(tmp_path: Path) -> None:
    for src in REAL_PLANS.iterdir():
        (tmp_path / src.name).write_bytes(src.read_bytes())
    # SESSION_10_PLAN.md is the highest plan; SESSION_6B counts as 6
    assert next_session_number(tmp_path) == 11


def test_new_writes_numbered_plans(repo: Path, snapshot: SnapshotAssertion) -> None:
    code, out, _ = run(repo, "Real-Time", "Dashboard")
    assert code == 0
    assert out.startswith("wrote plans/SESSION_1_PLAN.md (session 1, template: built-in)\n")
    text = (repo / "plans" / "SESSION_1_PLAN.md").read_text(encoding="utf-8")
    assert text == snapshot
    post = frontmatter.loads(text)
    front = PlanFrontmatter.model_validate(post.metadata)
    assert (front.session, front.title, front.status) == (1, "Real-Time Dashboard", "planned")
    for tag in ("**Type**", "**Duration**", "**Complexity**", "**Libraries**", "**Confidence**"):
        assert tag in text
    code, out, _ = run(repo, "--json")
    assert code == 0
    assert json.loads(out) == {
        "path": "plans/SESSION_2_PLAN.md",
        "session": 2,
        "template": "built-in",
    }
    second = frontmatter.loads((repo / "plans" / "SESSION_2_PLAN.md").read_text(encoding="utf-8"))
    assert second["title"] == "Session 2"
    # the first plan is untouched
    assert (repo / "plans" / "SESSION_1_PLAN.md").read_text(encoding="utf-8") == text


def test_title_that_needs_quoting(repo: Path) -> None:
    title = 'Auth: "refactor" #2 — ünïcode'
    assert run(repo, title)[0] == 0
    post = frontmatter.loads((repo / "plans" / "SESSION_1_PLAN.md").read_text(encoding="utf-8"))
    assert post["title"] == title


def test_plans_dir_from_config_and_dir_option(repo: Path) -> None:
    (repo / "sessionmd.yaml").write_text("plans_dir: docs/plans\n", encoding="utf-8")
    (repo / "docs" / "plans").mkdir(parents=True)
    (repo / "docs" / "plans" / "SESSION_7_PLAN.md").write_text("old\n", encoding="utf-8")
    assert run(repo, "x")[0] == 0
    assert (repo / "docs" / "plans" / "SESSION_8_PLAN.md").is_file()
    assert run(repo, "--dir", "elsewhere", "y")[0] == 0
    assert (repo / "elsewhere" / "SESSION_1_PLAN.md").is_file()


def test_project_template_and_explicit_template(repo: Path) -> None:
    tdir = repo / ".sessionmd" / "templates"
    tdir.mkdir(parents=True)
    (tdir / "plan.md.j2").write_text(
        "---\nsession: {{ session }}\ntitle: {{ title | yaml_str }}\n---\n# {{ path }}\n",
        encoding="utf-8",
    )
    code, out, _ = run(repo, "Mine")
    assert code == 0 and "(session 1, template: .sessionmd/templates/plan.md.j2)" in out
    assert (repo / "plans" / "SESSION_1_PLAN.md").read_text(encoding="utf-8") == (
        '---\nsession: 1\ntitle: "Mine"\n---\n# plans/SESSION_1_PLAN.md\n'
    )
    other = repo / "other.j2"
    other.write_text("# {{ session }} {{ title }}\n", encoding="utf-8")
    assert run(repo, "--template", str(other), "T")[0] == 0
    assert (repo / "plans" / "SESSION_2_PLAN.md").read_text(encoding="utf-8") == "# 2 T\n"


def test_bad_template_is_exit_2_with_path_and_line(repo: Path) -> None:
    bad = repo / "bad.j2"
    bad.write_text("line one\n{% if %}\n", encoding="utf-8")
    code, _, err = run(repo, "--template", str(bad))
    assert code == 2
    assert f"{bad}:2: template:" in err
    assert not (repo / "plans" / "SESSION_1_PLAN.md").exists()
    code, _, err = run(repo, "--template", str(repo / "missing.j2"))
    assert code == 2 and "template not found" in err
    undefined = repo / "undef.j2"
    undefined.write_text("{{ nope }}\n", encoding="utf-8")
    code, _, err = run(repo, "--template", str(undefined))
    assert code == 2 and "'nope' is undefined" in err


def test_write_exclusive_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "SESSION_1_PLAN.md"
    target.write_text("mine\n", encoding="utf-8")
    with pytest.raises(PlanError, match="already exists"):
        write_exclusive(target, "theirs\n")
    assert target.read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SESSION_1_PLAN.md"]


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="No space"):
        write_exclusive(tmp_path / "SESSION_1_PLAN.md", "x" * 100_000)
    assert list(tmp_path.iterdir()) == []


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(_build_group(), ["new", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output


def test_title_is_one_line(repo: Path) -> None:
    assert run(repo, "two\nlines  here")[0] == 0
    text = (repo / "plans" / "SESSION_1_PLAN.md").read_text(encoding="utf-8")
    assert "# Session 1: two lines here\n" in text
    assert frontmatter.loads(text)["title"] == "two lines here"


def test_new_plan_has_the_usual_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_exclusive(tmp_path / "SESSION_1_PLAN.md", "x\n")
    finally:
        os.umask(old)
    assert (tmp_path / "SESSION_1_PLAN.md").stat().st_mode & 0o777 == 0o644


def test_without_hard_links_an_exclusive_create(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: str, dst: Path) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "SESSION_1_PLAN.md"
    write_exclusive(target, "plan\n")
    assert target.read_text(encoding="utf-8") == "plan\n"
    with pytest.raises(PlanError, match="already exists"):
        write_exclusive(target, "other\n")
    assert target.read_text(encoding="utf-8") == "plan\n"
    assert [p.name for p in tmp_path.iterdir()] == ["SESSION_1_PLAN.md"]
