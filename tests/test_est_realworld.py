"""The real plans and the built-in template, parsed, estimated, rendered and recomputed."""

from __future__ import annotations

from pathlib import Path

import pytest
from est_calculator import recompute_everything

from sessionmd.estimate.compute import estimate_plan
from sessionmd.estimate.model import EstimationModel
from sessionmd.plan.new import find_template, render_plan
from sessionmd.plan.parse import parse_plan
from sessionmd.quota import PRESETS

REAL = sorted((Path(__file__).parent / "fixtures" / "plans" / "realworld").glob("*.md"))
MODEL = EstimationModel()


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_plans_compile_to_recomputable_text(path: Path) -> None:
    plan = parse_plan(path.read_text(encoding="utf-8"), path.name)
    est = estimate_plan(plan, MODEL, PRESETS["max20"])
    recompute_everything(est)
    # no real plan writes **Type**: every phase is implementation, and says so
    assert all(p.type == "implementation" and p.type_defaulted for p in est.phases)
    assert len(est.phases) == len(plan.phases)


def test_the_template_is_read_as_written(tmp_path: Path) -> None:
    text = render_plan(find_template(tmp_path), 4, "Dashboard", "plans/SESSION_4_PLAN.md")
    plan = parse_plan(text, "plans/SESSION_4_PLAN.md")
    assert plan.diagnostics == []
    assert [(p.number, p.title, p.type, p.hours) for p in plan.phases] == [
        ("1", "Planning", "planning", (0.5, 0.5)),
        ("2", "Implementation", "implementation", (1.0, 1.5)),
        ("3", "Testing", "testing", (0.75, 0.75)),
        ("4", "Polish and Handoff", "polish", (0.5, 0.5)),
    ]
    assert plan.phases[1].complexity == 1.0 and plan.phases[1].libraries == []
    assert plan.frontmatter.status == "planned" and plan.frontmatter.session == 4
    est = estimate_plan(plan, MODEL, None)
    assert est.warnings == []
    recompute_everything(est)
