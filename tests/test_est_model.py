"""The estimation model: PRODUCT.md's defaults, and the git-tracked model file over them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionmd.config import ProjectConfig
from sessionmd.errors import ConfigError
from sessionmd.estimate.model import EstimationModel, library_key, load_model, parse_model


def test_defaults_are_product_md() -> None:
    m = EstimationModel()
    table = {
        name: (t.base_tokens, t.tokens_per_hour, t.confidence) for name, t in m.task_types.items()
    }
    assert table == {
        "planning": (15_000, 20_000, "high"),
        "implementation": (25_000, 45_000, "medium"),
        "refactoring": (30_000, 55_000, "medium"),
        "testing": (18_000, 30_000, "high"),
        "debugging": (20_000, 35_000, "low"),
        "polish": (12_000, 20_000, "high"),
    }
    assert m.multipliers.project_size == {
        "small": 0.8,
        "medium": 1.0,
        "large": 1.3,
        "enterprise": 1.6,
    }
    assert m.multipliers.tech_stack == {"familiar": 0.9, "learning": 1.2, "new": 1.5}
    assert m.multipliers.code_quality == {"clean": 0.9, "mixed": 1.0, "legacy": 1.4}
    assert m.libraries == {"default": 5_000}
    assert m.confidence_spread == {"high": 0.15, "medium": 0.25, "low": 0.40}
    assert (m.buffer, m.round_to, m.name) == (0.2, 100, "default")


def test_no_model_file_gives_defaults(tmp_path: Path) -> None:
    assert load_model(tmp_path, ProjectConfig()) == EstimationModel()


def test_partial_override_merges(tmp_path: Path) -> None:
    (tmp_path / "sessionmd-model.yaml").write_text(
        "version: 1\n"
        "task_types:\n"
        "  implementation: {tokens_per_hour: 48000}\n"
        "  research: {base_tokens: 10000, tokens_per_hour: 25000, confidence: low}\n"
        "multipliers:\n"
        "  tech_stack: {familiar: 0.85}\n"
        "libraries:\n"
        "  recharts: 8000\n"
        "confidence_spread: {medium: 0.2}\n",
        encoding="utf-8",
    )
    m = load_model(tmp_path, ProjectConfig())
    impl = m.task_types["implementation"]
    assert (impl.base_tokens, impl.tokens_per_hour, impl.confidence) == (25_000, 48_000, "medium")
    assert m.task_types["research"].confidence == "low"
    assert m.task_types["planning"].base_tokens == 15_000
    assert m.multipliers.tech_stack == {"familiar": 0.85, "learning": 1.2, "new": 1.5}
    assert m.libraries == {"default": 5_000, "recharts": 8_000}
    assert m.library_cost("ReCharts") == (8_000, True)
    assert m.library_cost("D3") == (5_000, False)
    assert m.confidence_spread["medium"] == 0.2 and m.confidence_spread["low"] == 0.4
    # named after the file's relative path, never a machine path
    assert m.name == "sessionmd-model.yaml"


def test_model_file_from_config_and_its_name(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "model.yaml").write_text("name: team-2026-11\n", encoding="utf-8")
    m = load_model(tmp_path, ProjectConfig(model_file="conf/model.yaml"))
    assert m.name == "team-2026-11"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("task_types:\n  testing:\n    base_tokens: lots\n", 3, "task_types.testing.base_tokens"),
        ("multipliers:\n  tech_stack:\n    new: -1\n", 3, "greater than 0"),
        ("confidence_spread:\n  low: 1.5\n", 2, "confidence_spread.low"),
        ("task_types:\n  research: {base_tokens: 1}\n", 2, "tokens_per_hour"),
        ("speed: 3\n", 1, "speed"),
        ("libraries: [a, b]\n", 1, "libraries"),
        ("version: 2\n", 1, "version 2 is not supported"),
        ("task_types: {a: 1\n", 2, "invalid YAML"),
        ("- a\n- b\n", 1, "mapping"),
    ],
)
def test_bad_model_file(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "sessionmd-model.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_model(tmp_path, ProjectConfig())
    assert info.value.path == str(path)
    assert info.value.line == line
    assert words in str(info.value)
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_model_file_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "sessionmd-model.yaml").write_bytes(b"name: \xff\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_model(tmp_path, ProjectConfig())


def test_empty_model_file_is_the_defaults() -> None:
    assert parse_model("# nothing yet\n", "m.yaml") == EstimationModel()


def test_library_key() -> None:
    assert library_key("Socket.io") == library_key("socketio") == library_key("socket-IO")
    assert library_key("Next.js") == "nextjs"


def test_a_model_must_be_complete() -> None:
    with pytest.raises(ValueError, match="confidence_spread lacks high, low"):
        EstimationModel.model_validate({"confidence_spread": {"medium": 0.2}})
    with pytest.raises(ValueError, match="libraries lacks `default`"):
        EstimationModel.model_validate({"libraries": {"recharts": 8_000}})


def test_task_type_names_are_lower_case() -> None:
    m = parse_model(
        "task_types:\n  Research: {base_tokens: 1, tokens_per_hour: 2, confidence: low}\n", "m"
    )
    assert "research" in m.task_types
    with pytest.raises(ConfigError, match="differ only in case"):
        parse_model(
            "task_types:\n"
            "  Research: {base_tokens: 1, tokens_per_hour: 2, confidence: low}\n"
            "  research: {base_tokens: 1, tokens_per_hour: 2, confidence: low}\n",
            "m",
        )


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_model_or_a_config_error(text: str) -> None:
    try:
        model = parse_model(text, "m.yaml")
    except ConfigError as err:
        assert str(err).startswith("m.yaml")
    else:
        assert isinstance(model, EstimationModel)


yaml_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(-2, 2), st.text(max_size=5)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
model_keys = st.sampled_from(
    ["task_types", "multipliers", "libraries", "confidence_spread", "buffer", "round_to", "name"]
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(model_keys, yaml_values, max_size=3))
def test_structured_garbage_is_a_config_error_with_a_line(data: dict[str, object]) -> None:
    import yaml

    text = yaml.safe_dump(data)
    try:
        parse_model(text, "m.yaml")
    except ConfigError as err:
        assert err.path == "m.yaml" and err.line is not None and err.line >= 1
