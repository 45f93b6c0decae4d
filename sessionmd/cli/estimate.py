"""``sessionmd estimate``, ``check`` and ``strip``: the plan compiler's commands.

Thin: collect the files, call ``sessionmd.plan`` (compile, check, strip), write
atomically, print. Bad input anywhere means nothing is written at all.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sessionmd.cli.options import bad_input_exits, console, json_option

if TYPE_CHECKING:
    from sessionmd.plan.batch import Failure, Outcome, PlanRef, Recorded
    from sessionmd.plan.compile import CompileResult
    from sessionmd.usage.limits import Derived

PROGRESS_MIN = 24  # plans to compile before a progress bar is worth showing
PLANS = click.argument("plans", nargs=-1, type=click.Path(path_type=Path))


def _refs(plans: Sequence[Path]) -> list[PlanRef]:
    """Plans from the arguments; none given: the project's plans folder."""
    from sessionmd.config import find_root, load_config
    from sessionmd.plan.batch import collect

    cwd = Path.cwd()
    if not plans:
        root = find_root(cwd)
        folder = root / load_config(root).plans_dir
        if not folder.is_dir():
            from sessionmd.errors import PlanError

            raise PlanError("no plans given and no plans folder here", str(folder))
        plans = [folder]
    refs = collect(plans, cwd)
    if not refs:
        shown = " ".join(str(p) for p in plans)
        click.echo(
            f"sessionmd: no plans in {shown} (a folder yields *.md files whose name "
            "contains 'plan', and files already holding sessionmd blocks)",
            err=True,
        )
    return refs


def _fail(failures: Sequence[Failure]) -> None:
    for failure in failures:
        click.echo(f"sessionmd: {failure}", err=True)
    sys.exit(2)


@contextmanager
def _progress(count: int) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for long runs on a terminal; nothing otherwise."""
    err = console(stderr=True)
    if count < PROGRESS_MIN or not err.is_terminal:
        yield None
        return
    from rich.progress import Progress

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("compiling plans", total=count)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _unified(result: CompileResult) -> str:
    import difflib

    from sessionmd.plan.blocks import lines_of

    lines = difflib.unified_diff(
        lines_of(result.old_text),  # lines as sessionmd counts them (LF only)
        lines_of(result.new_text),
        fromfile=f"a/{result.path}",
        tofile=f"b/{result.path}",
    )
    # as diff(1) and git say it, so the output stays a valid patch
    return "".join(
        line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n" for line in lines
    )


def _split_outcomes(outcomes: Sequence[Outcome]) -> tuple[list[CompileResult], list[Failure]]:
    from sessionmd.plan.batch import Failure
    from sessionmd.plan.compile import CompileResult

    failures = [o for o in outcomes if isinstance(o, Failure)]
    results = [o for o in outcomes if isinstance(o, CompileResult)]
    return results, failures


@click.command("estimate")
@PLANS
@click.option("--check", is_flag=True, help="Write nothing; exit 1 naming each stale plan.")
@click.option("--diff", is_flag=True, help="Print the unified diff it would make; write nothing.")
@click.option("--dry-run", is_flag=True, help="Compile and report, but write nothing.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: every core when there are many plans).",
)
@json_option
def estimate(
    plans: tuple[Path, ...], check: bool, diff: bool, dry_run: bool, jobs: int | None, as_json: bool
) -> None:
    """Compile token estimates into plans, in place, between sessionmd's markers.

    PLANS are plan files or folders (no argument: the plans folder of sessionmd.yaml,
    default plans/). A folder yields, recursively, the *.md files whose name contains
    "plan" and any *.md already holding sessionmd blocks; completion reports and handoffs
    list phases too, so they are only compiled when named. A plan whose frontmatter says
    status: done is a record and is left as it is. Every byte outside the markers is kept;
    a second run changes nothing.

    \b
    Exit codes: 0 ok, 1 --check found a stale or missing estimate, 2 bad input
    (nothing is written then).

    \b
    Example:
        sessionmd estimate plans/SESSION_3_PLAN.md
        sessionmd estimate --diff plans/            # review what would change
        sessionmd estimate --check plans/           # CI / pre-commit: exit 1 when stale
        sessionmd estimate --json --dry-run plans/SESSION_3_PLAN.md
    """
    with bad_input_exits():
        refs = _refs(plans)
    if check:
        _run_check(refs, jobs, diff, as_json)
        return
    from sessionmd.plan.batch import Failure, Recorded, compile_all
    from sessionmd.plan.compile import CompileResult

    # A folder summary needs no details of a plan its digest shows current; --json and a
    # single plan's table do.
    skip_current = not as_json and len(refs) > 1
    with _progress(len(refs)) as progress:
        outcomes = compile_all(refs, jobs, progress, skip_current=skip_current)
    failures = [o for o in outcomes if isinstance(o, Failure)]
    if failures:
        _fail(failures)
    done = [o for o in outcomes if not isinstance(o, Failure)]  # one per plan now
    if diff:
        for outcome in done:
            if isinstance(outcome, CompileResult) and outcome.changed:
                click.echo(_unified(outcome), nl=False)
        return
    states: list[str] = []
    for ref, outcome in zip(refs, done, strict=True):
        if outcome.record:
            states.append("record")
        elif isinstance(outcome, Recorded) or not outcome.changed:
            states.append("unchanged")
        elif not dry_run:
            from sessionmd.plan.write import write_atomic

            with bad_input_exits():
                write_atomic(ref.path, outcome.new_text)
            states.append("written")
        else:
            states.append("would-write")
    results = [o for o in done if isinstance(o, CompileResult)]
    if as_json:  # every outcome was compiled
        from sessionmd.cli.estimate_view import derived_json
        from sessionmd.plan.compile import plan_json

        derived_limit = _DerivedLimits()
        data = [
            {
                **plan_json(result, state == "written"),
                "state": state,
                "derivedLimit": derived_json(result, derived_limit(result.path)),
            }
            for result, state in zip(results, states, strict=True)
        ]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    _show(done, states)


class _DerivedLimits:
    """The 5-hour limit derived on this machine (``status``/``statusline`` save it), per
    plan, in its project's token measure; None without one or with an unreadable config.

    Read once per project root: ``estimate --json plans/`` over hundreds of plans would
    otherwise read the config and the state file once per plan.
    """

    def __init__(self) -> None:
        self._by_root: dict[Path, Derived | None] = {}

    def __call__(self, plan_path: str) -> Derived | None:
        from sessionmd import paths
        from sessionmd.config import find_root, load_config
        from sessionmd.errors import SessionmdError
        from sessionmd.usage.limits import load_derived

        root = find_root(Path(plan_path).resolve().parent)
        if root not in self._by_root:
            try:
                measure = load_config(root).token_measure
            except SessionmdError:
                self._by_root[root] = None
            else:
                found = load_derived(paths.state_dir(os.environ), measure)
                self._by_root[root] = found.get("five_hour")
        return self._by_root[root]


def _show(outcomes: Sequence[CompileResult | Recorded], states: Sequence[str]) -> None:
    from sessionmd.cli import estimate_view as view
    from sessionmd.plan.compile import CompileResult

    out = console()
    if len(outcomes) == 1:
        result, state = outcomes[0], states[0]
        assert isinstance(result, CompileResult)  # a single plan is always compiled
        written = state == "written"
        derived = _DerivedLimits()(result.path)
        if out.is_terminal:
            for item in view.rich_plan(result, state, written, derived):
                out.print(item)
        else:
            for line in view.plain_plan(result, state, written, derived):
                click.echo(line)
        return
    rows = [
        view.row_of(o, state)
        if isinstance(o, CompileResult)
        else view.row_of_recorded(o.path, o.section, state)
        for o, state in zip(outcomes, states, strict=True)
    ]
    if out.is_terminal:
        out.print(view.rich_rows(rows))
    else:
        for row in rows:
            click.echo(view.plain_row(row))
    if rows:
        counts: dict[str, int] = {}
        for state in states:
            counts[state] = counts.get(state, 0) + 1
        summary = ", ".join(f"{n} {view.state_text(s)}" for s, n in sorted(counts.items()))
        click.echo(f"{len(rows)} plans: {summary}")


def _run_check(refs: Sequence[PlanRef], jobs: int | None, diff: bool, as_json: bool) -> None:
    from sessionmd.plan.batch import check_all

    with _progress(len(refs)) as progress:
        outcomes = check_all(refs, jobs, progress)
    failures = [o.failure for o in outcomes if o.failure is not None]
    if failures:
        _fail(failures)
    bad = [o for o in outcomes if o.state in ("stale", "missing")]
    if as_json:
        data = [{"path": o.ref.shown, "state": o.state} for o in outcomes]
        click.echo(json.dumps(data, indent=2))
    else:
        for outcome in bad:
            what = "estimate is stale" if outcome.state == "stale" else "no estimate yet"
            click.echo(f"{outcome.ref.shown}: {what} (run: sessionmd estimate {outcome.ref.shown})")
            if diff and outcome.result is not None:
                click.echo(_unified(outcome.result), nl=False)
        if not bad:
            records = sum(1 for o in outcomes if o.state == "record")
            extra = f" ({records} done, kept as records)" if records else ""
            noun = "plan" if len(outcomes) == 1 else "plans"
            click.echo(f"sessionmd: {len(outcomes)} {noun} current{extra}")
    if bad:
        sys.exit(1)


@click.command("check")
@PLANS
@click.option(
    "--strict", is_flag=True, help="Also report warnings (e.g. a phase with no duration): exit 1."
)
@json_option
def check(plans: tuple[Path, ...], strict: bool, as_json: bool) -> None:
    """Validate plans; report every problem as path:line: message.

    Errors (invalid YAML, an unknown task type or tag value, an unparsable duration,
    bad sessionmd markers, a file that is not UTF-8) exit 2. With --strict, warnings
    count too (no duration, conflicting durations) and exit 1. Notes that only say what
    was taken (default type, merged repeats, headings not taken) are never problems.
    Nothing is written.

    \b
    Example:
        sessionmd check plans/SESSION_3_PLAN.md
        sessionmd check --strict plans/
    """
    from sessionmd.plan.batch import compile_all
    from sessionmd.plan.compile import NOTE_CODES

    with bad_input_exits():
        refs = _refs(plans)
    results, failures = _split_outcomes(compile_all(refs))
    warnings = [
        d
        for result in results
        for d in (result.located(x, False) for x in result.diagnostics)
        if d.code not in NOTE_CODES
    ]
    if as_json:
        items: list[dict[str, Any]] = [
            {
                "path": f.path,
                "line": f.line,
                "code": "error",
                "message": f.message,
                "severity": "error",
            }
            for f in failures
        ]
        if strict:
            items += [
                {**w.model_dump(), "severity": "warning"}
                for w in warnings  # path, line, message, code
            ]
        click.echo(json.dumps(items, indent=2, ensure_ascii=False))
    else:
        for failure in failures:
            click.echo(str(failure), err=True)
        if strict:
            for warning in warnings:
                click.echo(str(warning))
        noun = "plan" if len(refs) == 1 else "plans"
        count = len(failures) + (len(warnings) if strict else 0)
        click.echo(
            f"sessionmd: {len(refs)} {noun} checked, {count} problem{'s' * (count != 1)}",
            err=True,
        )
    if failures:
        sys.exit(2)
    if strict and warnings:
        sys.exit(1)


@click.command("strip")
@PLANS
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the stripped text; write nothing.")
@json_option
def strip(plans: tuple[Path, ...], to_stdout: bool, as_json: bool) -> None:
    """Remove every sessionmd block: give back each plan as it was written (like cog -x).

    A frontmatter that sessionmd created itself goes too; a frontmatter the user wrote
    keeps every key, comment and byte. Running `sessionmd estimate` again puts the
    blocks back.

    \b
    Example:
        sessionmd strip plans/SESSION_3_PLAN.md
        sessionmd strip --stdout plans/SESSION_3_PLAN.md | diff - original.md
    """
    from sessionmd.plan.blocks import split
    from sessionmd.plan.write import read_plan, write_atomic

    stripped: list[tuple[PlanRef, str, int, bool]] = []
    with bad_input_exits():
        for ref in _refs(plans):
            text = read_plan(ref.path)
            parts = split(text, ref.shown)
            stripped.append((ref, parts.stripped, len(parts.blocks), parts.stripped != text))
    if to_stdout:
        for _, text, _, _ in stripped:
            sys.stdout.write(text)
        return
    with bad_input_exits():
        for ref, text, _, changed in stripped:
            if changed:
                write_atomic(ref.path, text)
    if as_json:
        data = [
            {"path": ref.shown, "blocks_removed": count, "changed": changed}
            for ref, _, count, changed in stripped
        ]
        click.echo(json.dumps(data, indent=2))
        return
    for ref, _, count, changed in stripped:
        if changed:
            click.echo(f"{ref.shown}: removed {count} sessionmd block{'s' * (count != 1)}")
        else:
            click.echo(f"{ref.shown}: no sessionmd blocks")
