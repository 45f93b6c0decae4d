"""The plan as sessionmd reads it: frontmatter, phases and their tags.

These pydantic models are the contract between the parser (``sessionmd.plan``), the
estimator (``sessionmd.estimate``) and later streams (handoffs, tracking, learning).
``schemas/`` holds JSON Schemas generated from the frontmatter models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TaskType = str  # a key of the estimation model's task types (validated against the model)
Confidence = Literal["low", "medium", "high"]
PlanStatus = Literal["planned", "in_progress", "done"]
ProjectSize = Literal["small", "medium", "large", "enterprise"]
TechStack = Literal["familiar", "learning", "new"]
CodeQuality = Literal["clean", "mixed", "legacy"]


class PlanFrontmatter(BaseModel):
    """YAML frontmatter of ``plans/SESSION_N_PLAN.md``; every field is optional.

    Unknown keys are kept (users write their own); ``estimate`` and ``actual`` are owned
    by sessionmd and written between its own YAML comment markers.
    """

    model_config = ConfigDict(extra="allow")

    session: int | str | None = Field(None, description="Session number or id, e.g. 3 or '6B'.")
    title: str | None = None
    status: PlanStatus | None = Field(
        None, description="A plan marked done is a record: its estimate is never rewritten."
    )
    agent: str | None = Field(None, description="Claude Code agent to start the session with.")
    model: str | None = Field(None, description="Claude model, e.g. claude-sonnet-4-5.")
    project: str | None = Field(None, description="Project directory the session runs in.")
    quota: int | str | None = Field(
        None, description="Token limit of one 5-hour window, or a preset: pro, max5, max20, auto."
    )
    scheduled_for: datetime | None = Field(None, description="ISO 8601 start time with offset.")
    notify_before: int | str | None = Field(None, description="Minutes, or a duration like '5m'.")
    project_size: ProjectSize | None = None
    tech_stack: TechStack | None = None
    code_quality: CodeQuality | None = None
    exclude: list[str] = Field(
        default_factory=list,
        description="Headings (exact text or glob) whose sections hold no phases to estimate.",
    )
    estimate: dict[str, Any] | None = Field(None, description="Written by sessionmd estimate.")
    actual: dict[str, Any] | None = Field(None, description="Written by sessionmd track.")


class HandoffFrontmatter(BaseModel):
    """YAML frontmatter of ``handoffs/*.md``: what the scheduler and launcher read."""

    model_config = ConfigDict(extra="allow")

    session: int | str | None = None
    from_session: int | str | None = None
    title: str | None = None
    created: datetime | None = None
    scheduled_for: datetime | None = Field(None, description="When the next session starts.")
    agent: str | None = None
    model: str | None = None
    project: str | None = None
    plan: str | None = Field(None, description="Path of the plan the next session follows.")
    notify_before: int | str | None = None
    branch: str | None = None
    commit: str | None = None


class Diagnostic(BaseModel):
    """A warning about a plan that does not stop compilation (``check --strict`` reports it)."""

    path: str
    line: int
    message: str
    code: str = Field(description="Stable id, e.g. 'no-duration', 'default-type'.")

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class Phase(BaseModel):
    """One phase of a plan, after repeated mentions are merged into one."""

    number: str = Field(description="As written: '1', '3.5', '6B'.")
    title: str
    line: int = Field(description="1-based line of the heading the phase was taken from.")
    block_after_line: int = Field(
        0, description="1-based line after which the phase's generated block goes (0: unset)."
    )
    hours: tuple[float, float] | None = Field(None, description="Duration range in hours.")
    hours_source: Literal["heading", "tag"] | None = None
    type: TaskType | None = Field(None, description="None when the plan gives no **Type**.")
    complexity: float | None = Field(None, description="The phase's own **Complexity** factor.")
    complexity_note: str | None = None
    libraries: list[str] = Field(default_factory=list)
    confidence: Confidence | None = None
    author_tokens: tuple[int, int] | None = Field(
        None, description="The author's own token figure (low, high), kept to compare."
    )
    also_at: list[int] = Field(
        default_factory=list, description="Other lines where the same phase is repeated."
    )


class Plan(BaseModel):
    """A parsed plan: what the estimator needs, plus where each phase was found."""

    path: str
    frontmatter: PlanFrontmatter
    frontmatter_line_count: int = 0
    phases: list[Phase]
    total_after_line: int = Field(
        0, description="1-based line after which the plan's total block goes (0: end of file)."
    )
    skipped_headings: list[tuple[int, str]] = Field(
        default_factory=list, description="(line, text) of phase-like headings not taken."
    )
    diagnostics: list[Diagnostic] = Field(default_factory=list)
