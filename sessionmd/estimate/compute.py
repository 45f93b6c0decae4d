"""The one estimation formula, applied to every phase of a plan, and the plan's totals.

For a phase with hours ``h_low``-``h_high`` (``h_mid`` their middle), a task type with
``base`` tokens and ``rate`` tokens per hour, factors ``F`` (the product of the
frontmatter's ``project_size``, ``tech_stack`` and ``code_quality`` multipliers and the
phase's own ``**Complexity**``; each unset one is 1.0), the confidence spread ``s`` and
``L`` the integration costs of the libraries first used in this phase::

    mid  = (base + rate x h_mid)  x F            + L
    low  = (base + rate x h_low)  x F x (1 - s)  + L
    high = (base + rate x h_high) x F x (1 + s)  + L

each rounded half-up to the model's ``round_to`` (100 tokens). Everything is computed
with exact fractions, so a reviewer who redoes the calculation gets the same figures.

Totals: ``mid``/``low``/``high`` are the sums of the phases' figures (``low`` is the
conservative total, ``high`` the aggressive one); ``buffered`` is ``mid x (1 + buffer)``
rounded like a phase figure; the safe upper limit is the larger of the aggressive total
and the buffered mid: the plan is only called safe when neither the +20% buffer nor the
sum of every phase at its high end would pass it. ``fits`` is ``safe_limit <= quota``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, Field

from sessionmd.config import ProjectConfig
from sessionmd.errors import PlanError
from sessionmd.estimate.arith import (
    exact,
    formula_ratio,
    half_seconds,
    round_half_up,
    round_ratio,
)
from sessionmd.estimate.model import EstimationModel, library_key
from sessionmd.plan.models import Confidence, Diagnostic, Plan
from sessionmd.quota import Quota, parse_quota

DEFAULT_TYPE = "implementation"
SESSION_FACTORS = ("project_size", "tech_stack", "code_quality")


class Factor(BaseModel):
    """One multiplier of a phase, with the words shown beside it."""

    name: str = Field(description="project_size, tech_stack, code_quality or complexity.")
    value: float
    note: str = Field(description="e.g. 'tech_stack familiar' or 'complexity: new framework'.")


class LibraryCost(BaseModel):
    """A library named by a phase; its cost counts once, in the first phase that names it."""

    name: str
    tokens: int
    known: bool = Field(description="True when the model lists this library's own cost.")
    counted_in: str | None = Field(
        None, description="Number of an earlier phase that already counted it (cost 0 here)."
    )


class TokenRange(BaseModel):
    low: int
    mid: int
    high: int


class PhaseEstimate(BaseModel):
    """A phase's estimate and every number its calculation uses, so it can be shown."""

    number: str
    title: str
    line: int
    type: str
    type_defaulted: bool = Field(description="True when the plan gave no **Type**.")
    hours: tuple[float, float] | None = Field(description="None when the plan gives none.")
    base_tokens: int
    tokens_per_hour: int
    factors: list[Factor]
    libraries: list[LibraryCost]
    confidence: Confidence
    confidence_source: Literal["tag", "type", "no-duration"]
    spread: float
    round_to: int
    tokens: TokenRange
    author_tokens: tuple[int, int] | None = None

    @property
    def library_tokens(self) -> int:
        return sum(lib.tokens for lib in self.libraries if lib.counted_in is None)


class PlanTotal(BaseModel):
    low: int = Field(description="Conservative: the sum of the phases' low figures.")
    mid: int = Field(description="The sum of the phases' mid figures.")
    high: int = Field(description="Aggressive: the sum of the phases' high figures.")
    buffer: float = Field(description="The buffer's share of mid, e.g. 0.2.")
    buffered: int = Field(description="mid x (1 + buffer), rounded like a phase figure.")
    safe_limit: int = Field(description="The larger of high and buffered.")
    quota: int | None = None
    quota_source: str | None = None
    fits: bool | None = Field(None, description="safe_limit <= quota; None without a quota.")
    percent_of_quota: float | None = Field(
        None, description="safe_limit / quota in percent, to one decimal; None without a quota."
    )


class PlanEstimate(BaseModel):
    path: str
    model: str = Field(description="The estimation model's name.")
    phases: list[PhaseEstimate]
    total: PlanTotal
    warnings: list[Diagnostic] = Field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` shape of one plan (the CLI adds ``path``)."""
        return {
            "model": self.model,
            "phases": [
                {
                    "number": p.number,
                    "title": p.title,
                    "hours": list(p.hours) if p.hours is not None else None,
                    "type": p.type,
                    "type_defaulted": p.type_defaulted,
                    "confidence": p.confidence,
                    "tokens": {"low": p.tokens.low, "mid": p.tokens.mid, "high": p.tokens.high},
                    "author_tokens": list(p.author_tokens) if p.author_tokens else None,
                    "line": p.line,
                }
                for p in self.phases
            ],
            "total": {
                "low": self.total.low,
                "mid": self.total.mid,
                "high": self.total.high,
                "buffered": self.total.buffered,
                "safe_limit": self.total.safe_limit,
                "quota": self.total.quota,
                "quota_source": self.total.quota_source,
                "fits": self.total.fits,
                "percent_of_quota": self.total.percent_of_quota,
            },
            "warnings": [str(w) for w in self.warnings],
        }


def resolve_quota(plan: Plan, config: ProjectConfig) -> Quota | None:
    """The quota the compiled text checks against: frontmatter, then config, else none.

    ``auto`` (measured from the transcripts) is never used here: the compiled text must
    not depend on the machine it is compiled on, so it counts as no fixed quota.
    """
    for value, origin, path in (
        (plan.frontmatter.quota, "frontmatter quota", plan.path),
        (config.quota, "sessionmd.yaml quota", "sessionmd.yaml"),
    ):
        if value is None:
            continue
        if isinstance(value, str) and value.strip().lower() == "auto":
            return None
        try:
            quota = parse_quota(value, origin)
        except ValueError as err:
            raise PlanError(str(err), path, 1 if path == plan.path else None) from None
        if quota is not None and not quota.source.startswith(origin):
            quota = Quota(quota.tokens, f"{origin}: {quota.source}")
        return quota
    return None


def _session_factors(plan: Plan, model: EstimationModel) -> list[Factor]:
    factors = []
    for name in SESSION_FACTORS:
        choice = getattr(plan.frontmatter, name)
        if choice is None:
            continue
        table: dict[str, float] = getattr(model.multipliers, name)
        if choice not in table:
            raise PlanError(
                f"{name} {choice!r} is not in the estimation model: one of {', '.join(table)}",
                plan.path,
                1,
            )
        factors.append(Factor(name=name, value=table[choice], note=f"{name} {choice}"))
    return factors


def _did_you_mean(word: str, choices: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _formula(
    base: int, rate: int, half_secs: int, factor: Fraction, spread: Fraction, libs: int, unit: int
) -> int:
    """One figure of the docstring's formula, exact, then rounded half up to ``unit``."""
    return round_ratio(*formula_ratio(base, rate, half_secs, factor, spread, libs), unit)


def estimate_plan(plan: Plan, model: EstimationModel, quota: Quota | None) -> PlanEstimate:
    """Every phase's low/mid/high and the plan's totals: a pure function of its inputs."""
    session = _session_factors(plan, model)
    seen_libraries: dict[str, str] = {}
    warnings: list[Diagnostic] = []
    phases: list[PhaseEstimate] = []
    for phase in plan.phases:
        type_name = (phase.type or DEFAULT_TYPE).strip().lower()
        if type_name not in model.task_types:
            raise PlanError(
                f"Phase {phase.number}: unknown task type {phase.type!r}"
                f"{_did_you_mean(type_name, list(model.task_types))}: "
                f"valid types are {', '.join(model.task_types)}",
                plan.path,
                phase.line,
            )
        task = model.task_types[type_name]
        if phase.type is None:
            warnings.append(
                Diagnostic(
                    path=plan.path,
                    line=phase.line,
                    code="default-type",
                    message=f"Phase {phase.number} has no **Type**: estimated as {DEFAULT_TYPE}",
                )
            )
        factors = list(session)
        if phase.complexity is not None:
            note = f"complexity: {phase.complexity_note}" if phase.complexity_note else "complexity"
            factors.append(Factor(name="complexity", value=phase.complexity, note=note))
        factor = Fraction(1)
        for f in factors:
            factor *= exact(f.value)

        libraries = []
        for name in phase.libraries:
            key = library_key(name)
            cost, known = model.library_cost(name)
            libraries.append(
                LibraryCost(name=name, tokens=cost, known=known, counted_in=seen_libraries.get(key))
            )
            seen_libraries.setdefault(key, phase.number)
        libs = sum(lib.tokens for lib in libraries if lib.counted_in is None)

        confidence: Confidence
        if phase.hours is None:
            confidence, source = "low", "no-duration"
            hs_low = hs_high = 0
            warnings.append(
                Diagnostic(
                    path=plan.path,
                    line=phase.line,
                    code="no-duration",
                    message=f"Phase {phase.number} has no duration: estimated from its "
                    "base alone, at low confidence",
                )
            )
        else:
            hs_low, hs_high = (half_seconds(h) for h in phase.hours)
            if phase.confidence is not None:
                confidence, source = phase.confidence, "tag"
            else:
                confidence, source = task.confidence, "type"
        spread = exact(model.confidence_spread[confidence])
        base, rate, unit = task.base_tokens, task.tokens_per_hour, model.round_to
        tokens = TokenRange(
            low=_formula(base, rate, hs_low, factor, -spread, libs, unit),
            mid=_formula(base, rate, (hs_low + hs_high) // 2, factor, Fraction(0), libs, unit),
            high=_formula(base, rate, hs_high, factor, spread, libs, unit),
        )
        phases.append(
            PhaseEstimate(
                number=phase.number,
                title=phase.title,
                line=phase.line,
                type=type_name,
                type_defaulted=phase.type is None,
                hours=phase.hours,
                base_tokens=base,
                tokens_per_hour=rate,
                factors=factors,
                libraries=libraries,
                confidence=confidence,
                confidence_source=source,
                spread=model.confidence_spread[confidence],
                round_to=unit,
                tokens=tokens,
                author_tokens=phase.author_tokens,
            )
        )
    return PlanEstimate(
        path=plan.path,
        model=model.name,
        phases=phases,
        total=_total(phases, model, quota),
        warnings=warnings,
    )


def _total(phases: list[PhaseEstimate], model: EstimationModel, quota: Quota | None) -> PlanTotal:
    low = sum(p.tokens.low for p in phases)
    mid = sum(p.tokens.mid for p in phases)
    high = sum(p.tokens.high for p in phases)
    buffered = round_half_up(mid * (1 + exact(model.buffer)), model.round_to)
    safe = max(high, buffered)
    total = PlanTotal(
        low=low, mid=mid, high=high, buffer=model.buffer, buffered=buffered, safe_limit=safe
    )
    if quota is not None:
        total.quota = quota.tokens
        total.quota_source = quota.source
        total.fits = safe <= quota.tokens
        total.percent_of_quota = round_half_up(Fraction(safe * 1000, quota.tokens)) / 10
    return total
