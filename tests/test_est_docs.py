"""docs/readme/est.md shows real output: its model file parses, its blocks are the plan's."""

from __future__ import annotations

import re
from pathlib import Path

from sessionmd.estimate.model import parse_model

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "readme" / "est.md").read_text(encoding="utf-8")
PLAN = (ROOT / "plans" / "SESSION_3_PLAN.md").read_text(encoding="utf-8")


def _fences(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", DOC, flags=re.M | re.S)


def test_documented_model_file_parses() -> None:
    (text,) = [t for t in _fences("yaml") if t.startswith("version: 1")]
    model = parse_model(text, "docs")
    assert model.name == "team-2026-11"
    assert model.task_types["implementation"].tokens_per_hour == 48_000
    assert model.task_types["research"].confidence == "low"
    assert model.library_cost("Recharts") == (8_000, True)


def test_documented_blocks_are_in_the_compiled_example() -> None:
    blocks = [t for t in _fences("markdown") if t.startswith("**")]
    assert len(blocks) == 2
    for block in blocks:
        assert block in PLAN
    estimate = next(t for t in _fences("yaml") if t.startswith("estimate:"))
    for line in estimate.splitlines():
        if line.strip() != "...":
            assert line + "\n" in PLAN
