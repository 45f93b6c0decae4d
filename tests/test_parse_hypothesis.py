"""Generated markdown: parse_plan never fails with anything but PlanError, is
deterministic, and never takes a phase from a code fence or an HTML comment."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sessionmd.errors import PlanError
from sessionmd.plan.models import Plan
from sessionmd.plan.parse import parse_plan

numbers = st.sampled_from(["1", "2", "3", "3.5", "6B", "6b", "01", "10", "2.1.3"])
seps = st.sampled_from([": ", " - ", " — ", " – ", ". ", ":", " ", ""])
durations = st.sampled_from(
    [
        "",
        " (1-1.5h)",
        " (45 min)",
        " (1-1.5 hours)",
        " (30 min, 8-12k tokens)",
        " (15-20k tokens)",
        " (Week 1-2)",
        " (Future)",
        " (2-1h)",
        " (0 min)",
        " (~18k actual vs 15-20k estimated)",
        " (",
        " )",
        " ((1h))",
        " — 30 min",
        " [45 min]",
        " (Estimated: 1-2 hours)",
        " - 3-2h",
        " | ",
        " [",
    ]
)
words = st.sampled_from(
    ["Setup", "Parser", "Future Work", "Phase", "Phases 3-6", "✅", "COMPLETED", "**", "`x`", "#"]
)
free_text = st.text(
    alphabet=st.sampled_from(list("abc XYZ-:*_#`~()[]|>.,0123456789✅🔴\t")), max_size=30
)
titles = st.lists(st.one_of(words, free_text), max_size=3).map(" ".join)
phase_label = st.builds(lambda n, s, t, d: f"Phase {n}{s}{t}{d}", numbers, seps, titles, durations)
heading = st.builds(
    lambda lvl, pre, body: "#" * lvl + " " + pre + body,
    st.integers(1, 7),
    st.sampled_from(["", "✅ ", "**", "🚀 "]),
    st.one_of(phase_label, titles, st.sampled_from(["Future Enhancements", "Phase Breakdown"])),
)
tag_names = st.sampled_from(
    ["Type", "Duration", "Complexity", "Libraries", "Confidence", "Estimated Tokens", "Status"]
)
tag_values = st.one_of(
    st.sampled_from(
        ["implementation", "45 minutes", "1.1 (new framework)", "Recharts, socket.io", "MEDIUM"]
    ),
    st.sampled_from(["25,000 - 32,000", "🔴 CRITICAL", "", "high", "0", "a while", "-1"]),
    free_text,
)
tag_line = st.builds(
    lambda pre, name, value: f"{pre}**{name}**: {value}",
    st.sampled_from(["", "- ", "  * ", "1. ", "> "]),
    tag_names,
    tag_values,
)
bold_phase = st.builds(lambda label, rest: f"**{label}**{rest}", phase_label, durations)
fenced = st.builds(
    lambda fence, inner: f"{fence}markdown\n{inner}\n{fence}",
    st.sampled_from(["```", "~~~", "````"]),
    st.lists(st.sampled_from(["### Phase 1: FENCED (1h)", "**Phase 2: FENCED** (1h)"]), min_size=1),
)
commented = st.just("<!--\n### Phase 4: FENCED (1h)\n-->")
block = st.one_of(
    heading,
    bold_phase,
    tag_line,
    fenced,
    commented,
    free_text,
    st.sampled_from(["", "", "---", "- item", "| a | b |", "```", "    code", "===", "\\"]),
)
documents = st.lists(block, max_size=40).map("\n".join)
frontmatters = st.sampled_from(
    [
        "",
        "---\n---\n",
        "---\nsession: 3\nstatus: planned\n---\n",
        "---\nexclude: ['Future*', 'Phase 2*']\n---\n",
        "---\nstatus: nope\n---\n",
        "---\n[unclosed\n---\n",
        "---\n",
        "\ufeff---\ntitle: x\n---\n",
    ]
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(text: str) -> Plan | PlanError:
    try:
        return parse_plan(text, "gen.md")
    except PlanError as exc:
        return exc


@SETTINGS
@given(frontmatters, documents)
def test_never_crashes_and_is_deterministic(fm: str, body: str) -> None:
    text = fm + body
    lines = text.split("\n")
    first = parse(text)
    second = parse(text)
    if isinstance(first, PlanError):
        assert isinstance(second, PlanError)
        assert (first.path, first.line, first.message) == (second.path, second.line, second.message)
        assert first.line is not None and 1 <= first.line <= len(lines)
        return
    assert isinstance(second, Plan)
    assert first == second
    keys = set()
    for phase in first.phases:
        assert "FENCED" not in phase.title
        assert "phase" in lines[phase.line - 1].lower()
        assert phase.line <= phase.block_after_line <= len(lines)
        assert phase.line not in phase.also_at
        key = phase.number.upper().lstrip("0")
        assert key not in keys
        keys.add(key)
        if phase.hours is not None:
            assert 0 < phase.hours[0] <= phase.hours[1]
    if first.phases:
        assert max(p.line for p in first.phases) <= first.total_after_line <= len(lines)
    else:
        assert first.total_after_line == 0
    for diag in first.diagnostics:
        assert 1 <= diag.line <= len(lines)


@SETTINGS
@given(documents)
def test_crlf_and_frontmatter_only_shift_nothing_but_lines(body: str) -> None:
    assume(not body.startswith("---"))  # that would be a frontmatter of its own
    plain = parse(body)
    crlf = parse(body.replace("\n", "\r\n"))
    shifted = parse("---\ntitle: t\nsession: 1\n---\n" + body)
    if isinstance(plain, PlanError):
        assert isinstance(crlf, PlanError) and crlf.line == plain.line
        assert isinstance(shifted, PlanError) and shifted.line == (plain.line or 0) + 4
        return
    assert isinstance(crlf, Plan) and isinstance(shifted, Plan)
    assert crlf.phases == plain.phases
    assert [(p.number, p.line + 4, p.block_after_line + 4) for p in plain.phases] == [
        (p.number, p.line, p.block_after_line) for p in shifted.phases
    ]


REAL_LINES = [
    p.read_text(encoding="utf-8").split("\n")
    for p in sorted((Path(__file__).parent / "fixtures" / "plans" / "realworld").glob("*.md"))
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(range(len(REAL_LINES))),
    st.lists(st.tuples(st.integers(0, 1600), st.integers(0, 1600), st.integers(0, 60)), max_size=6),
)
def test_real_plans_cut_and_spliced(which: int, edits: list[tuple[int, int, int]]) -> None:
    """Pieces of real plans moved around (fences cut open, phases duplicated) still parse."""
    lines = list(REAL_LINES[which])
    for src, dst, length in edits:
        piece = lines[src % len(lines) : src % len(lines) + length]
        at = dst % (len(lines) + 1)
        lines[at:at] = piece
    text = "\n".join(lines)
    first, second = parse(text), parse(text)
    if isinstance(first, PlanError):
        assert isinstance(second, PlanError) and str(first) == str(second)
    else:
        assert first == second


DURATIONS = {
    "": None,
    " (45 min)": (0.75, 0.75),
    " (1-1.5h)": (1.0, 1.5),
    " (2 hours, 10-12k tokens)": (2.0, 2.0),
    " (30-45 min)": (0.5, 0.75),
    " — 30 min": (0.5, 0.5),
    " [45 min]": (0.75, 0.75),
    " (Estimated: 1-2 hours)": (1.0, 2.0),
}
phase_spec = st.fixed_dictionaries(
    {
        "title": st.lists(
            st.sampled_from(["Setup", "Parser", "Writer", "Docs", "Deploy", "API"]),
            min_size=1,
            max_size=3,
        ).map(" ".join),
        "duration": st.sampled_from(sorted(DURATIONS)),
        "type": st.none() | st.sampled_from(["Implementation", "testing", "POLISH"]),
        "complexity": st.none() | st.sampled_from([0.9, 1.1, 1.25]),
        "confidence": st.none() | st.sampled_from(["LOW", "Medium", "high"]),
        "libraries": st.lists(st.sampled_from(["Recharts", "zod", "socket.io"]), unique=True),
        "tag_prefix": st.sampled_from(["", "- "]),
        "noise": st.lists(
            st.sampled_from(
                [
                    "Some words about the work.",
                    "- a list item\n- another",
                    "```md\n### Phase 99: Fake (1h)\n**Type**: nonsense\n```",
                    "<!-- ### Phase 98: Hidden -->",
                    "**Status**: 🔴 CRITICAL",
                    "#####  Deeper notes",
                    "---",
                ]
            ),
            max_size=3,
        ),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(phase_spec, max_size=8), st.sampled_from(["##", "###", "####", "bold"]))
def test_generated_plans_read_back(specs: list[dict[str, object]], form: str) -> None:
    """A plan rendered from known phases parses back to exactly those phases."""
    out = ["# Session 1: Generated", ""]
    for number, spec in enumerate(specs, 1):
        label = f"Phase {number}: {spec['title']}"
        spec["form"] = form  # one form per plan: phases side by side, none inside another
        if spec["form"] == "bold":
            out.append(f"**{label}**{spec['duration']}")
        else:
            out += [f"{spec['form']} {label}{spec['duration']}", ""]
        pre = spec["tag_prefix"]
        for tag, value in (
            ("Type", spec["type"]),
            ("Complexity", spec["complexity"]),
            ("Confidence", spec["confidence"]),
            ("Libraries", ", ".join(spec["libraries"]) or None),  # type: ignore[arg-type]
        ):
            if value is not None:
                out.append(f"{pre}**{tag}**: {value}")
        out.append("")
        for noise in spec["noise"]:  # type: ignore[attr-defined]
            out += [noise, ""]
    plan = parse_plan("\n".join(out), "gen.md")
    got = [
        (p.number, p.title, p.hours, p.type, p.complexity, p.confidence, p.libraries)
        for p in plan.phases
    ]
    want = [
        (
            str(n),
            s["title"],
            DURATIONS[s["duration"]],  # type: ignore[index]
            s["type"].lower() if s["type"] else None,  # type: ignore[attr-defined]
            s["complexity"],
            s["confidence"].lower() if s["confidence"] else None,  # type: ignore[attr-defined]
            s["libraries"],
        )
        for n, s in enumerate(specs, 1)
    ]
    assert got == want
    assert plan.skipped_headings == []
