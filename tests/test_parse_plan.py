"""parse_plan on small plans: frontmatter, dedupe, exclusion, skipping, anchors, errors."""

from __future__ import annotations

import textwrap

import pytest

from sessionmd.errors import PlanError
from sessionmd.plan.parse import has_phases, parse_plan


def plan_text(body: str) -> str:
    return textwrap.dedent(body).lstrip("\n")


def codes(text: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in parse_plan(text, "p.md").diagnostics]


def test_frontmatter_and_line_numbers() -> None:
    text = plan_text(
        """
        ---
        session: 6B
        title: Automation
        status: planned
        quota: max5
        exclude: ["Appendix*"]
        custom_key: kept
        ---
        # Session 6B

        ## Phase 1: Setup (20 min)
        **Type**: Implementation
        """
    )
    plan = parse_plan(text, "plans/SESSION_6B_PLAN.md")
    assert plan.frontmatter.session == "6B"
    assert plan.frontmatter.status == "planned"
    assert plan.frontmatter.exclude == ["Appendix*"]
    assert plan.frontmatter.model_extra == {"custom_key": "kept"}
    assert plan.frontmatter_line_count == 8
    [phase] = plan.phases
    assert (phase.line, phase.block_after_line, phase.type) == (11, 11, "implementation")
    assert phase.hours == pytest.approx((1 / 3, 1 / 3))
    assert phase.hours_source == "heading"
    assert plan.total_after_line == 12


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_bom_and_crlf(newline: str, bom: str) -> None:
    lines = ["---", "session: 3", "---", "", "### Phase 1: A (1h)", "**Duration**: 2h", "text"]
    plan = parse_plan(bom + newline.join(lines) + newline, "p.md")
    assert plan.frontmatter.session == 3
    assert plan.frontmatter_line_count == 3
    [phase] = plan.phases
    assert (phase.line, phase.hours, phase.hours_source) == (5, (1.0, 1.0), "heading")
    assert plan.total_after_line == 7
    assert (6, "conflicting-duration") in codes(bom + newline.join(lines))


def test_bom_without_frontmatter_and_lone_cr() -> None:
    plan = parse_plan("\ufeff# Phase 1: A (1h)\rstill line one\n\n# Phase 2: B (2h)\n", "p.md")
    assert [(p.number, p.line) for p in plan.phases] == [("1", 1), ("2", 3)]


def test_frontmatter_values() -> None:
    fm = parse_plan(
        "---\nsession: 2.5\nscheduled_for: 2026-01-06T14:00:00+01:00\n---\n", "p.md"
    ).frontmatter
    assert fm.session == "2.5"
    assert fm.scheduled_for is not None and fm.scheduled_for.utcoffset() is not None


def test_no_frontmatter_when_unclosed() -> None:
    plan = parse_plan("---\n\n# Phase 1: A (1h)\n", "p.md")
    assert plan.frontmatter_line_count == 0
    assert [p.line for p in plan.phases] == [3]


def test_empty_and_phaseless_plans() -> None:
    assert parse_plan("", "p.md").phases == []
    plan = parse_plan("---\n---\n# Notes\n", "p.md")
    assert (plan.phases, plan.frontmatter_line_count, plan.total_after_line) == ([], 2, 0)
    assert not has_phases("# Phase-by-Phase\nno numbers")
    assert has_phases("### Phase 1: x")


def test_summary_and_breakdown_merge() -> None:
    text = plan_text(
        """
        # Plan

        ## Summary

        **Phase 1: Parser** (30 min, 8-10k tokens)
        **Phase 2: Writer** (45 min)
        - detail

        ## Phase Breakdown

        ### Phase 1: Parser Module
        **Type**: testing
        **Complexity**: 1.1 (new framework)
        **Libraries**: Recharts, socket.io
        **Confidence**: MEDIUM

        ### Phase 2: Writer
        **Duration**: 1 hour
        **Estimated Tokens**: 12,000 - 15,000
        """
    )
    plan = parse_plan(text, "p.md")
    one, two = plan.phases
    assert (one.line, one.also_at, one.title) == (11, [5], "Parser Module")
    assert one.hours == (0.5, 0.5) and one.hours_source == "heading"
    assert one.author_tokens == (8000, 10000)
    assert (one.type, one.complexity, one.complexity_note) == ("testing", 1.1, "new framework")
    assert (one.libraries, one.confidence) == (["Recharts", "socket.io"], "medium")
    # the breakdown says more about its phases, so both blocks go there
    # the primary occurrence's own duration wins; the other one is reported
    assert (two.line, two.also_at, two.hours, two.hours_source) == (17, [6], (1.0, 1.0), "tag")
    assert two.author_tokens == (12000, 15000)
    assert (6, "conflicting-duration") in codes(text)
    assert (5, "duplicate-phase") in codes(text) and (6, "duplicate-phase") in codes(text)
    assert plan.total_after_line == 19


def test_bold_phase_block_anchor_stops_before_a_list() -> None:
    text = plan_text(
        """
        **Phase 1: Setup** (30 min)
        **Type**: polish
        - task one
        - task two

        **Phase 2: Build** (1h)
        """
    )
    plan = parse_plan(text, "p.md")
    one, two = plan.phases
    assert (one.line, one.block_after_line, one.type) == (1, 2, "polish")
    assert (two.line, two.block_after_line) == (6, 6)
    assert plan.total_after_line == 6


def test_same_number_different_phase_keeps_the_breakdown() -> None:
    text = plan_text(
        """
        # Session 10

        ## Review

        **Phase 1: MVP Dashboard** ✅ COMPLETED

        ## Implementation Phases

        ### Phase 1: Fix Critical Gaps (30 min)
        ### Phase 2: Parser (1h)
        """
    )
    plan = parse_plan(text, "p.md")
    assert [(p.number, p.title, p.line) for p in plan.phases] == [
        ("1", "Fix Critical Gaps", 9),
        ("2", "Parser", 10),
    ]
    assert plan.skipped_headings == [(5, "**Phase 1: MVP Dashboard** ✅ COMPLETED")]


def test_future_sections_and_marks_are_skipped() -> None:
    text = plan_text(
        """
        # Session 3: History Viewer

        ## Phase Breakdown
        ### Phase 1: Server (1h)
        ### Phase 4: Session History (Future)

        ## Future Enhancements (Post-Session 3)
        ### Phase 3.5: Advanced Features
        #### Phase 3.6: Nested deeper

        ## Next Steps
        ### Phase 2: Client (2h)
        """
    )
    plan = parse_plan(text, "p.md")
    assert [p.number for p in plan.phases] == ["1", "2"]
    assert [line for line, _ in plan.skipped_headings] == [5, 8, 9]
    # a done mark alone keeps the phase: ticking phases off must not change the estimate
    ticked = parse_plan("### ✅ Phase 1: Done (1h)\n### Phase 2: Next (1h)\n", "p.md")
    assert [p.number for p in ticked.phases] == ["1", "2"]


def test_exclude_sections() -> None:
    text = plan_text(
        """
        ---
        exclude:
          - "Appendix*"
        ---
        # Plan
        ## Work
        ### Phase 1: A (1h)
        ## Appendix: old plan
        ### Phase 2: Old (1h)
        #### Phase 3: Older (1h)
        ## Alternatives
        ### Phase 4: Maybe (1h)
        ## Later
        ### Phase 5: B (1h)
        """
    )
    plan = parse_plan(text, "p.md")
    assert [p.number for p in plan.phases] == ["1", "4", "5"]
    plan = parse_plan(text, "p.md", exclude=["alternatives", "## Phase 5: B (1h)"])
    assert [p.number for p in plan.phases] == ["1"]
    bold = parse_plan("**Phase 1: A** (1h)\n\n**Phase 2: B** (1h)\n", "p.md", exclude=["*phase 2*"])
    assert [p.number for p in bold.phases] == ["1"]
    reasons = [d.message for d in plan.diagnostics if d.code == "skipped-heading"]
    assert len(reasons) == 4 and "excluded by 'Appendix*'" in reasons[0]
    assert "excluded by 'alternatives'" in reasons[2]


def test_fences_comments_and_tables_hold_no_phases() -> None:
    text = plan_text(
        """
        # Plan

        ```markdown
        ### Phase 9: In a fence (1h)
        **Phase 8: Also in the fence** (1h)
        ```

        <!--
        ### Phase 7: Commented out (1h)
        -->

            ### Phase 6: Indented code (1h)

        | Phase | Time |
        |-------|------|
        | **Phase 5: In a table** | 1h |

        Phase | Time
        ------|-----
        **Phase 4: In a table without pipes** | 1h

        ### Phase 1: Real (1h)
        """
    )
    plan = parse_plan(text, "p.md")
    assert [(p.number, p.line) for p in plan.phases] == [("1", 22)]


def test_setext_headings_and_list_rules() -> None:
    text = "Phase 1: Setext (1h)\n====================\n\n- item\n---\n\nPhase 2: B (2h)\n===\n"
    plan = parse_plan(text, "p.md")
    assert [(p.number, p.line, p.block_after_line) for p in plan.phases] == [
        ("1", 1, 2),
        ("2", 7, 8),
    ]


def test_tag_scope_ends_at_next_heading_of_same_level() -> None:
    text = plan_text(
        """
        ## Phase 1: A (1h)
        ### Details
        - **Complexity**: 0.9 (familiar stack)
        ## Risks
        **Confidence**: LOW
        """
    )
    [phase] = parse_plan(text, "p.md").phases
    assert (phase.complexity, phase.confidence) == (0.9, None)
    assert parse_plan(text, "p.md").total_after_line == 3


def test_diagnostics() -> None:
    text = "# Phase 1: A\n\n# Phase 2: B (1h)\n**Type**: testing\n"
    assert codes(text) == [(1, "default-type"), (1, "no-duration")]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("---\ntitle: [unclosed\n---\n", 3, "invalid YAML"),
        ("---\na: 1\n  b: 2\n---\n", 3, "invalid YAML"),
        ("---\nsession: 1\nstatus: finished\n---\n", 3, "status"),
        ("\ufeff---\r\ntitle: x\r\nstatus: nope\r\n---\r\n", 3, "status"),
        ('---\r\na: 1\r\nb: "\\q"\r\n---\r\n', 3, "unknown escape"),
        ("---\n- a\n- b\n---\n", 2, "mapping"),
        ("---\nexclude: 5\n---\n", 2, "exclude"),
        ("---\nscheduled_for: tomorrow\n---\n", 2, "scheduled_for"),
        ("---\ntitle: x\nscheduled_for: 2026-01-06T14:00:00\n---\n", 3, "UTC offset"),
        ("---\n1: x\n---\n", 2, "must be a string"),
        ("# Phase 1: A\n\n**Duration**: a while\n", 3, "unparsable **Duration**"),
        ("# Phase 1: A (3-2h)\n", 1, "backwards"),
        ("\n**Phase 1: A** — 0 min\n", 2, "longer than zero"),
        ("# Phase 1: A\n- **Confidence**: very\n", 2, "low, medium or high"),
        ("# Phase 1: A\n**Complexity**: high\n", 2, "positive number"),
        ("---\nx: 1\n---\n# Phase 1: A\n**Complexity**: 0\n", 5, "positive number"),
        ("**Phase 1: A** (1h)\n**Type**:\n", 2, "empty"),
    ],
)
def test_bad_input_names_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "plans/bad.md")
    err = caught.value
    assert (err.path, err.line) == ("plans/bad.md", line)
    assert message in err.message
    assert str(err).startswith(f"plans/bad.md:{line}: ")


def test_bad_tags_outside_phases_or_in_skipped_phases_are_author_text() -> None:
    text = plan_text(
        """
        **Confidence**: 🟢 very high
        **Duration**: ~5 hours of fun
        ## Future Work
        ### Phase 2: Later
        **Complexity**: high
        ## Now
        ### Phase 1: Now (1h)
        """
    )
    assert [p.number for p in parse_plan(text, "p.md").phases] == ["1"]
    with pytest.raises(PlanError):
        parse_plan(text.replace("## Future Work", "## Work"), "p.md")


def test_one_number_twice_in_one_section_is_reported() -> None:
    text = "## Phases\n### Phase 2: Parser (1h)\n### Phase 2: Writer (1h)\n"
    plan = parse_plan(text, "p.md")
    assert [(p.number, p.title) for p in plan.phases] == [("2", "Parser")]
    [diag] = [d for d in plan.diagnostics if d.code == "skipped-heading"]
    assert diag.line == 3 and "renumber one to estimate both" in diag.message


def test_done_phases_outside_the_phase_section_are_a_recap() -> None:
    text = plan_text(
        """
        ## Last time
        **Phase 0: Bootstrap** ✅ COMPLETED
        **Phase 1: Parser** ✅ COMPLETED

        ## Phases
        ### ✅ Phase 1: Parser (1h)
        ### Phase 2: Writer (1h)
        """
    )
    plan = parse_plan(text, "p.md")
    assert [(p.number, p.line, p.also_at) for p in plan.phases] == [("1", 6, [3]), ("2", 7, [])]
    assert plan.skipped_headings == [(2, "**Phase 0: Bootstrap** ✅ COMPLETED")]
    [reason] = [d.message for d in plan.diagnostics if d.code == "skipped-heading"]
    assert "marked done, outside 'Phases'" in reason


def test_the_first_bad_value_in_the_file_is_reported() -> None:
    # Phase 1's primary (the breakdown) comes after Phase 2's bad line in the summary
    text = plan_text(
        """
        ## Summary
        **Phase 2: B** (1h)
        **Confidence**: sure

        ## Breakdown
        ### Phase 1: A (1h)
        **Complexity**: lots
        ### Phase 2: B
        **Type**: testing
        """
    )
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "p.md")
    assert caught.value.line == 3


def test_sub_phases_are_part_of_a_phase_with_a_duration() -> None:
    text = plan_text(
        """
        ## Phase 1: Backend (2h)
        ### Phase 1.1: Database (30 min)
        ### Phase 1.2: API
        **Phase 1.3: Auth** (1h)
        ## Phase 2: Frontend
        ### Phase 2.1: Pages (1h)
        #### Phase 2.1.1: Home (15 min)
        ### Phase 2.2: Styles
        ## Phase 3: Docs
        ### Phase 3.1: README
        """
    )
    plan = parse_plan(text, "p.md")
    assert [p.number for p in plan.phases] == ["1", "2.1", "2.2", "3"]
    reasons = {d.line: d.message for d in plan.diagnostics if d.code == "skipped-heading"}
    assert sorted(reasons) == [2, 3, 4, 5, 7, 10]
    assert "part of Phase 1 at line 1" in reasons[2]
    assert "a heading over Phases 2.1, 2.2, which are estimated instead" in reasons[5]
    assert "part of Phase 2.1 at line 6" in reasons[7]
    assert "part of Phase 3 at line 9" in reasons[10]


def test_only_sub_numbers_nest() -> None:
    text = plan_text(
        """
        ## Phase 2: Frontend (1h)
        ### Phase 3: Misplaced (1h)
        ### Phase 21: Not a part (1h)
        ### Phase 2B: A part (1h)
        ### Recap
        **Phase 1: Setup** (30 min)
        ## Phase 1: Setup
        """
    )
    plan = parse_plan(text, "p.md")
    assert [(p.number, p.line, p.also_at, p.hours) for p in plan.phases] == [
        ("2", 1, [], (1.0, 1.0)),
        ("3", 2, [], (1.0, 1.0)),
        ("21", 3, [], (1.0, 1.0)),
        ("1", 7, [6], (0.5, 0.5)),
    ]
    assert plan.skipped_headings == [(4, "Phase 2B: A part (1h)")]
