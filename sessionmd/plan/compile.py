"""The plan compiler: file text -> parse -> estimate -> render -> text with blocks.

Pure functions over text (reading and writing files is ``sessionmd.plan.write``'s job,
printing the CLI's). The generated text depends only on the plan, the model file and the
config, never on the clock or the machine, so ``--check`` answers the same everywhere.
Line numbers the parser and the estimator report are lines of the stripped text; they
are mapped back to the file the user has in front of them before anyone sees them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sessionmd.config import ProjectConfig, load_config
from sessionmd.errors import PlanError, SessionmdError
from sessionmd.estimate.compute import PlanEstimate, estimate_plan, resolve_quota
from sessionmd.estimate.model import EstimationModel, load_model
from sessionmd.estimate.render import render_frontmatter, render_phase_block, render_total_block
from sessionmd.plan import digest
from sessionmd.plan.blocks import FRONTMATTER_SECTION, Split, split
from sessionmd.plan.freshness import Freshness, recorded_section, salt_for
from sessionmd.plan.models import Diagnostic, Plan
from sessionmd.plan.parse import parse_plan


@dataclass(frozen=True)
class CompileInputs:
    """Everything besides the plan that the generated text depends on, read once a run."""

    root: Path
    config: ProjectConfig
    model: EstimationModel
    salt: str  # digest of model file + config + generator version (sessionmd.plan.digest)


def load_inputs(root: Path) -> CompileInputs:
    """The project's config and model, and the salt of the ``--check`` digest."""
    config = load_config(root)
    model = load_model(root, config)
    return CompileInputs(root=root, config=config, model=model, salt=salt_for(root, config))


@dataclass(frozen=True)
class CompileResult:
    """One plan compiled: both texts, what was read and estimated, and what was said."""

    path: str
    old_text: str
    new_text: str
    plan: Plan
    estimate: PlanEstimate
    diagnostics: list[Diagnostic]  # lines of the stripped text; see file_line()
    record: bool  # status: done, so new_text is old_text
    previous: dict[str, Any] | None  # the estimate section the file held before, if any
    old_map: list[int] = field(default_factory=list)

    @cached_property
    def new_map(self) -> list[int]:
        """Stripped line -> line of the new text (computed only when a line is shown)."""
        if self.new_text == self.old_text:
            return self.old_map
        return split(self.new_text, self.path).line_map

    @property
    def changed(self) -> bool:
        return self.new_text != self.old_text

    @property
    def content_changed(self) -> bool:
        """Changed beyond the digest (an unchanged estimate under a new sessionmd version)."""
        return digest.without_digest(self.new_text) != digest.without_digest(self.old_text)

    def file_line(self, stripped_line: int, written: bool) -> int:
        """Where a stripped-text line is in the new file (``written``) or the old one."""
        line_map = self.new_map if written else self.old_map
        if not line_map or stripped_line < 1:
            return stripped_line
        return line_map[min(stripped_line, len(line_map)) - 1]

    def located(self, diagnostic: Diagnostic, written: bool) -> Diagnostic:
        """The diagnostic with its line, and lines its message names, in the file."""
        import re

        line = self.file_line(diagnostic.line, written)
        message = re.sub(
            r"\b(lines?) (\d+)\b",
            lambda m: f"{m[1]} {self.file_line(int(m[2]), written)}",
            diagnostic.message,
        )
        return diagnostic.model_copy(update={"line": line, "message": message})


# Said of a plan to explain what was taken; never a problem, even for ``check --strict``.
NOTE_CODES = frozenset({"default-type", "skipped-heading", "duplicate-phase"})


def _unique(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by line; the parser and the estimator may both say the same thing."""
    seen: dict[tuple[int, str], Diagnostic] = {}
    for diagnostic in diagnostics:
        seen.setdefault((diagnostic.line, diagnostic.code), diagnostic)
    return sorted(seen.values(), key=lambda d: (d.line, d.code, d.message))


def _remap(err: SessionmdError, path: str, parts: Split) -> SessionmdError:
    if err.path == path and err.line is not None:
        err.line = parts.original_line(err.line)
    return err


def _own_estimate_line(stripped: str) -> int:
    for number, line in enumerate(stripped.split("\n"), 1):
        if line.startswith(f"{FRONTMATTER_SECTION}:"):
            return number
    return 1


def _verify_frontmatter(stripped: str, path: str, line: int) -> None:
    """The user's frontmatter must still be YAML once the section is appended to it.

    Probed with an empty section: whether a top-level key can follow the user's last
    entry does not depend on its value, and loading the real one (thousands of phases in
    a big plan) would cost more than the rest of the compile.
    """
    from sessionmd.plan.frontmatter import find_frontmatter

    block = find_frontmatter(stripped)
    if block is None:
        return
    import yaml

    probe = f"{block.yaml}# sessionmd:{FRONTMATTER_SECTION}:begin\n{FRONTMATTER_SECTION}: {{}}\n"
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(probe, Loader=loader)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict) or data.get(FRONTMATTER_SECTION) != {}:
        raise PlanError(
            "the frontmatter's last entry does not let sessionmd append its `estimate:` "
            "section (end the frontmatter with a plain `key: value` line)",
            path,
            line,
        )


def compile_plan(
    path: str,
    text: str,
    model: EstimationModel,
    config: ProjectConfig,
    salt: str = "",
) -> CompileResult:
    """Compile one plan's text; ``PlanError`` (with the file's line) for bad input.

    A plan whose frontmatter says ``status: done`` is a record: it is estimated (for the
    report) but its text is given back unchanged.
    """
    parts = split(text, path)
    stripped = parts.stripped
    try:
        plan = parse_plan(stripped, path, exclude=config.exclude_sections)
        quota = resolve_quota(plan, config)
        estimate = estimate_plan(plan, model, quota)
    except SessionmdError as err:
        raise _remap(err, path, parts) from None
    if plan.frontmatter.estimate is not None:
        raise PlanError(
            "the frontmatter has its own `estimate:` key; sessionmd writes that section "
            "between its own markers: remove it",
            path,
            parts.original_line(_own_estimate_line(stripped)),
        )
    diagnostics = _unique([*plan.diagnostics, *estimate.warnings])
    record = plan.frontmatter.status == "done"
    if record:
        new_text = text
    else:
        from sessionmd.plan.blocks import apply

        phase_blocks = {pe.number: render_phase_block(pe) for pe in estimate.phases}
        new_text = apply(
            stripped,
            plan,
            phase_blocks,
            render_total_block(estimate),
            render_frontmatter(estimate),
            digest=digest.PLACEHOLDER,
            path=path,
        )
        if parts.has_frontmatter:  # (one sessionmd creates is always valid)
            _verify_frontmatter(stripped, path, parts.original_line(parts.frontmatter_end))
        new_text = digest.seal(new_text, salt)
    return CompileResult(
        path=path,
        old_text=text,
        new_text=new_text,
        plan=plan,
        estimate=estimate,
        diagnostics=diagnostics,
        record=record,
        previous=recorded_section(parts),
        old_map=parts.line_map,
    )


def freshness(result: CompileResult) -> Freshness:
    """What ``--check`` says of a compiled plan."""
    if result.record:
        return "record"
    if not result.content_changed:
        return "current"
    return "stale" if digest.recorded(result.old_text) is not None else "missing"


def plan_json(result: CompileResult, written: bool) -> dict[str, Any]:
    """The ``--json`` object of one plan; lines are lines of the file as it is now."""
    data = result.estimate.to_json()
    for phase in data["phases"]:
        phase["line"] = result.file_line(phase["line"], written)
    located = [result.located(d, written) for d in result.diagnostics]
    data["warnings"] = [str(d) for d in located if d.code not in NOTE_CODES]
    data["notes"] = [str(d) for d in located if d.code in NOTE_CODES]
    return {"path": result.path, **data}


def changes_since(result: CompileResult) -> list[str]:
    """What differs from the estimate the file held before, in words (first run: say so)."""
    previous = result.previous
    if result.record:
        return ["record (status: done): its estimate is left as it was"]
    if previous is None:
        return ["first estimate of this plan"]
    notes: list[str] = []
    total = result.estimate.total
    old_mid = previous.get("mid")
    if isinstance(old_mid, int) and old_mid != total.mid:
        notes.append(f"mid {old_mid:,} -> {total.mid:,} ({total.mid - old_mid:+,})")
    old_phases = previous.get("phases")
    old_phases = old_phases if isinstance(old_phases, dict) else {}
    new_phases = {p.number: p for p in result.estimate.phases}
    for number, phase in new_phases.items():
        old = old_phases.get(number)
        if not isinstance(old, dict):
            notes.append(f"Phase {number} is new ({phase.tokens.mid:,})")
        elif old.get("mid") != phase.tokens.mid:
            was = old.get("mid")
            shown = f"{was:,}" if isinstance(was, int) else str(was)
            notes.append(f"Phase {number} mid {shown} -> {phase.tokens.mid:,}")
    for number in old_phases:
        if str(number) not in new_phases:
            notes.append(f"Phase {number} is gone")
    if previous.get("quota") != total.quota:
        notes.append(f"quota {previous.get('quota')} -> {total.quota}")
    if not notes:
        if result.content_changed:
            notes.append("figures unchanged; the generated text's layout changed")
        elif result.changed:
            notes.append("estimate unchanged; only its digest was refreshed (new sessionmd code)")
        else:
            notes.append("estimate unchanged")
    return notes


def all_diagnostics(results: Iterable[CompileResult], written: bool) -> list[Diagnostic]:
    return [r.located(d, written) for r in results for d in r.diagnostics]
