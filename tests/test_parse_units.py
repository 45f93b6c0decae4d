"""Unit rules of the plan parser: durations, token figures, tags, phase lines."""

from __future__ import annotations

import pytest

from sessionmd.plan.durations import DurationError, parse_hours, parse_hours_prefix, parse_tokens
from sessionmd.plan.phaseline import match_bold_phase, match_heading_phase, phase_key
from sessionmd.plan.tags import TagError, TagValues, match_tag, read_tag


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("1-1.5h", (1.0, 1.5)),
        ("45 min", (0.75, 0.75)),
        ("1-1.5 hours", (1.0, 1.5)),
        ("1 hour", (1.0, 1.0)),
        ("30-45 min", (0.5, 0.75)),
        ("90m", (1.5, 1.5)),
        ("1h 30m", (1.5, 1.5)),
        ("1h30", (1.5, 1.5)),
        ("~20 min", (20 / 60, 20 / 60)),
        ("about 2 hrs", (2.0, 2.0)),
        ("45 min - 1 hour", (0.75, 1.0)),
        ("1 to 2 hours", (1.0, 2.0)),
        ("1h-1h30m", (1.0, 1.5)),
        ("1.5–2h", (1.5, 2.0)),
        ("2 HOURS", (2.0, 2.0)),
    ],
)
def test_durations(text: str, hours: tuple[float, float]) -> None:
    assert parse_hours(text) == pytest.approx(hours)


@pytest.mark.parametrize(
    "text", ["Week 1-2", "Future", "1-2", "Hour 1", "2 days", "optional", "", "15-20k tokens"]
)
def test_not_durations(text: str) -> None:
    assert parse_hours(text) is None


@pytest.mark.parametrize("text", ["2-1h", "0 min", "0-1h", "90-30 min"])
def test_invalid_durations_raise(text: str) -> None:
    with pytest.raises(DurationError):
        parse_hours(text)


def test_duration_prefix_keeps_the_rest() -> None:
    assert parse_hours_prefix("45 minutes (including tests)") == (
        (0.75, 0.75),
        " (including tests)",
    )
    assert parse_hours_prefix("~5 hours") == ((5.0, 5.0), "")
    assert parse_hours_prefix("45minutesish") is None
    assert parse_hours_prefix("two hours") is None


@pytest.mark.parametrize(
    ("text", "word", "prefix", "tokens"),
    [
        ("8-12k tokens", True, False, (8000, 12000)),
        ("15-20k tokens", True, False, (15000, 20000)),
        ("3k tokens", True, False, (3000, 3000)),
        ("~18k tokens", True, False, (18000, 18000)),
        ("25,000 - 32,000", False, False, (25000, 32000)),
        ("25,000 - 32,000", True, False, None),
        ("65-85k tokens (32-42% of Pro quota)", False, True, (65000, 85000)),
        ("~18k actual vs 15-20k estimated", True, False, None),
        ("1.5M tokens", True, False, (1_500_000, 1_500_000)),
        ("20-15k tokens", True, False, None),
        ("Week 1-2", True, False, None),
    ],
)
def test_token_figures(text: str, word: bool, prefix: bool, tokens: tuple[int, int] | None) -> None:
    assert parse_tokens(text, require_word=word, prefix=prefix) == tokens


@pytest.mark.parametrize(
    ("line", "tag"),
    [
        ("**Type**: implementation", ("type", "implementation")),
        ("**Type:** Testing", ("type", "Testing")),
        ("- **Complexity**: 0.9 (familiar stack)", ("complexity", "0.9 (familiar stack)")),
        ("  * **Libraries**: Recharts, socket.io", ("libraries", "Recharts, socket.io")),
        ("1. **Confidence**: MEDIUM", ("confidence", "MEDIUM")),
        ("> **Duration**: 45 minutes", ("duration", "45 minutes")),
        ("**Estimated Tokens**: 25,000 - 32,000", ("author_tokens", "25,000 - 32,000")),
        ("__Type__: polish", ("type", "polish")),
    ],
)
def test_tag_lines(line: str, tag: tuple[str, str]) -> None:
    assert match_tag(line) == tag


@pytest.mark.parametrize(
    "line",
    [
        "**Status**: 🔴 CRITICAL PRIORITY",
        "**Estimated Time**: 4-6 hours",
        "Type: implementation",
        "**Type** implementation",
        "The **Type**: is bold mid-line",
        "**Confidence Level**: 🟢 HIGH",
    ],
)
def test_other_bold_lines_are_not_tags(line: str) -> None:
    assert match_tag(line) is None


def read(tag: str, value: str) -> TagValues:
    values = TagValues()
    read_tag(tag, value, values)
    return values


def test_tag_values() -> None:
    assert read("type", "Implementation (backend)").type == "implementation"
    assert read("type", "Code Review").type == "code review"
    assert read("type", "frobnicate").type == "frobnicate"  # validated by the estimator
    cx = read("complexity", "1.1 (new framework)")
    assert (cx.complexity, cx.complexity_note) == (1.1, "new framework")
    assert read("complexity", "0.85").complexity_note is None
    assert read("complexity", "~1.3").complexity == 1.3
    assert read("complexity", "×1.2 (learning)").complexity == 1.2
    assert read("complexity", "1.2x - unfamiliar library").complexity_note == "unfamiliar library"
    assert read("libraries", "Recharts, socket.io; `zod` and Express").libraries == [
        "Recharts",
        "socket.io",
        "zod",
        "Express",
    ]
    assert read("libraries", "Recharts or Chart.js").libraries == ["Recharts"]
    assert read("libraries", "none").libraries == []
    assert read("confidence", "MEDIUM (based on 2 similar sessions)").confidence == "medium"
    assert read("confidence", "🟢 High").confidence == "high"
    assert read("duration", "45 minutes").hours == (0.75, 0.75)
    assert read("author_tokens", "25,000 - 32,000").author_tokens == (25000, 32000)
    assert read("author_tokens", "lots").author_tokens is None  # the author's text, kept unread


def test_first_tag_wins() -> None:
    values = TagValues()
    read_tag("confidence", "low", values)
    read_tag("confidence", "high", values)
    assert values.confidence == "low"


@pytest.mark.parametrize(
    ("tag", "value", "message"),
    [
        ("confidence", "very", "low, medium or high"),
        ("confidence", "", "low, medium or high"),
        ("complexity", "high", "positive number"),
        ("complexity", "0 (trivial)", "positive number"),
        ("complexity", "-1", "positive number"),
        ("duration", "a while", "unparsable **Duration**"),
        ("duration", "2 days", "unparsable **Duration**"),
        ("duration", "3-2 hours", "backwards"),
        ("type", "", "empty"),
    ],
)
def test_invalid_tag_values(tag: str, value: str, message: str) -> None:
    with pytest.raises(TagError, match=message.replace("*", r"\*")):
        read(tag, value)


@pytest.mark.parametrize(
    ("text", "number", "title", "hours", "tokens"),
    [
        ("Phase 1: WebSocket Server (1-1.5 hours)", "1", "WebSocket Server", (1.0, 1.5), None),
        ("Phase 3.5: Advanced Features", "3.5", "Advanced Features", None, None),
        ("Phase 6B — Automation", "6B", "Automation", None, None),
        ("Phase 2 - Setup (45 min)", "2", "Setup", (0.75, 0.75), None),
        ("Phase 2 – Setup", "2", "Setup", None, None),
        (
            "✅ Phase 1: Context Tracker Module (15-20k tokens)",
            "1",
            "Context Tracker Module",
            None,
            (15000, 20000),
        ),
        (
            "Phase 1: Fix Critical Gaps (30 min, 8-10k tokens)",
            "1",
            "Fix Critical Gaps",
            (0.5, 0.5),
            (8000, 10000),
        ),
        ("Phase 4: Analytics (Future)", "4", "Analytics (Future)", None, None),
        ("Phase 2: Rollout (Week 1-2)", "2", "Rollout (Week 1-2)", None, None),
        ("Phase 1: WebSocket Server ✅", "1", "WebSocket Server", None, None),
        ("**Phase 7: Bold Heading** (1h)", "7", "Bold Heading", (1.0, 1.0), None),
        ("PHASE 2: SHOUTING", "2", "SHOUTING", None, None),
        ("Phase 3 (2h)", "3", "", (2.0, 2.0), None),
        ("Phase 3 ✅", "3", "", None, None),
        ("Phase 1: Setup — 30 min", "1", "Setup", (0.5, 0.5), None),
        ("Phase 1: Setup - 1-1.5h", "1", "Setup", (1.0, 1.5), None),
        ("Phase 1: Setup | 45 min, 10k tokens", "1", "Setup", (0.75, 0.75), (10000, 10000)),
        ("Phase 1: Setup: 45 min", "1", "Setup", (0.75, 0.75), None),
        ("Phase 14 - 45 min", "14", "", (0.75, 0.75), None),
        ("Phase 5: Front-end - Back-end", "5", "Front-end - Back-end", None, None),
        ("Phase 7: Docs - Week 1-2", "7", "Docs - Week 1-2", None, None),
        ("Phase 13: Auth: 2 hours of pain", "13", "Auth: 2 hours of pain", None, None),
        ("Phase 2: API (Estimated: 1-2 hours)", "2", "API", (1.0, 2.0), None),
        ("Phase 8: Ops (Duration: 2h)", "8", "Ops", (2.0, 2.0), None),
        ("Phase 4: Y (Est. 15k tokens)", "4", "Y", None, (15000, 15000)),
        ("Phase 3: X [45 min]", "3", "X", (0.75, 0.75), None),
        ("Phase 12: array[0] (1h)", "12", "array[0]", (1.0, 1.0), None),
        ("Phase 1: Setup ✔️", "1", "Setup", None, None),
        ("Phase 5: Ship ✅️ COMPLETE", "5", "Ship", None, None),
        ("Phase 4: Launch 🚀", "4", "Launch 🚀", None, None),
        ("Phase\u00a01:\u00a0Setup", "1", "Setup", None, None),
        ("Phase 1: Setup (Backend) (45 min)", "1", "Setup (Backend)", (0.75, 0.75), None),
    ],
)
def test_phase_headings(
    text: str,
    number: str,
    title: str,
    hours: tuple[float, float] | None,
    tokens: tuple[int, int] | None,
) -> None:
    found = match_heading_phase(text)
    assert found is not None
    assert (found.number, found.title, found.hours, found.author_tokens) == (
        number,
        title,
        hours,
        tokens,
    )


@pytest.mark.parametrize(
    "text",
    [
        "Phase-by-Phase Estimate",
        "Phase Breakdown",
        "Phases 3-6",
        "Implementation Phases",
        "Step 3: Start with Critical Gaps (Phase 1)",
        "Breakdown by Phase",
        "Phase 2 tasks",
        "1. Phase 1: numbered",
    ],
)
def test_not_phase_headings(text: str) -> None:
    assert match_heading_phase(text) is None


def test_phase_marks() -> None:
    future = match_heading_phase("Phase 4: Session History (Future)")
    assert future is not None and future.future and not future.done
    done = match_bold_phase("**Phase 1: MVP Dashboard** ✅ COMPLETED")
    assert done is not None and done.done and done.title == "MVP Dashboard"
    postgres = match_heading_phase("Phase 2: Database (PostgreSQL)")
    assert postgres is not None and not postgres.future


def test_bold_phase_lines() -> None:
    found = match_bold_phase("**Phase 1: Fix Critical Gaps** (30 min, 8-10k tokens)")
    assert found is not None
    assert (found.title, found.hours, found.author_tokens) == (
        "Fix Critical Gaps",
        (0.5, 0.5),
        (8000, 10000),
    )
    label_only = match_bold_phase("**Phase 2:** Parser & Data Layer (60 min)")
    assert label_only is not None
    assert (label_only.title, label_only.hours) == ("Parser & Data Layer", (1.0, 1.0))
    kept = match_bold_phase("**Phase 1: Context Tracker** (~18k actual vs 15-20k estimated)")
    assert kept is not None and kept.title == "Context Tracker" and kept.author_tokens is None
    assert match_bold_phase("**Status**: Phase 1: done") is None
    assert match_bold_phase("Phase 1: not bold") is None


def test_invalid_heading_duration_is_recorded() -> None:
    found = match_heading_phase("Phase 1: Setup (2-1h)")
    assert found is not None and found.error is not None and "backwards" in found.error


def test_phase_keys() -> None:
    assert phase_key("6b") == phase_key("6B") == "6B"
    assert phase_key("01") == "1"
    assert phase_key("3.5") == "3.5"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Context Tracker", "Context Tracker Module", True),
        ("Commands", "Slash Commands", True),
        ("Testing & Docs", "Testing & Documentation", True),
        ("Critical Gaps", "Fix Critical Gaps", True),
        ("Integration & Testing", "Integration and Tests", True),
        ("", "Anything", True),
        ("Dashboard Redesign", "Dashboard Integration", False),
        ("MVP Dashboard", "Fix Critical Gaps", False),
        ("Live Data Connection", "JSONL Parser & Data Layer", False),
        ("Historical Sessions", "Analytics", False),
        ("Session Memory (Week 3-4)", "Machine Learning (Week 3-4)", False),
        ("Step 2 of 3", "Step 2", True),
    ],
)
def test_title_similarity(a: str, b: str, same: bool) -> None:
    from sessionmd.plan.parse import _similar

    assert _similar(a, b) is same
    assert _similar(b, a) is same


@pytest.mark.parametrize(
    ("heading", "other"),
    [
        ("Future Enhancements (Post-Session 3)", True),
        ("Future Phases", True),
        ("Previous Session", True),
        ("Past phases", True),
        ("Post-session ideas", True),
        ("Next Sessions", True),
        ("Roadmap", True),
        ("Backlog", True),
        ("Out of Scope", True),
        ("Deferred", True),
        ("Phase Breakdown", False),
        ("Implementation Phases", False),
        ("Next Steps", False),
        ("Session History Backend", False),
        ("Historical Context", False),
        ("Future-proof design", False),
        ("Deliverables Completed", False),
        ("The last phase", False),
        ("Prior session work", True),
    ],
)
def test_sections_about_other_work(heading: str, other: bool) -> None:
    from sessionmd.plan.parse import _OTHER_WORK

    assert (_OTHER_WORK.search(heading) is not None) is other
