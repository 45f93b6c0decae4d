"""The shipped example plan is compiled, current, and its written arithmetic adds up."""

from __future__ import annotations

import os
from pathlib import Path

import frontmatter
from click.testing import CliRunner
from est_calculator import recompute_phase, recompute_total

from sessionmd.cli import _build_group
from sessionmd.plan.blocks import split

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "plans" / "SESSION_3_PLAN.md"


def _body(block_text: str) -> str:
    lines = block_text.splitlines(keepends=True)
    return "".join(lines[1:-1])


def test_example_plan_is_current() -> None:
    old = Path.cwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(_build_group(), ["estimate", "--check", "plans/"])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output + result.stderr


def test_example_plan_arithmetic_from_the_file_alone() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    parts = split(text, str(EXAMPLE))
    phase_blocks = parts.blocks_by_kind["estimate"]
    assert [b.attrs["phase"] for b in phase_blocks] == ["1", "2", "3", "4"]
    phases = [recompute_phase(_body(b.text)) for b in phase_blocks]
    (total,) = parts.blocks_by_kind["total"]
    meta = frontmatter.loads(text).metadata
    estimate = meta["estimate"]
    recompute_total(_body(total.text), phases, estimate["quota"])
    # the frontmatter section agrees with the blocks
    assert estimate["mid"] == sum(p["mid"] for p in phases)
    assert [(v["low"], v["mid"], v["high"]) for v in estimate["phases"].values()] == [
        (p["low"], p["mid"], p["high"]) for p in phases
    ]
    # the user's own frontmatter keys and comments are still there
    assert meta["tech_stack"] == "familiar" and meta["quota"] == "max20"
    assert "# Node.js, React and TypeScript are well known here" in text
