"""Many plans at once: which files a folder holds, and compiling them on every core.

A folder (searched recursively, hidden folders skipped) yields the ``*.md`` files whose
name contains ``plan`` (``SESSION_3_PLAN.md``, ``plan-auth.md``) and any other ``*.md``
that already holds sessionmd's blocks. Not "every file with a phase": completion reports
and handoffs list phases too (``SESSION_3_COMPLETE.md``), and rewriting those would be
wrong. A file named on the command line is always taken.

Compiling is CPU-bound (markdown-it), so with enough plans it runs in worker processes;
``--check`` first recognises current plans by their digest, in this process, and only
compiles the rest.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from sessionmd.config import find_root
from sessionmd.errors import SessionmdError
from sessionmd.plan import digest
from sessionmd.plan.blocks import split
from sessionmd.plan.freshness import (
    Freshness,
    is_record,
    quick_freshness,
    recorded_section,
    salt_for,
)
from sessionmd.plan.write import read_plan

if TYPE_CHECKING:
    from sessionmd.plan.compile import CompileInputs, CompileResult

# Below this many plans to compile, starting worker processes costs more than it saves.
PARALLEL_MIN = 24
_SKIP_DIRS = frozenset({"node_modules", "__pycache__", "venv"})
_MARKER_HINTS = ("<!-- sessionmd:", "# sessionmd:")


@dataclass(frozen=True)
class PlanRef:
    """A plan to work on: its path, how to show it, and the project root it belongs to."""

    path: Path
    shown: str
    root: Path


@dataclass(frozen=True)
class Failure:
    """A plan that could not be read or compiled (picklable, unlike the exception)."""

    kind: str
    message: str
    path: str | None
    line: int | None

    def error(self) -> SessionmdError:
        from sessionmd import errors

        cls: type[SessionmdError] = getattr(errors, self.kind, SessionmdError)
        return cls(self.message, self.path, self.line)

    def __str__(self) -> str:
        return str(self.error())


@dataclass(frozen=True)
class Recorded:
    """A plan its digest shows to be current: its recorded estimate, no compile needed."""

    path: str
    section: dict[str, Any]
    record: bool  # status: done


Compiled: TypeAlias = "CompileResult | Failure"
Outcome: TypeAlias = "CompileResult | Failure | Recorded"


def _failure(err: SessionmdError) -> Failure:
    return Failure(type(err).__name__, err.message, err.path, err.line)


def _is_plan_file(path: Path) -> bool:
    if "plan" in path.name.lower():
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read()
    except OSError:
        return False
    return any(hint.encode() in head for hint in _MARKER_HINTS)


def collect(arguments: Sequence[Path], cwd: Path) -> list[PlanRef]:
    """The plans named by files and folders, each once, in a stable order."""
    found: list[Path] = []
    for argument in arguments:
        if argument.is_dir():
            walked: list[Path] = []
            for folder, dirs, files in os.walk(argument):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
                for name in files:
                    if name.lower().endswith(".md") and not name.startswith("."):
                        candidate = Path(folder) / name
                        if _is_plan_file(candidate):
                            walked.append(candidate)
            found.extend(sorted(walked, key=_natural))
        else:
            found.append(argument)
    seen: set[str] = set()
    refs: list[PlanRef] = []
    roots: dict[Path, Path] = {}
    for path in found:
        key = os.path.realpath(path)
        if key in seen:
            continue
        seen.add(key)
        parent = path.parent if path.parent != Path("") else Path(".")
        if parent not in roots:
            roots[parent] = find_root(cwd / parent)
        refs.append(PlanRef(path=path, shown=str(path), root=roots[parent]))
    return refs


def _natural(path: Path) -> tuple[object, ...]:
    """SESSION_2 before SESSION_10."""
    import re

    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", str(path))
    )


_INPUTS: dict[Path, CompileInputs] = {}
_SALTS: dict[Path, str] = {}


def inputs_for(root: Path) -> CompileInputs:
    """Config, model and salt of a project, read once per process."""
    if root not in _INPUTS:
        from sessionmd.plan.compile import load_inputs

        _INPUTS[root] = load_inputs(root)
    return _INPUTS[root]


def salt_of(root: Path) -> str:
    """The digest salt alone: reads the config, not the model (no estimator import)."""
    if root not in _SALTS:
        from sessionmd.config import load_config

        _SALTS[root] = salt_for(root, load_config(root))
    return _SALTS[root]


def _fresh_run() -> None:
    """Read the config and model afresh on every run (tests run many in one process)."""
    _INPUTS.clear()
    _SALTS.clear()


def _compile_ref(ref: PlanRef, text: str | None = None) -> Compiled:
    from sessionmd.plan.compile import compile_plan

    try:
        if text is None:
            text = read_plan(ref.path)
        inputs = inputs_for(ref.root)
        return compile_plan(ref.shown, text, inputs.model, inputs.config, inputs.salt)
    except SessionmdError as err:
        return _failure(err)


def _compile_job(job: tuple[PlanRef, str]) -> Compiled:
    return _compile_ref(job[0], job[1])


def workers() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


Progress = Callable[[int, int], None]  # (plans done, plans in all)


def _run(
    jobs: list[tuple[PlanRef, str]], processes: int | None, progress: Progress | None = None
) -> list[Compiled]:
    """Compile the jobs, in worker processes when ``processes`` (None: decide) says so."""
    if processes is None:
        cores = workers()
        processes = cores if len(jobs) >= PARALLEL_MIN and cores > 1 else 1
    processes = min(processes, len(jobs))
    results: list[Compiled] = []
    if processes < 2:
        for job in jobs:
            results.append(_compile_job(job))
            if progress is not None:
                progress(len(results), len(jobs))
        return results
    for root in {ref.root for ref, _ in jobs}:
        with contextlib.suppress(SessionmdError):  # the workers report it per plan
            inputs_for(root)  # loaded once here; forked workers inherit it
    chunk = max(1, len(jobs) // (processes * 8))
    with ProcessPoolExecutor(max_workers=processes) as pool:
        for outcome in pool.map(_compile_job, jobs, chunksize=chunk):
            results.append(outcome)
            if progress is not None:
                progress(len(results), len(jobs))
    return results


def _read_all(refs: Sequence[PlanRef]) -> tuple[list[tuple[PlanRef, str]], dict[int, Failure]]:
    texts: list[tuple[PlanRef, str]] = []
    failed: dict[int, Failure] = {}
    for index, ref in enumerate(refs):
        try:
            texts.append((ref, read_plan(ref.path)))
        except SessionmdError as err:
            failed[index] = _failure(err)
            texts.append((ref, ""))
    return texts, failed


def _recorded(ref: PlanRef, text: str) -> Recorded | None:
    """The recorded estimate of a plan whose digest matches, else None."""
    if not digest.is_current(text, salt_of(ref.root)):
        return None
    parts = split(text, ref.shown)
    section = recorded_section(parts)
    if section is None:
        return None
    return Recorded(ref.shown, section, is_record(parts.stripped))


def compile_all(
    refs: Sequence[PlanRef],
    processes: int | None = None,
    progress: Progress | None = None,
    skip_current: bool = False,
) -> list[Outcome]:
    """Every plan compiled (nothing written), in the order given.

    With ``skip_current``, a plan whose digest shows it current is not compiled: its
    recorded estimate is given back instead (enough for a summary row, not for details).
    """
    _fresh_run()
    texts, failed = _read_all(refs)
    known: dict[int, Outcome] = dict(failed)
    if skip_current:
        for index, (ref, text) in enumerate(texts):
            if index not in known:
                try:
                    recorded = _recorded(ref, text)
                except SessionmdError as err:
                    known[index] = _failure(err)
                    continue
                if recorded is not None:
                    known[index] = recorded
    todo = [job for index, job in enumerate(texts) if index not in known]
    done = iter(_run(todo, processes, progress))
    return [known[index] if index in known else next(done) for index in range(len(refs))]


@dataclass(frozen=True)
class CheckOutcome:
    ref: PlanRef
    state: Freshness | None  # None when the plan could not be read or compiled
    failure: Failure | None = None
    result: CompileResult | None = None  # when it had to be compiled to know


def check_all(
    refs: Sequence[PlanRef], processes: int | None = None, progress: Progress | None = None
) -> list[CheckOutcome]:
    """Is each plan's estimate current? Digest first; compile only what it cannot vouch for."""
    _fresh_run()
    texts, failed = _read_all(refs)
    outcomes: dict[int, CheckOutcome] = {}
    todo: list[int] = []
    for index, (ref, text) in enumerate(texts):
        if index in failed:
            outcomes[index] = CheckOutcome(ref, None, failed[index])
            continue
        try:
            state = quick_freshness(ref.shown, text, salt_of(ref.root))
        except SessionmdError as err:
            outcomes[index] = CheckOutcome(ref, None, _failure(err))
            continue
        if state is None:
            todo.append(index)
        else:
            outcomes[index] = CheckOutcome(ref, state)
    results = _run([texts[index] for index in todo], processes, progress)
    for index, outcome in zip(todo, results, strict=True):
        ref = texts[index][0]
        if isinstance(outcome, Failure):
            outcomes[index] = CheckOutcome(ref, None, outcome)
        else:
            from sessionmd.plan.compile import freshness

            outcomes[index] = CheckOutcome(ref, freshness(outcome), result=outcome)
    return [outcomes[index] for index in range(len(refs))]
