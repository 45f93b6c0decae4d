"""The one estimation formula, checked against figures worked out by hand."""

from __future__ import annotations

import pytest

from sessionmd.config import ProjectConfig
from sessionmd.errors import PlanError
from sessionmd.estimate.compute import estimate_plan, resolve_quota
from sessionmd.estimate.model import EstimationModel
from sessionmd.plan.models import Phase, Plan, PlanFrontmatter
from sessionmd.quota import PRESETS, Quota

MODEL = EstimationModel()


def plan(*phases: Phase, **front: object) -> Plan:
    return Plan(
        path="plans/SESSION_9_PLAN.md",
        frontmatter=PlanFrontmatter.model_validate(front),
        phases=list(phases),
    )


def phase(number: str = "1", **kw: object) -> Phase:
    kw.setdefault("title", f"Phase {number}")
    kw.setdefault("line", 10 * int(float(number.rstrip("AB"))))
    return Phase.model_validate({"number": number, **kw})


def test_implementation_phase_by_hand() -> None:
    # (25,000 + 1.25 x 45,000) x 0.9 = 73,125 -> 73,100
    # (25,000 + 1 x 45,000) x 0.9 x 0.75 = 47,250 -> 47,300 (half up)
    # (25,000 + 1.5 x 45,000) x 0.9 x 1.25 = 104,062.5 -> 104,100
    est = estimate_plan(plan(phase(hours=(1, 1.5)), tech_stack="familiar"), MODEL, None)
    (p,) = est.phases
    assert (p.tokens.low, p.tokens.mid, p.tokens.high) == (47_300, 73_100, 104_100)
    assert p.type == "implementation" and p.type_defaulted
    assert p.confidence == "medium" and p.confidence_source == "type"
    assert [w.code for w in est.warnings] == ["default-type"]


def test_every_multiplier_complexity_and_library() -> None:
    # factors: 1.3 (large) x 1.2 (learning) x 1.4 (legacy) x 1.1 (complexity) = 2.4024
    # testing, high confidence tag: spread 15%; 2h of 30,000/h; Recharts default 5,000
    # mid  = (18,000 + 2 x 30,000) x 2.4024 + 5,000          = 192,387.2 -> 192,400
    # low  = (18,000 + 2 x 30,000) x 2.4024 x 0.85 + 5,000   = 164,279.12 -> 164,300
    # high = (18,000 + 2 x 30,000) x 2.4024 x 1.15 + 5,000   = 220,495.28 -> 220,500
    p = phase(
        hours=(2, 2),
        type="Testing",
        complexity=1.1,
        complexity_note="new framework",
        libraries=["Recharts"],
        confidence="high",
    )
    est = estimate_plan(
        plan(p, project_size="large", tech_stack="learning", code_quality="legacy"), MODEL, None
    )
    (pe,) = est.phases
    assert (pe.tokens.low, pe.tokens.mid, pe.tokens.high) == (164_300, 192_400, 220_500)
    assert [f.note for f in pe.factors] == [
        "project_size large",
        "tech_stack learning",
        "code_quality legacy",
        "complexity: new framework",
    ]
    assert pe.type == "testing" and not pe.type_defaulted
    assert pe.confidence_source == "tag"
    assert est.warnings == []


def test_no_duration_is_base_alone_at_low_confidence() -> None:
    # debugging base 20,000; low spread 40%: 12,000 / 20,000 / 28,000
    est = estimate_plan(plan(phase(type="debugging")), MODEL, None)
    (pe,) = est.phases
    assert (pe.tokens.low, pe.tokens.mid, pe.tokens.high) == (12_000, 20_000, 28_000)
    assert pe.confidence == "low" and pe.confidence_source == "no-duration"
    assert [w.code for w in est.warnings] == ["no-duration"]
    assert "no duration" in str(est.warnings[0])
    assert str(est.warnings[0]).startswith("plans/SESSION_9_PLAN.md:10: ")


def test_no_duration_overrides_a_confidence_tag() -> None:
    est = estimate_plan(plan(phase(type="planning", confidence="high")), MODEL, None)
    assert est.phases[0].confidence == "low"


def test_fifty_minutes_is_exact() -> None:
    # 50 min of polish: 12,000 + 5/6 x 20,000 = 28,666.67 -> 28,700
    est = estimate_plan(plan(phase(hours=(50 / 60, 50 / 60), type="polish")), MODEL, None)
    assert est.phases[0].tokens.mid == 28_700


def test_a_library_counts_once_per_plan() -> None:
    est = estimate_plan(
        plan(
            phase("1", hours=(1, 1), libraries=["Socket.io"]),
            phase("2", hours=(1, 1), libraries=["socketio", "Recharts"]),
        ),
        MODEL,
        None,
    )
    first, second = est.phases
    assert first.library_tokens == 5_000
    assert [(lib.name, lib.counted_in) for lib in second.libraries] == [
        ("socketio", "1"),
        ("Recharts", None),
    ]
    assert second.library_tokens == 5_000
    # 25,000 + 45,000 + 5,000 for both phases
    assert first.tokens.mid == second.tokens.mid == 75_000


def test_known_library_cost_from_the_model() -> None:
    model = EstimationModel(libraries={"default": 5_000, "Recharts": 8_000})
    est = estimate_plan(plan(phase(hours=(1, 1), libraries=["recharts"])), model, None)
    assert est.phases[0].tokens.mid == 78_000
    assert est.phases[0].libraries[0].known


def test_unknown_type_names_the_phase_line_and_valid_types() -> None:
    with pytest.raises(PlanError) as info:
        estimate_plan(plan(phase("3", hours=(1, 1), type="coding")), MODEL, None)
    text = str(info.value)
    assert text.startswith("plans/SESSION_9_PLAN.md:30: ")
    assert "'coding'" in text
    for name in ("planning", "implementation", "refactoring", "testing", "debugging", "polish"):
        assert name in text
    assert "did you mean" not in text
    with pytest.raises(PlanError, match=r"unknown task type 'test' \(did you mean testing\?\)"):
        estimate_plan(plan(phase("3", hours=(1, 1), type="test")), MODEL, None)


def test_totals_by_hand() -> None:
    # phase mids 70,000 (1h implementation) and 35,000 (1h planning)
    # lows: 25,000 + 45,000 x 0.75 = ... (25,000 + 45,000) x 0.75 = 52,500 ; (35,000) x 0.85 = 29,750 -> 29,800
    # highs: 70,000 x 1.25 = 87,500 ; 35,000 x 1.15 = 40,250 -> 40,300
    est = estimate_plan(
        plan(phase("1", hours=(1, 1)), phase("2", hours=(1, 1), type="planning")),
        MODEL,
        Quota(150_000, "test quota"),
    )
    t = est.total
    assert (t.mid, t.low, t.high) == (105_000, 82_300, 127_800)
    assert t.buffered == 126_000  # 105,000 x 1.2
    assert t.safe_limit == 127_800  # the larger of 127,800 and 126,000
    assert t.fits is True
    assert t.percent_of_quota == 85.2  # 127,800 / 150,000 = 85.2%
    assert t.quota_source == "test quota"


def test_does_not_fit_and_no_quota() -> None:
    p = plan(phase("1", hours=(4, 5)))
    est = estimate_plan(p, MODEL, PRESETS["pro"])
    assert est.total.fits is False
    assert est.total.percent_of_quota is not None and est.total.percent_of_quota > 100
    bare = estimate_plan(p, MODEL, None)
    assert (bare.total.quota, bare.total.fits, bare.total.percent_of_quota) == (None, None, None)


def test_buffered_may_be_the_safe_limit() -> None:
    # high confidence, no spread beyond 15%: buffered (20%) wins
    model = EstimationModel(confidence_spread={"high": 0.05, "medium": 0.25, "low": 0.4})
    assert model.confidence_spread["high"] == 0.05
    est = estimate_plan(plan(phase(hours=(1, 1), type="planning")), model, None)
    assert est.total.high == 36_800  # 35,000 x 1.05 = 36,750 -> 36,800
    assert est.total.safe_limit == est.total.buffered == 42_000


def test_empty_plan() -> None:
    est = estimate_plan(plan(), MODEL, None)
    assert est.phases == [] and est.total.mid == est.total.safe_limit == 0


def test_session_factor_missing_from_a_custom_model() -> None:
    model = EstimationModel.model_validate({"multipliers": {"tech_stack": {"familiar": 0.9}}})
    with pytest.raises(PlanError, match="tech_stack 'new' is not in the estimation model"):
        estimate_plan(plan(phase(hours=(1, 1)), tech_stack="new"), model, None)


def test_resolve_quota_order() -> None:
    cfg = ProjectConfig(quota="max20")
    assert resolve_quota(plan(quota=50_000), cfg) == Quota(
        50_000, "frontmatter quota (50,000 tokens)"
    )
    from_config = resolve_quota(plan(), cfg)
    assert from_config is not None and from_config.tokens == PRESETS["max20"].tokens
    assert from_config.source.startswith("sessionmd.yaml quota: preset max20")
    assert resolve_quota(plan(), ProjectConfig()) is None
    assert resolve_quota(plan(quota="auto"), cfg) is None
    with pytest.raises(PlanError, match=r"^plans/SESSION_9_PLAN.md:1: unknown quota"):
        resolve_quota(plan(quota="lots"), cfg)


def test_to_json_shape() -> None:
    est = estimate_plan(
        plan(phase("1", hours=(1, 1.5), author_tokens=(25_000, 32_000))), MODEL, PRESETS["max5"]
    )
    data = est.to_json()
    (ph,) = data["phases"]
    assert set(ph) >= {"number", "title", "hours", "type", "tokens", "author_tokens", "line"}
    assert ph["hours"] == [1.0, 1.5] and ph["author_tokens"] == [25_000, 32_000]
    assert set(ph["tokens"]) == {"low", "mid", "high"}
    assert set(data["total"]) >= {"low", "mid", "high", "buffered", "safe_limit", "quota", "fits"}
    assert data["total"]["quota"] == PRESETS["max5"].tokens


def test_deterministic() -> None:
    p = plan(phase("1", hours=(0.75, 1.25), libraries=["Recharts"]), tech_stack="new")
    assert estimate_plan(p, MODEL, None) == estimate_plan(p, MODEL, None)
