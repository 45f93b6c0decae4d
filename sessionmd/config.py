"""Project configuration: ``sessionmd.yaml`` at the root of the user's repo (optional).

The config is git-tracked, so a team shares its quota, token measure and layout. Values
that belong to one machine (snapshots, derived limits, cache) live under
``sessionmd.paths`` instead.

Example ``sessionmd.yaml``::

    quota: max5            # or a token count, or auto
    timezone: Europe/Berlin
    token_measure: [input, output, cache_creation]
    weekly: {limit: 2000000, reset_weekday: 0, reset_hour: 9}
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sessionmd.errors import ConfigError

CONFIG_FILE = "sessionmd.yaml"
TokenKind = Literal["input", "output", "cache_creation", "cache_read"]
DEFAULT_MEASURE: tuple[TokenKind, ...] = ("input", "output", "cache_creation")


class WeeklyWindow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(None, description="Tokens per 7-day window, in the token measure.")
    reset_weekday: int = Field(0, ge=0, le=6, description="0 = Monday.")
    reset_hour: int = Field(0, ge=0, le=23, description="Local hour the week starts.")


class ProjectConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plans_dir: str = "plans"
    handoffs_dir: str = "handoffs"
    model_file: str = Field(
        "sessionmd-model.yaml", description="Estimation model overrides, relative to the root."
    )
    quota: int | str | None = Field(
        None, description="Tokens per 5-hour window, or pro / max5 / max20 / auto."
    )
    token_measure: list[TokenKind] = Field(
        default_factory=lambda: list(DEFAULT_MEASURE),
        description="Token kinds that count towards estimates, actuals and limits.",
    )
    timezone: str | None = Field(None, description="IANA zone for output; default: the system's.")
    weekly: WeeklyWindow = Field(default_factory=WeeklyWindow)
    exclude_sections: list[str] = Field(
        default_factory=list, description="Headings whose sections are never read for phases."
    )


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding ``sessionmd.yaml`` or ``.git``."""
    start = start.resolve()
    here = start if start.is_dir() else start.parent
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file() or (folder / ".git").exists():
            return folder
    return here


def load_config(root: Path) -> ProjectConfig:
    """Read ``root/sessionmd.yaml``; defaults when it does not exist."""
    path = root / CONFIG_FILE
    if not path.is_file():
        return ProjectConfig()
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(
            f"invalid YAML: {getattr(err, 'problem', err)}", str(path), line
        ) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8", str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping at the top level", str(path), 1)
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{loc}: {first['msg']}", str(path)) from None
