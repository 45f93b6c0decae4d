"""The generated text: snapshots, valid YAML, and every calculation it shows recomputed.

The recomputation reads only the rendered text: it evaluates each calculation from the
numbers shown (as a reviewer would) and checks the figure after ``=`` (exact) or ``≈``
(rounded half up: tokens to 100, percentages to 0.1); then it checks the headline
figures against the calculations and the totals against the phase blocks.
"""

from __future__ import annotations

from typing import Any

import frontmatter
import yaml
from est_calculator import recompute_everything
from hypothesis import given, settings
from hypothesis import strategies as st
from syrupy.assertion import SnapshotAssertion

from sessionmd.estimate.compute import estimate_plan
from sessionmd.estimate.model import EstimationModel, parse_model
from sessionmd.estimate.render import (
    render_frontmatter,
    render_phase_block,
    render_total_block,
    yaml_str,
)
from sessionmd.plan.models import Phase, Plan, PlanFrontmatter
from sessionmd.quota import PRESETS, Quota

MODEL = EstimationModel()

# ---------------------------------------------------------------- plans


def dashboard_plan(quota: Any = "max5") -> Plan:
    """The seed's SESSION_3_PLAN.md example, in sessionmd's own tags."""
    return Plan(
        path="plans/SESSION_3_PLAN.md",
        frontmatter=PlanFrontmatter(
            session=3, title="Real-Time Dashboard", tech_stack="familiar", quota=quota
        ),
        phases=[
            Phase(number="1", title="WebSocket Server", line=20, hours=(1, 1.5),
                  libraries=["Socket.io"], confidence="high", author_tokens=(25_000, 32_000)),
            Phase(number="2", title="Dashboard Foundation", line=40, hours=(1.5, 2),
                  complexity=1.1, complexity_note="new framework", libraries=["Next.js"]),
            Phase(number="3", title="Visualization", line=60, hours=(1.5, 2), complexity=1.2,
                  complexity_note="unfamiliar library", libraries=["Recharts", "socket.io"]),
            Phase(number="4", title="Historical Sessions", line=80, hours=(1, 1), type="testing"),
            Phase(number="4.5", title="Future ideas", line=90),
            Phase(number="5", title="Polish", line=95, hours=(50 / 60, 50 / 60), type="polish"),
        ],
    )  # fmt: skip


def test_dashboard_snapshot(snapshot: SnapshotAssertion) -> None:
    est = estimate_plan(dashboard_plan(), MODEL, PRESETS["max5"])
    blocks = [render_phase_block(pe) for pe in est.phases]
    assert blocks == snapshot(name="phases")
    assert render_total_block(est) == snapshot(name="total")
    assert render_frontmatter(est) == snapshot(name="frontmatter")
    recompute_everything(est)


def test_no_quota_and_empty_plan_snapshot(snapshot: SnapshotAssertion) -> None:
    est = estimate_plan(dashboard_plan(quota=None), MODEL, None)
    assert render_total_block(est) == snapshot(name="no-quota")
    recompute_everything(est)
    empty = estimate_plan(Plan(path="p.md", frontmatter=PlanFrontmatter(), phases=[]), MODEL, None)
    assert render_total_block(empty) == snapshot(name="empty-total")
    assert render_frontmatter(empty) == snapshot(name="empty-frontmatter")
    recompute_everything(empty)


def test_seed_phase_one_as_the_brief_words_it() -> None:
    # (25,000 + 1.25h × 45,000/h) × 0.9 (tech_stack familiar) × 1.1 (complexity: new framework)
    # + 5,000 (Recharts) = 81,250 × 0.99 + 5,000 = 85,437.5 ≈ 85,400
    p = Phase(number="1", title="Charts", line=5, hours=(1, 1.5), complexity=1.1,
              complexity_note="new framework", libraries=["Recharts"])  # fmt: skip
    est = estimate_plan(
        Plan(path="p.md", frontmatter=PlanFrontmatter(tech_stack="familiar"), phases=[p]),
        MODEL,
        None,
    )
    block = render_phase_block(est.phases[0])
    assert (
        "- Mid: (25,000 + 1.25h × 45,000/h) × 0.9 (tech_stack familiar) × 1.1 "
        "(complexity: new framework) + 5,000 (Recharts, default library cost) ≈ 85,400"
    ) in block
    assert block.startswith("**Estimate**: 85,400 tokens (")
    assert "(the default: this phase gives no Type tag)" in block
    recompute_everything(est)


def test_frontmatter_reads_back_through_python_frontmatter() -> None:
    est = estimate_plan(dashboard_plan(), MODEL, PRESETS["max5"])
    text = "---\ntitle: x\n" + render_frontmatter(est) + "---\n# body\n"
    post = frontmatter.loads(text)
    assert post["estimate"]["model"] == "default"
    assert post["estimate"]["fits"] is False
    assert post["estimate"]["phases"]["4.5"]["hours"] is None
    assert post["estimate"]["phases"]["1"]["title"] == "WebSocket Server"


def test_texts_end_with_one_newline_and_use_lf() -> None:
    est = estimate_plan(dashboard_plan(), MODEL, PRESETS["max5"])
    for text in [*map(render_phase_block, est.phases), render_total_block(est),
                 render_frontmatter(est)]:  # fmt: skip
        assert text.endswith("\n") and not text.endswith("\n\n") and "\r" not in text
        assert "<!--" not in text and "-->" not in text


# ---------------------------------------------------------------- generated plans

names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20
)
hours = st.one_of(
    st.none(),
    st.tuples(st.integers(1, 600), st.integers(0, 600)).map(
        lambda t: (t[0] / 60, (t[0] + t[1]) / 60)
    ),
    st.tuples(
        st.sampled_from([0.25, 0.5, 0.75, 1, 1.5, 2, 3.25]), st.sampled_from([0, 0.5, 1])
    ).map(lambda t: (float(t[0]), float(t[0] + t[1]))),
)
phases = st.builds(
    Phase,
    number=st.from_regex(r"[1-9][0-9]?(\.5|B)?", fullmatch=True),
    title=names,
    line=st.integers(1, 10_000),
    hours=hours,
    type=st.one_of(st.none(), st.sampled_from(sorted(MODEL.task_types))),
    complexity=st.one_of(st.none(), st.sampled_from([0.8, 0.9, 1.1, 1.15, 1.2, 1.35, 2.0])),
    complexity_note=st.one_of(st.none(), st.sampled_from(["new framework", "legacy"]), names),
    libraries=st.lists(
        st.one_of(st.sampled_from(["Recharts", "Socket.io", "socketio", "D3", "Zod"]), names),
        max_size=3,
    ),
    confidence=st.one_of(st.none(), st.sampled_from(["low", "medium", "high"])),
    author_tokens=st.one_of(
        st.none(),
        st.tuples(st.integers(0, 200_000), st.integers(0, 50_000)).map(
            lambda t: (t[0], t[0] + t[1])
        ),
    ),
)
fronts = st.builds(
    PlanFrontmatter,
    project_size=st.one_of(st.none(), st.sampled_from(["small", "medium", "large", "enterprise"])),
    tech_stack=st.one_of(st.none(), st.sampled_from(["familiar", "learning", "new"])),
    code_quality=st.one_of(st.none(), st.sampled_from(["clean", "mixed", "legacy"])),
)
quotas = st.one_of(st.none(), st.integers(1, 2_000_000).map(lambda n: Quota(n, "generated")))
models = st.sampled_from(
    [
        MODEL,
        parse_model(
            'buffer: 0.15\nlibraries: {recharts: 8000}\nname: "t: \\"x\\""\n'
            "confidence_spread: {medium: 0.125}\n",
            "m.yaml",
        ),
        parse_model("round_to: 1000\nbuffer: 0.333\n", "m.yaml"),
        parse_model("round_to: 1\nconfidence_spread: {high: 0.01}\n", "m.yaml"),
    ]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(fronts, st.lists(phases, max_size=6, unique_by=lambda p: p.number), quotas, models)
def test_generated_plans_recompute(
    front: PlanFrontmatter,
    phase_list: list[Phase],
    quota: Quota | None,
    model: EstimationModel,
) -> None:
    plan = Plan(path="p.md", frontmatter=front, phases=phase_list)
    est = estimate_plan(plan, model, quota)
    recompute_everything(est)
    assert yaml.safe_load(render_frontmatter(est))["estimate"]["model"] == model.name


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=30))
def test_yaml_str_reads_back(text: str) -> None:
    assert yaml.safe_load(f"k: {yaml_str(text)}\n") == {"k": text}
    assert frontmatter.loads(f"---\nk: {yaml_str(text)}\n---\n")["k"] == text
