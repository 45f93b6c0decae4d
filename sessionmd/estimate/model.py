"""The estimation model: task types, multipliers, library costs, confidence spreads.

The defaults are the original plan's figures (PRODUCT.md, "Estimation model"). A team
overrides them in a git-tracked YAML file at the repo root (``sessionmd-model.yaml`` by
default, ``model_file`` in ``sessionmd.yaml``), so a change to the model is reviewed in
a pull request like any other change. The learning loop (``sessionmd learn``) will write
the same file, so its format stays small and flat::

    # sessionmd-model.yaml: every key is optional; what is left out keeps its default.
    version: 1
    name: team-2026-11             # shown as `model:` in each plan's estimate section
    task_types:
      implementation: {base_tokens: 25000, tokens_per_hour: 48000}
      research: {base_tokens: 10000, tokens_per_hour: 25000, confidence: low}  # a new type
    multipliers:
      tech_stack: {familiar: 0.85}
    libraries:
      default: 5000                # integration cost of a library the model does not know
      recharts: 8000               # names are matched ignoring case and punctuation
      socket.io: 5000
    confidence_spread: {medium: 0.2}
    buffer: 0.2                    # the +20% buffer of the totals
    round_to: 100                  # every phase figure is rounded to this many tokens

Partial overrides merge over the defaults key by key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sessionmd.config import ProjectConfig
from sessionmd.errors import ConfigError
from sessionmd.plan.models import Confidence

MODEL_FORMAT_VERSION = 1
DEFAULT_MODEL_NAME = "default"

Multiplier = Annotated[float, Field(gt=0)]
Spread = Annotated[float, Field(ge=0, lt=1)]
Cost = Annotated[int, Field(ge=0)]


class TaskTypeModel(BaseModel):
    """What one kind of work costs: a fixed base plus a rate per hour of work."""

    model_config = ConfigDict(extra="forbid")

    base_tokens: int = Field(ge=0, description="Tokens a phase of this type costs at any length.")
    tokens_per_hour: int = Field(ge=0, description="Tokens per hour of the phase's duration.")
    confidence: Confidence = Field(description="Default confidence of a phase of this type.")


def _default_task_types() -> dict[str, TaskTypeModel]:
    rows: dict[str, tuple[int, int, Confidence]] = {
        "planning": (15_000, 20_000, "high"),
        "implementation": (25_000, 45_000, "medium"),
        "refactoring": (30_000, 55_000, "medium"),
        "testing": (18_000, 30_000, "high"),
        "debugging": (20_000, 35_000, "low"),
        "polish": (12_000, 20_000, "high"),
    }
    return {
        name: TaskTypeModel(base_tokens=base, tokens_per_hour=rate, confidence=conf)
        for name, (base, rate, conf) in rows.items()
    }


def _default_spreads() -> dict[Confidence, float]:
    return {"high": 0.15, "medium": 0.25, "low": 0.40}


class Multipliers(BaseModel):
    """Session-wide factors, chosen in the plan's frontmatter; an unset one counts as 1.0."""

    model_config = ConfigDict(extra="forbid")

    project_size: dict[str, Multiplier] = Field(
        default_factory=lambda: {"small": 0.8, "medium": 1.0, "large": 1.3, "enterprise": 1.6}
    )
    tech_stack: dict[str, Multiplier] = Field(
        default_factory=lambda: {"familiar": 0.9, "learning": 1.2, "new": 1.5}
    )
    code_quality: dict[str, Multiplier] = Field(
        default_factory=lambda: {"clean": 0.9, "mixed": 1.0, "legacy": 1.4}
    )


class EstimationModel(BaseModel):
    """Everything the one estimation formula reads besides the plan itself."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(MODEL_FORMAT_VERSION, description="Format version of the model file.")
    name: str = Field(
        DEFAULT_MODEL_NAME, description="Shown as `model:` in the estimate section of each plan."
    )
    task_types: dict[str, TaskTypeModel] = Field(default_factory=_default_task_types)
    multipliers: Multipliers = Field(default_factory=Multipliers)
    libraries: dict[str, Cost] = Field(
        default_factory=lambda: {"default": 5_000},
        description="Integration cost of a new library; `default` for one not listed.",
    )
    confidence_spread: dict[Confidence, Spread] = Field(
        default_factory=_default_spreads,
        description="How far low and high lie below and above the range ends.",
    )
    buffer: float = Field(0.2, ge=0, description="The totals' buffer on top of the mid.")
    round_to: int = Field(100, ge=1, description="Phase figures are rounded to this many tokens.")

    @model_validator(mode="after")
    def _complete(self) -> EstimationModel:
        """Every confidence needs a spread and unknown libraries a cost: no hidden constants."""
        missing = {"low", "medium", "high"} - set(self.confidence_spread)
        if missing:
            raise ValueError(f"confidence_spread lacks {', '.join(sorted(missing))}")
        if "default" not in self.libraries:
            raise ValueError("libraries lacks `default`, the cost of a library not listed")
        # plans' **Type** values are read lower-cased, so the model's names are too
        lowered = {" ".join(name.lower().split()): t for name, t in self.task_types.items()}
        if len(lowered) != len(self.task_types):
            raise ValueError("task_types names differ only in case or spacing")
        self.task_types = lowered
        return self

    def library_cost(self, name: str) -> tuple[int, bool]:
        """(cost, known): the library's own cost when the model lists it, else the default."""
        key = library_key(name)
        for listed, cost in self.libraries.items():
            if listed != "default" and library_key(listed) == key:
                return cost, True
        return self.libraries["default"], False


def library_key(name: str) -> str:
    """Library names match ignoring case and punctuation: Socket.io = socketio = socket-io."""
    return re.sub(r"[^0-9a-z]+", "", name.lower())


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _line_of(node: Any, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (as deep as the file goes)."""
    import yaml

    line: int | None = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        for key_node, value_node in node.value:
            if str(key_node.value) == str(part):
                node = value_node
                line = key_node.start_mark.line + 1
                break
        else:
            break
    return line


def parse_model(text: str, path: str) -> EstimationModel:
    """The model from a model file's text: defaults with the file's values merged over them."""
    import yaml

    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"invalid YAML: {getattr(err, 'problem', err)}", path, line) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping at the top level", path, 1)
    version = data.get("version", MODEL_FORMAT_VERSION)
    if version != MODEL_FORMAT_VERSION:
        raise ConfigError(
            f"model file version {version!r} is not supported (expected {MODEL_FORMAT_VERSION})",
            path,
            _line_of(root, ("version",)),
        )
    merged = _merge(EstimationModel().model_dump(), data)
    try:
        return EstimationModel.model_validate(merged)
    except ValidationError as err:
        first = err.errors()[0]
        loc = tuple(first["loc"])
        where = ".".join(str(p) for p in loc)
        raise ConfigError(f"{where}: {first['msg']}", path, _line_of(root, loc)) from None


def load_model(root: Path, config: ProjectConfig) -> EstimationModel:
    """The project's model: ``root / config.model_file`` over the defaults, or the defaults.

    When the file sets no ``name``, the model is named after the file's path relative to
    the root (never an absolute path), so the text written into plans is the same on every
    machine.
    """
    path = root / config.model_file
    if not path.is_file():
        return EstimationModel()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8", str(path)) from None
    model = parse_model(text, str(path))
    if "name" not in (_top_keys(text)):
        model = model.model_copy(update={"name": Path(config.model_file).as_posix()})
    return model


def _top_keys(text: str) -> set[str]:
    import yaml

    data = yaml.safe_load(text)
    return set(data) if isinstance(data, dict) else set()
