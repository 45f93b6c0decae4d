"""docs/readme/parse.md shows real output: its example plan parses to exactly what it prints."""

from __future__ import annotations

from pathlib import Path

from sessionmd.plan.parse import parse_plan

DOC = Path(__file__).resolve().parent.parent / "docs" / "readme" / "parse.md"


def _block(text: str, opener: str, after: int = 0) -> tuple[str, int]:
    start = text.index(opener, after) + len(opener)
    end = text.index("```\n", start)
    return text[start:end], end


def test_readme_example_output_is_real() -> None:
    doc = DOC.read_text(encoding="utf-8")
    plan_text, end = _block(doc, "```markdown\n")
    shown, _ = _block(doc, "Phases taken and warnings (real output):\n\n```\n", end)
    plan = parse_plan(plan_text, "plans/SESSION_7_PLAN.md")
    lines = [
        f"{p.number} {p.title!r} {p.hours} {p.type} {p.complexity} {p.libraries} "
        f"{p.confidence} {p.author_tokens} line {p.line} also_at {p.also_at}"
        for p in plan.phases
    ]
    lines += [f"{d}  [{d.code}]" for d in plan.diagnostics]
    assert shown.strip().split("\n") == lines
