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
from sessionmd.plan.compile import compile_plan, freshness, load_inputs
from sessionmd.plan.freshness import is_record, quick_freshness

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


def test_a_frontmatter_that_cannot_take_the_section_is_refused_at_its_end() -> None:
    text = "---\n{a: 1}\n---\n## Phase 1: A (1h)\n"
    with pytest.raises(PlanError, match="end the frontmatter with a plain") as caught:
        compile_plan("p.md", text, MODEL, CONFIG, SALT)
    assert caught.value.line == 3


@pytest.mark.parametrize(
    "yaml_text", ["notes: |\n  line one\n", "a: 1\n# trailing comment\n", "list:\n  - x\n", ""]
)
def test_the_section_is_appended_to_any_block_mapping(yaml_text: str) -> None:
    import yaml

    text = f"---\n{yaml_text}---\n## Phase 1: A (1h)\n"
    new = compile_plan("p.md", text, MODEL, CONFIG, SALT).new_text
    data = yaml.safe_load(new.split("---\n")[1])
    assert data["estimate"]["mid"] > 0
    assert new.startswith(f"---\n{yaml_text}# sessionmd:estimate:begin sha256=")


def test_generator_source_is_part_of_the_salt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A renderer changed without a version bump must not be vouched for by old digests."""
    package = Path(digest.__file__).resolve().parent.parent
    fake = tmp_path / "sessionmd"
    for name in ("config.py", "quota.py", "errors.py"):
        (fake / name).parent.mkdir(parents=True, exist_ok=True)
        (fake / name).write_bytes((package / name).read_bytes())
    for folder in ("plan", "estimate"):
        (fake / folder).mkdir()
        for source in (package / folder).glob("*.py"):
            (fake / folder / source.name).write_bytes(source.read_bytes())
    monkeypatch.setattr(digest, "__file__", str(fake / "plan" / "digest.py"))
    digest.generator_id.cache_clear()
    try:
        before = digest.salt(None, None)
        render = fake / "estimate" / "render.py"
        render.write_text(render.read_text() + "\n# changed\n")
        digest.generator_id.cache_clear()
        assert digest.salt(None, None) != before
        (fake / "plan" / "write.py").write_text("# not a generator module\n")
        after = digest.salt(None, None)
        digest.generator_id.cache_clear()
        assert digest.salt(None, None) == after
    finally:
        digest.generator_id.cache_clear()


def test_new_code_with_the_same_figures_only_refreshes_the_digest() -> None:
    from sessionmd.plan.compile import changes_since

    text = REALWORLD[0].read_text(encoding="utf-8")
    old = compile_plan("p.md", text, MODEL, CONFIG, digest.salt(b"old code", None)).new_text
    again = compile_plan("p.md", old, MODEL, CONFIG, SALT)
    assert again.changed
    assert not again.content_changed
    assert freshness(again) == "current"  # --check passes: the estimate is right
    assert changes_since(again) == [
        "estimate unchanged; only its digest was refreshed (new sessionmd code)"
    ]
