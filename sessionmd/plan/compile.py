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
from pathlib import Path
from typing import Any, Literal

from sessionmd.config import CONFIG_FILE, ProjectConfig, load_config
from sessionmd.errors import PlanError, SessionmdError
from sessionmd.estimate.compute import PlanEstimate, estimate_plan, resolve_quota
from sessionmd.estimate.model import EstimationModel, load_model
from sessionmd.estimate.render import render_frontmatter, render_phase_block, render_total_block
from sessionmd.plan import digest
from sessionmd.plan.blocks import FRONTMATTER_SECTION, Split, split
from sessionmd.plan.models import Diagnostic, Plan
from sessionmd.plan.parse import parse_plan

Freshness = Literal["current", "record", "stale", "missing"]


@dataclass(frozen=True)
class CompileInputs:
    """Everything besides the plan that the generated text depends on, read once a run."""

    root: Path
    config: ProjectConfig
    model: EstimationModel
    salt: str  # digest of model file + config + generator version (sessionmd.plan.digest)


def _maybe_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def load_inputs(root: Path) -> CompileInputs:
    """The project's config and model, and the salt of the ``--check`` digest."""
    config = load_config(root)
    model = load_model(root, config)
    salt = digest.salt(_maybe_bytes(root / config.model_file), _maybe_bytes(root / CONFIG_FILE))
    return CompileInputs(root=root, config=config, model=model, salt=salt)


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
    new_map: list[int] = field(default_factory=list)

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


def _previous(parts: Split) -> dict[str, Any] | None:
    """The estimate section the file holds now (for "what changed since the last run")."""
    blocks = parts.blocks_by_kind.get(f"frontmatter:{FRONTMATTER_SECTION}")
    if not blocks:
        return None
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(blocks[0].text, Loader=loader)
    except yaml.YAMLError:
        return None
    if isinstance(data, dict) and isinstance(data.get(FRONTMATTER_SECTION), dict):
        section: dict[str, Any] = data[FRONTMATTER_SECTION]
        return section
    return None


def _own_estimate_line(stripped: str) -> int:
    for number, line in enumerate(stripped.split("\n"), 1):
        if line.startswith(f"{FRONTMATTER_SECTION}:"):
            return number
    return 1


def _verify_frontmatter(text: str, path: str) -> None:
    """The spliced frontmatter must still be YAML with our section in it."""
    from sessionmd.plan.frontmatter import find_frontmatter

    block = find_frontmatter(text)
    if block is None:
        raise PlanError("could not place the estimate section in the frontmatter", path, 1)
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(block.yaml, Loader=loader)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict) or FRONTMATTER_SECTION not in data:
        raise PlanError(
            "the frontmatter's last entry does not let sessionmd append its `estimate:` "
            "section (end the frontmatter with a plain `key: value` line)",
            path,
            block.line_count,
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
        _verify_frontmatter(new_text, path)
        new_text = digest.seal(new_text, salt)
    new_map = parts.line_map if new_text == text else split(new_text, path).line_map
    return CompileResult(
        path=path,
        old_text=text,
        new_text=new_text,
        plan=plan,
        estimate=estimate,
        diagnostics=diagnostics,
        record=record,
        previous=_previous(parts),
        old_map=parts.line_map,
        new_map=new_map,
    )


def is_record(stripped: str) -> bool:
    """``status: done`` in the frontmatter, read without the markdown parse."""
    from sessionmd.plan.frontmatter import find_frontmatter

    block = find_frontmatter(stripped)
    if block is None or "status" not in block.yaml:
        return False
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(block.yaml, Loader=loader)
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and data.get("status") == "done"


def quick_freshness(path: str, text: str, salt: str) -> Freshness | None:
    """``current``/``record`` when known without a parse, else ``None`` (compile to know).

    Raises ``PlanError`` for bad markers, like the full compile would.
    """
    if digest.is_current(text, salt):
        return "current"
    parts = split(text, path)
    if is_record(parts.stripped):
        return "record"
    return None


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
    data["warnings"] = [str(result.located(d, written)) for d in result.diagnostics]
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
            notes.append(f"Phase {number} mid {old.get('mid')!s} -> {phase.tokens.mid:,}")
    for number in old_phases:
        if str(number) not in new_phases:
            notes.append(f"Phase {number} is gone")
    if previous.get("quota") != total.quota:
        notes.append(f"quota {previous.get('quota')} -> {total.quota}")
    if not notes:
        notes.append("estimate unchanged" if not result.content_changed else "layout updated")
    return notes


def all_diagnostics(results: Iterable[CompileResult], written: bool) -> list[Diagnostic]:
    return [r.located(d, written) for r in results for d in r.diagnostics]
