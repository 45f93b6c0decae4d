"""The lossless block model: markers, split/strip/apply, and bad markers with their lines."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionmd.errors import PlanError
from sessionmd.plan.blocks import apply, is_delimiter, split, strip
from sessionmd.plan.models import Phase, Plan, PlanFrontmatter

YAML = "estimate:\n  mid: 1\n"


def _plan(phases: list[tuple[str, int, int]], total_after: int = 0) -> Plan:
    return Plan(
        path="p.md",
        frontmatter=PlanFrontmatter(),
        phases=[
            Phase(number=n, title="T", line=line, block_after_line=after)
            for n, line, after in phases
        ],
        total_after_line=total_after,
    )


def _apply(text: str, plan: Plan, body: str = "est\n") -> str:
    return apply(text, plan, {p.number: body for p in plan.phases}, "total\n", YAML)


# --- hand-written cases -------------------------------------------------------------


def test_blocks_go_after_their_lines_and_frontmatter_is_created() -> None:
    text = "# Plan\n\n## Phase 1: A (1h)\nwork\n"
    out = _apply(text, _plan([("1", 3, 0)]))
    assert out == (
        "---\n"
        "# sessionmd:estimate:begin created=frontmatter\n"
        "estimate:\n  mid: 1\n"
        "# sessionmd:estimate:end\n"
        "---\n"
        "# Plan\n\n## Phase 1: A (1h)\n"
        "<!-- sessionmd:estimate phase=1 -->\nest\n<!-- /sessionmd:estimate -->\n"
        "work\n"
        "<!-- sessionmd:total -->\ntotal\n<!-- /sessionmd:total -->\n"
    )
    assert strip(out) == text


def test_user_frontmatter_keeps_keys_order_and_comments() -> None:
    text = "---\n# my comment\nz: 1  # trailing\na: [1, 2]\n---\nbody\n"
    out = _apply(text, _plan([]))
    assert out.startswith(
        "---\n# my comment\nz: 1  # trailing\na: [1, 2]\n# sessionmd:estimate:begin\n"
    )
    assert "created=" not in out
    assert strip(out) == text


def test_crlf_bom_and_missing_final_newline_survive() -> None:
    text = "\ufeff## Phase 1: A\r\nlast line without newline"
    out = _apply(text, _plan([("1", 1, 0)]))
    assert out.startswith("\ufeff---\r\n")
    assert not out.endswith("\n")
    assert "\n" not in out.replace("\r\n", "")  # every generated line uses CRLF
    assert strip(out) == text


def test_block_after_the_last_line_without_newline() -> None:
    text = "a\n## Phase 1: A"
    out = _apply(text, _plan([("1", 2, 0)]))
    assert out.endswith(
        "## Phase 1: A\n<!-- sessionmd:estimate phase=1 -->\nest\n<!-- /sessionmd:estimate -->\n<!-- sessionmd:total -->\ntotal\n<!-- /sessionmd:total -->"
    )
    assert strip(out) == text


def test_markers_in_code_are_text_and_blocks_never_land_in_a_fence() -> None:
    text = "## Phase 1: A\n```md\n<!-- sessionmd:total -->\n```\n~~~\nunclosed fence\n"
    out = _apply(text, _plan([("1", 1, 3)]))
    parts = split(out)
    assert [b.kind for b in parts.blocks] == ["frontmatter:estimate", "estimate", "total"]
    lines = out.split("\n")
    # the phase block asked for line 3 (inside the fence): it goes before the fence
    assert lines.index("<!-- sessionmd:estimate phase=1 -->") < lines.index("```md")
    # the total (end of file, inside the unclosed ~~~ fence) goes before that fence
    assert lines.index("<!-- /sessionmd:total -->") < lines.index("~~~")
    assert strip(out) == text


def test_created_frontmatter_adopted_by_the_user_is_kept() -> None:
    out = _apply("body\n", _plan([]))
    edited = out.replace("---\nbody", "owner: me\n---\nbody")
    assert strip(edited) == "---\nowner: me\n---\nbody\n"


def test_line_map_points_at_original_lines() -> None:
    out = _apply("a\nb\nc\n", _plan([("1", 1, 0)]))
    parts = split(out)
    assert parts.stripped == "a\nb\nc\n"
    lines = out.split("\n")
    assert [lines[n - 1] for n in parts.line_map] == ["a", "b", "c"]


def test_apply_refuses_text_that_still_has_blocks() -> None:
    out = _apply("a\n", _plan([]))
    with pytest.raises(PlanError, match="strip it first"):
        _apply(out, _plan([]))


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a\n<!-- sessionmd:total -->\nx\n<!-- sessionmd:total -->\n", 4, "nested"),
        ("a\n<!-- sessionmd:total -->\nx\n", 2, "never closed"),
        ("a\nb\n<!-- /sessionmd:total -->\n", 3, "without its begin"),
        ("<!-- sessionmd:estimate phase=1 -->\n<!-- /sessionmd:total -->\n", 2, "still open"),
        ("a\n<!-- sessionmd:bogus -->\n", 2, "unknown or malformed sessionmd marker"),
        ("a\n<!--sessionmd:total-->\n", 2, "unknown or malformed sessionmd marker"),
        ("---\n# sessionmd:estimate:begin\n# sessionmd:estimate:begin\n---\n", 3, "nested"),
        ("---\na: 1\n# sessionmd:estimate:begin\n---\n", 3, "never closed"),
        ("---\n# sessionmd:estimate:end\n---\n", 2, "without its begin"),
        ("---\n# sessionmd:actuals:begin\n---\n", 2, "unknown or malformed sessionmd marker"),
    ],
)
def test_bad_markers_name_path_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(PlanError) as caught:
        split(text, "plans/x.md")
    assert caught.value.path == "plans/x.md"
    assert caught.value.line == line
    assert words in caught.value.message
    assert str(caught.value).startswith(f"plans/x.md:{line}: ")


def test_frontmatter_markers_outside_the_frontmatter_are_user_text() -> None:
    text = "# sessionmd:estimate:begin is a heading here\n"
    assert strip(text) == text


# --- properties -------------------------------------------------------------------

MARKER_TEXTS = [
    "<!-- sessionmd:estimate phase=1 -->",
    "<!-- /sessionmd:estimate -->",
    "<!-- sessionmd:total -->",
    "<!-- /sessionmd:total -->",
    "<!-- sessionmd:bogus -->",
    "# sessionmd:estimate:begin sha256=00",
    "# sessionmd:estimate:end",
]
_PREFIXES = ("<!--", "# sessionmd:")


def _free_line(fences: bool) -> st.SearchStrategy[str]:
    """Any line text (CR, BOM, U+2028 ...) that is not a marker and, if asked, opens no fence."""
    text = st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"),
        max_size=24,
    )
    return text.filter(
        lambda s: (
            not s.startswith(_PREFIXES) and (fences or not s.lstrip(" ").startswith(("```", "~~~")))
        )
    )


def _chunks(fences: bool) -> st.SearchStrategy[list[str]]:
    options = [
        _free_line(fences).map(lambda s: [s]),
        st.sampled_from(
            ["## Phase 1: A (1-2h)", "### Phase 2: B", "---", "----- ", "...", "", "    code"]
        ).map(lambda s: [s]),
        # markers inside a fence, indented, or after text: never sessionmd's
        st.lists(st.sampled_from(MARKER_TEXTS), min_size=1, max_size=3).map(
            lambda ms: ["```", *ms, "```"]
        ),
        st.sampled_from(MARKER_TEXTS).map(lambda m: ["    " + m]),
        st.sampled_from(MARKER_TEXTS).map(lambda m: ["see " + m]),
    ]
    if fences:
        options.append(st.sampled_from(["```", "~~~~", " ```python"]).map(lambda s: [s]))
    return st.one_of(options)


@st.composite
def documents(draw: st.DrawFn) -> str:
    fences = draw(st.booleans())  # unbalanced fences only without fake markers after them
    chunks = draw(st.lists(_chunks(fences), max_size=14))
    lines = [line for chunk in chunks for line in chunk]
    if fences:
        lines = [ln for ln in lines if ln.strip() not in MARKER_TEXTS]
    if draw(st.booleans()):
        lines = ["---", "title: x  # comment", "tags: [a, b]", "---", *lines]
    elif lines and is_delimiter(lines[0]):
        # the text opens a frontmatter of its own, where a '# sessionmd:' line is a marker
        close = next((i for i in range(1, len(lines)) if is_delimiter(lines[i])), 0)
        lines = [
            ln
            for i, ln in enumerate(lines)
            if not (0 < i < close and ln.startswith("# sessionmd:"))
        ]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines)
    if lines and draw(st.booleans()):
        text += newline
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text


@st.composite
def placements(draw: st.DrawFn, text: str) -> Plan:
    count = text.count("\n") + 1
    numbers = draw(st.lists(st.sampled_from(["1", "2", "3.5", "6B"]), unique=True, max_size=4))
    phases = [(n, draw(st.integers(1, count)), draw(st.integers(0, count + 1))) for n in numbers]
    return _plan(phases, draw(st.integers(0, count + 1)))


BODIES = st.text(alphabet="ab -*`~\n\r>", max_size=30)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), text=documents(), body=BODIES)
def test_apply_then_strip_gives_back_the_original(
    data: st.DataObject, text: str, body: str
) -> None:
    plan = data.draw(placements(text))
    out = apply(text, plan, {p.number: body for p in plan.phases}, body, YAML)
    parts = split(out)
    assert parts.stripped == text
    assert len(parts.blocks) == len(plan.phases) + 2
    # the same input gives the same output: a second compile is byte-identical
    assert apply(parts.stripped, plan, {p.number: body for p in plan.phases}, body, YAML) == out
    # every original line is where the line map says
    original = out.removeprefix("\ufeff").split("\n")
    stripped = text.removeprefix("\ufeff").split("\n")
    for index, number in enumerate(parts.line_map):
        assert original[number - 1].rstrip("\r") == stripped[index].rstrip("\r")


@settings(max_examples=200, deadline=None)
@given(text=documents())
def test_text_without_blocks_strips_to_itself(text: str) -> None:
    assert strip(text) == text


@pytest.mark.parametrize("text", ["\r", "a\nb\r", "a\r\nb\r", "\ufeff\r"])
def test_last_line_ending_in_a_lone_cr_keeps_it(text: str) -> None:
    """Found by hypothesis: the newline added before a block at the end must go exactly."""
    out = _apply(text, _plan([]))
    assert strip(out) == text
