"""``sessionmd estimate``, ``check`` and ``strip``: the plan compiler's commands.

Thin: collect the files, call ``sessionmd.plan`` (compile, check, strip), write
atomically, print. Bad input anywhere means nothing is written at all.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sessionmd.cli.options import console, json_option

if TYPE_CHECKING:
    from sessionmd.plan.batch import Failure, Outcome, PlanRef
    from sessionmd.plan.compile import CompileResult

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
    return collect(plans, cwd)


def _fail(failures: Sequence[Failure]) -> None:
    for failure in failures:
        click.echo(f"sessionmd: {failure}", err=True)
    sys.exit(2)


def _guard() -> Any:
    from sessionmd.cli.options import bad_input_exits

    return bad_input_exits()


def _unified(result: CompileResult) -> str:
    import difflib

    return "".join(
        difflib.unified_diff(
            result.old_text.splitlines(keepends=True),
            result.new_text.splitlines(keepends=True),
            fromfile=f"a/{result.path}",
            tofile=f"b/{result.path}",
        )
    )


def _split_outcomes(outcomes: Sequence[Outcome]) -> tuple[list[CompileResult], list[Failure]]:
    from sessionmd.plan.batch import Failure

    failures = [o for o in outcomes if isinstance(o, Failure)]
    results = [o for o in outcomes if not isinstance(o, Failure)]
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
    with _guard():
        refs = _refs(plans)
    parallel = None if jobs is None else jobs > 1
    if check:
        _run_check(refs, parallel, diff, as_json)
        return
    from sessionmd.plan.batch import compile_all

    results, failures = _split_outcomes(compile_all(refs, parallel))
    if failures:
        _fail(failures)
    if diff:
        for result in results:
            if result.changed:
                click.echo(_unified(result), nl=False)
        return
    write = not dry_run
    states: list[str] = []
    for result in results:
        if result.record:
            states.append("record")
        elif not result.changed:
            states.append("unchanged")
        elif write:
            from sessionmd.plan.write import write_atomic

            with _guard():
                write_atomic(_path_of(refs, result), result.new_text)
            states.append("written")
        else:
            states.append("would-write")
    written = write
    if as_json:
        from sessionmd.plan.compile import plan_json

        data = [
            {**plan_json(result, written and state == "written"), "state": state}
            for result, state in zip(results, states, strict=True)
        ]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    _show(results, states, write)


def _path_of(refs: Sequence[PlanRef], result: CompileResult) -> Path:
    for ref in refs:
        if ref.shown == result.path:
            return ref.path
    return Path(result.path)


def _show(results: Sequence[CompileResult], states: Sequence[str], write: bool) -> None:
    from sessionmd.cli import estimate_view as view

    out = console()
    rows = list(zip(results, states, strict=True))
    if out.is_terminal:
        if len(rows) == 1:
            result, state = rows[0]
            for item in view.rich_plan(result, state, write and state == "written"):
                out.print(item)
        else:
            out.print(view.rich_rows(rows))
    else:
        for result, state in rows:
            if len(rows) == 1:
                for line in view.plain_plan(result, state, write and state == "written"):
                    click.echo(line)
            else:
                click.echo(view.plain_row(result, state))
    if len(rows) > 1:
        counts: dict[str, int] = {}
        for state in states:
            counts[state] = counts.get(state, 0) + 1
        summary = ", ".join(f"{n} {view.state_text(s)}" for s, n in sorted(counts.items()))
        click.echo(f"{len(rows)} plans: {summary}")


def _run_check(refs: Sequence[PlanRef], parallel: bool | None, diff: bool, as_json: bool) -> None:
    from sessionmd.plan.batch import check_all

    outcomes = check_all(refs, parallel)
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

    with _guard():
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
    with _guard():
        for ref in _refs(plans):
            text = read_plan(ref.path)
            parts = split(text, ref.shown)
            stripped.append((ref, parts.stripped, len(parts.blocks), parts.stripped != text))
    if to_stdout:
        for _, text, _, _ in stripped:
            sys.stdout.write(text)
        return
    with _guard():
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
