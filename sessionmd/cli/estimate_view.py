"""What ``sessionmd estimate`` shows: a rich table on a terminal, plain lines when piped.

Separate from the commands so that the wording lives in one place; both forms say the
same things: which phases were taken and from which line, the type each one defaulted
to, the totals, the quota share, what was not taken, and what changed since the last run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sessionmd.plan.compile import NOTE_CODES, CompileResult, changes_since
from sessionmd.usage.limits import Derived

DEFAULT_TYPE_NOTE = "* no **Type** tag: implementation assumed (the default)"


def hours_text(hours: tuple[float, float] | None) -> str:
    if hours is None:
        return "-"
    low, high = (f"{round(h, 2):g}" for h in hours)
    return f"{low}h" if low == high else f"{low}-{high}h"


def _author(tokens: tuple[int, int] | None) -> str:
    if tokens is None:
        return "-"
    low, high = tokens
    return f"{low:,}" if low == high else f"{low:,} - {high:,}"


def quota_text(result: CompileResult) -> str:
    total = result.estimate.total
    if total.quota is None or total.percent_of_quota is None:
        return "no quota set (add `quota:` to the frontmatter or sessionmd.yaml)"
    verdict = "fits" if total.fits else "does NOT fit"
    return (
        f"safe upper limit {total.safe_limit:,} is {total.percent_of_quota:g}% of "
        f"{total.quota:,} ({total.quota_source}): {verdict}"
    )


def derived_json(result: CompileResult, derived: Derived | None) -> dict[str, Any] | None:
    """This machine's derived 5-hour limit against the plan's safe upper limit, or None.

    The written estimate checks the portable quota (frontmatter or sessionmd.yaml) so that
    it reads the same on every machine and in CI; the user's own limit, derived from Claude
    Code's official percentage by ``status``/``statusline``, is what the plan really meets,
    so ``estimate`` reports it beside the written verdict.
    """
    if derived is None or not result.estimate.phases:
        return None
    safe = result.estimate.total.safe_limit
    return {
        "tokens": derived.tokens,
        "derivedAt": derived.derived_at.isoformat(),
        "percent": round(safe * 100.0 / derived.tokens, 1),
        "fits": safe <= derived.tokens,
    }


def derived_text(result: CompileResult, derived: Derived | None) -> str | None:
    data = derived_json(result, derived)
    if data is None or derived is None:
        return None
    verdict = "fits" if data["fits"] else "does NOT fit"
    return (
        f"safe upper limit {result.estimate.total.safe_limit:,} is {data['percent']:g}% of "
        f"your derived limit {derived.tokens:,} ({derived.source()} from Claude Code's "
        f"official percentage): {verdict}"
    )


def totals_text(result: CompileResult) -> str:
    total = result.estimate.total
    return (
        f"mid {total.mid:,} ({total.low:,} - {total.high:,}), buffered {total.buffered:,}, "
        f"safe upper limit {total.safe_limit:,}"
    )


def state_text(state: str) -> str:
    return {
        "written": "written",
        "unchanged": "unchanged",
        "would-write": "would change (nothing written)",
        "record": "record (status: done), left as it is",
    }.get(state, state)


def _problems(result: CompileResult, written: bool) -> list[str]:
    return [str(result.located(d, written)) for d in result.diagnostics if d.code not in NOTE_CODES]


def _not_taken(result: CompileResult, written: bool) -> list[str]:
    return [
        f"Line {d.line}: {d.message}"
        for d in (result.located(x, written) for x in result.diagnostics)
        if d.code == "skipped-heading"
    ]


def plain_plan(
    result: CompileResult, state: str, written: bool, derived: Derived | None = None
) -> list[str]:
    """One plan in plain text (pipes, logs, CI)."""
    phases = result.estimate.phases
    lines = [f"{result.path}: {state_text(state)}, {len(phases)} phases"]
    for pe in phases:
        kind = f"{pe.type} (default)" if pe.type_defaulted else pe.type
        author = f", author {_author(pe.author_tokens)}" if pe.author_tokens else ""
        lines.append(
            f"  Phase {pe.number} (line {result.file_line(pe.line, written)}): {pe.title}: "
            f"{hours_text(pe.hours)}, {kind}, mid {pe.tokens.mid:,} "
            f"({pe.tokens.low:,} - {pe.tokens.high:,}){author}"
        )
    if phases:
        lines.append(f"  Total: {totals_text(result)}")
        lines.append(f"  Quota: {quota_text(result)}")
        mine = derived_text(result, derived)
        if mine:
            lines.append(f"  Your limit: {mine}")
    lines.extend(f"  {item}" for item in _not_taken(result, written))
    lines.append(f"  Since the last run: {'; '.join(changes_since(result))}")
    lines.extend(f"  Warning: {item}" for item in _problems(result, written))
    return lines


@dataclass(frozen=True)
class Row:
    """One plan in a folder summary, from a compile or from the recorded estimate."""

    path: str
    state: str
    phases: int
    mid: int
    safe_limit: int
    percent_of_quota: float | None
    warnings: int | None  # None: not compiled, so not known


def row_of(result: CompileResult, state: str) -> Row:
    total = result.estimate.total
    return Row(
        result.path,
        state,
        len(result.estimate.phases),
        total.mid,
        total.safe_limit,
        total.percent_of_quota,
        len(_problems(result, False)),
    )


def row_of_recorded(path: str, section: dict[str, Any], state: str) -> Row:
    def number(key: str) -> int:
        value = section.get(key)
        return value if isinstance(value, int) else 0

    phases = section.get("phases")
    share = section.get("percent_of_quota")
    return Row(
        path,
        state,
        len(phases) if isinstance(phases, dict) else 0,
        number("mid"),
        number("safe_limit"),
        float(share) if isinstance(share, (int, float)) else None,
        None,
    )


def plain_row(row: Row) -> str:
    """One plan in one line (folders of plans)."""
    share = f", {row.percent_of_quota:g}% of quota" if row.percent_of_quota is not None else ""
    return (
        f"{row.path}: {state_text(row.state)}, {row.phases} phases, "
        f"mid {row.mid:,}, safe upper limit {row.safe_limit:,}{share}"
    )


def rich_plan(
    result: CompileResult, state: str, written: bool, derived: Derived | None = None
) -> list[Any]:
    """One plan as rich renderables: a heading line, the phase table, the totals."""
    from rich.table import Table
    from rich.text import Text

    out: list[Any] = [Text.assemble((result.path, "bold"), f": {state_text(state)}")]
    phases = result.estimate.phases
    if phases:
        table = Table(show_edge=False, pad_edge=False)
        for name, justify in (
            ("Phase", "left"),
            ("Title", "left"),
            ("Line", "right"),
            ("Hours", "right"),
            ("Type", "left"),
            ("Low", "right"),
            ("Mid", "right"),
            ("High", "right"),
            ("Author", "right"),
        ):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        defaulted = False
        for pe in phases:
            defaulted = defaulted or pe.type_defaulted
            table.add_row(
                pe.number,
                pe.title,
                str(result.file_line(pe.line, written)),
                hours_text(pe.hours),
                f"{pe.type}*" if pe.type_defaulted else pe.type,
                f"{pe.tokens.low:,}",
                Text(f"{pe.tokens.mid:,}", style="bold"),
                f"{pe.tokens.high:,}",
                _author(pe.author_tokens),
            )
        out.append(table)
        if defaulted:
            out.append(Text(DEFAULT_TYPE_NOTE, style="dim"))
        out.append(Text.assemble(("Total: ", "bold"), totals_text(result)))
        fits = result.estimate.total.fits
        style = "green" if fits else ("red" if fits is False else "yellow")
        out.append(Text.assemble(("Quota: ", "bold"), (quota_text(result), style)))
        mine = derived_json(result, derived)
        if mine is not None:
            colour = "green" if mine["fits"] else "red"
            out.append(
                Text.assemble(
                    ("Your limit: ", "bold"), (derived_text(result, derived) or "", colour)
                )
            )
    else:
        out.append(Text("No phases found: nothing to estimate.", style="yellow"))
    for item in _not_taken(result, written):
        out.append(Text(item, style="dim"))
    out.append(Text.assemble(("Since the last run: ", "bold"), "; ".join(changes_since(result))))
    for item in _problems(result, written):
        out.append(Text(f"Warning: {item}", style="yellow"))
    return out


def rich_rows(rows: Sequence[Row]) -> Any:
    """Several plans: one table row each."""
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False)
    table.add_column("Plan", overflow="fold")
    for name, justify in (
        ("State", "left"),
        ("Phases", "right"),
        ("Mid", "right"),
        ("Safe limit", "right"),
        ("Quota", "right"),
        ("Warnings", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        share = "-" if row.percent_of_quota is None else f"{row.percent_of_quota:g}%"
        table.add_row(
            row.path,
            state_text(row.state),
            str(row.phases),
            f"{row.mid:,}",
            f"{row.safe_limit:,}",
            share,
            "-" if row.warnings is None else str(row.warnings),
        )
    return table
