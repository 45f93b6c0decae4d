"""Every real plan reads without error, and the phases taken are the ones a reader sees.

The snapshots were read line by line against the files (tests/fixtures/plans/realworld/,
copied unchanged from ../shared/realworld/plans/): see docs/readme/parse.md for the rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from sessionmd.plan.parse import parse_plan

FIXTURES = Path(__file__).parent / "fixtures"
REAL = sorted((FIXTURES / "plans" / "realworld").glob("*.md"))
SEED = FIXTURES / "parse" / "seed_SESSION_3_PLAN.md"


def _range(r: tuple[float, float] | tuple[int, int] | None) -> str:
    if r is None:
        return "-"
    lo, hi = (round(v, 3) for v in r)
    return f"{lo:g}" if lo == hi else f"{lo:g}..{hi:g}"


def summary(path: Path) -> list[str]:
    """One line per phase taken, then the skipped lines and the total's anchor: easy to
    read against the file."""
    text = path.read_text(encoding="utf-8")
    plan = parse_plan(text, path.name)
    out = [
        f"Phase {p.number} {p.title!r} line {p.line} block@{p.block_after_line} "
        f"hours {_range(p.hours)} ({p.hours_source}) author {_range(p.author_tokens)} "
        f"also_at {p.also_at} type {p.type} complexity {p.complexity} {p.complexity_note!r} "
        f"confidence {p.confidence} libraries {p.libraries}"
        for p in plan.phases
    ]
    out += [
        f"skipped {d.line}: {d.message}" for d in plan.diagnostics if d.code == "skipped-heading"
    ]
    out.append(f"total after line {plan.total_after_line}")
    out.append(f"codes {sorted({d.code for d in plan.diagnostics})}")
    assert [line for line, _ in plan.skipped_headings] == [
        d.line for d in plan.diagnostics if d.code == "skipped-heading"
    ]
    return out


def test_all_real_plans_are_fixtures() -> None:
    assert [p.name for p in REAL] == [
        "SESSION_10_PLAN.md",
        "SESSION_1_HANDOFF.md",
        "SESSION_3_COMPLETE.md",
        "SESSION_3_PLAN.md",
        "SESSION_5_COMPLETE.md",
        "SESSION_5_PLAN.md",
        "SESSION_6B_PLAN.md",
        "SESSION_6_HANDOFF.md",
    ]


@pytest.mark.parametrize("path", [*REAL, SEED], ids=lambda p: p.name)
def test_real_plan_phases(path: Path, snapshot: SnapshotAssertion) -> None:
    assert summary(path) == snapshot


@pytest.mark.parametrize("path", [*REAL, SEED], ids=lambda p: p.name)
def test_phase_lines_point_at_phase_text(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    plan = parse_plan("\n".join(lines), path.name)
    for phase in plan.phases:
        for line in [phase.line, *phase.also_at]:
            assert f"Phase {phase.number}" in lines[line - 1]
        assert phase.block_after_line >= phase.line
    for line, text in plan.skipped_headings:
        assert text in lines[line - 1]
    if plan.phases:
        assert lines[plan.total_after_line - 1].strip() not in ("", "---")
