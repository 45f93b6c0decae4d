"""compile_plan on real and generated plans: lossless, idempotent, and the --check digest."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from sessionmd.config import ProjectConfig
from sessionmd.errors import PlanError
from sessionmd.estimate.model import EstimationModel
from sessionmd.plan import digest
from sessionmd.plan.blocks import strip
from sessionmd.plan.compile import (
    compile_plan,
    freshness,
    is_record,
    load_inputs,
    quick_freshness,
)

REALWORLD = sorted((Path(__file__).parent / "fixtures" / "plans" / "realworld").glob("*.md"))
MODEL = EstimationModel()
CONFIG = ProjectConfig()
SALT = digest.salt(None, None)


@pytest.mark.parametrize("path", REALWORLD, ids=lambda p: p.name)
def test_real_plans_compile_losslessly_and_idempotently(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    first = compile_plan(path.name, text, MODEL, CONFIG, SALT)
    assert strip(first.new_text) == text
    second = compile_plan(path.name, first.new_text, MODEL, CONFIG, SALT)
    assert second.new_text == first.new_text
    assert not second.changed
    assert quick_freshness(path.name, first.new_text, SALT) == "current"
    assert freshness(first) == "missing"
    assert freshness(second) == "current"
    # every phase's line is its heading in both the old and the new file
    for pe in first.estimate.phases:
        for written, source in ((False, text), (True, first.new_text)):
            line = source.split("\n")[first.file_line(pe.line, written) - 1]
            assert f"Phase {pe.number}" in line


def test_digest_changes_with_every_input() -> None:
    text = (REALWORLD[0]).read_text(encoding="utf-8")
    compiled = compile_plan("p.md", text, MODEL, CONFIG, SALT).new_text
    assert digest.is_current(compiled, SALT)
    assert not digest.is_current(compiled, digest.salt(b"buffer: 0.3\n", None))
    assert not digest.is_current(compiled, digest.salt(None, b"quota: pro\n"))
    assert not digest.is_current(compiled, digest.salt(b"", None))  # empty is not missing
    assert not digest.is_current(compiled.replace("Phase", "Phaze", 1), SALT)
    assert not digest.is_current(compiled + "\n", SALT)
    assert digest.recorded(compiled) is not None
    assert digest.is_current(digest.seal(digest.without_digest(compiled), SALT), SALT)


def test_quick_check_recognises_a_record_without_parsing() -> None:
    stale = "---\nstatus: done\n---\n## Phase 1: A (1h)\n"
    assert is_record(stale)
    assert quick_freshness("p.md", stale, SALT) == "record"
    assert quick_freshness("p.md", "## Phase 1: A (1h)\n", SALT) is None


def test_user_estimate_key_is_refused_with_its_line() -> None:
    with pytest.raises(PlanError) as caught:
        compile_plan("p.md", "---\ntitle: x\nestimate: 5\n---\n", MODEL, CONFIG, SALT)
    assert caught.value.line == 3


def test_parser_errors_point_at_the_file_line_not_the_stripped_line() -> None:
    text = "## Phase 1: A (1h)\n**Duration**: 1h\n\n## Phase 2: B\n**Type**: dancing\n"
    compiled = compile_plan("p.md", text.replace("dancing", "testing"), MODEL, CONFIG, SALT)
    broken = compiled.new_text.replace("**Type**: testing", "**Type**: dancing")
    with pytest.raises(PlanError) as caught:
        compile_plan("p.md", broken, MODEL, CONFIG, SALT)
    line = caught.value.line
    assert line is not None
    assert "Phase 2: B" in broken.split("\n")[line - 1]


def test_load_inputs_reads_model_and_config(tmp_path: Path) -> None:
    (tmp_path / "sessionmd.yaml").write_text("quota: max5\n")
    inputs = load_inputs(tmp_path)
    assert inputs.config.quota == "max5"
    assert inputs.salt == digest.salt(None, b"quota: max5\n")


# --- generated plans ---------------------------------------------------------------

_words = st.text(alphabet="abcdefgh ", min_size=1, max_size=12).map(str.strip).filter(bool)
_durations = st.sampled_from(
    ["", " (1h)", " (30 min)", " (1-1.5 hours)", " (45 min, 8-12k tokens)"]
)
_tags = st.sampled_from(
    [
        "**Type**: testing",
        "**Duration**: 45 minutes",
        "**Complexity**: 1.1 (new framework)",
        "**Libraries**: Recharts",
        "**Confidence**: HIGH",
        "**Status**: 🔴 CRITICAL PRIORITY",
        "**Estimated Tokens**: 25,000 - 32,000",
    ]
)


@st.composite
def plans(draw: st.DrawFn) -> str:
    lines: list[str] = []
    if draw(st.booleans()):
        lines += ["---", "title: generated  # keep me", "quota: max5", "---"]
    lines += [f"# {draw(_words)}", ""]
    count = draw(st.integers(0, 6))
    for number in range(1, count + 1):
        level = draw(st.sampled_from(["##", "###"]))
        lines.append(f"{level} Phase {number}: {draw(_words)}{draw(_durations)}")
        lines += draw(st.lists(_tags, max_size=3, unique=True))
        lines += draw(
            st.lists(
                st.sampled_from(
                    [
                        "",
                        "plain text",
                        "```",
                        "```\n<!-- sessionmd:total -->\n```",
                        "see `<!-- sessionmd:total -->`",
                        "    <!-- /sessionmd:estimate -->",
                        "- item",
                        "---",
                        "### Phase-by-Phase Estimate",
                    ]
                ),
                max_size=4,
            )
        )
    lines = [part for line in lines for part in line.split("\n")]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    return ("\ufeff" if draw(st.booleans()) else "") + text


@settings(max_examples=150, deadline=None)
@given(text=plans())
def test_generated_plans_never_crash_and_round_trip(text: str) -> None:
    try:
        first = compile_plan("gen.md", text, MODEL, CONFIG, SALT)
    except PlanError as err:
        event(f"bad input: {err.message[:30]}")
        # bad input is reported with a line of the file, never a crash
        assert err.path == "gen.md"
        assert err.line is None or 1 <= err.line <= text.count("\n") + 1
        return
    event(f"compiled, {len(first.estimate.phases)} phases")
    assert strip(first.new_text) == text
    second = compile_plan("gen.md", first.new_text, MODEL, CONFIG, SALT)
    assert second.new_text == first.new_text
    assert quick_freshness("gen.md", first.new_text, SALT) == "current"
