"""``sessionmd new``: start the next session's plan from a template."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from sessionmd.cli.options import bad_input_exits, json_option


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


@click.command("new")
@click.argument("title", nargs=-1)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Plans folder (default: plans_dir of sessionmd.yaml, which defaults to plans/).",
)
@click.option(
    "--template",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Jinja2 template to use instead of .sessionmd/templates/plan.md.j2 or the built-in one.",
)
@json_option
def new(title: tuple[str, ...], folder: Path | None, template: Path | None, as_json: bool) -> None:
    """Write the next plans/SESSION_N_PLAN.md, N one past the highest plan in the folder.

    The plan starts with frontmatter and phase skeletons (Type, Duration, Complexity,
    Libraries, Confidence) in the form `sessionmd estimate` reads best. An existing
    file is never overwritten. A project's own template lives at
    .sessionmd/templates/plan.md.j2 (variables: session, title, path).

    \b
    Example:
        sessionmd new Real-Time Dashboard
        sessionmd new --dir docs/plans "Auth refactor"
    """
    from sessionmd.config import find_root, load_config
    from sessionmd.plan.new import new_plan

    with bad_input_exits():
        root = find_root(Path.cwd())
        config = load_config(root)
        plans = folder if folder is not None else root / config.plans_dir
        made = new_plan(root, plans, " ".join(title).strip() or None, template)
    used = made.template if made.template == "built-in" else _shown(Path(made.template))
    if as_json:
        click.echo(
            json.dumps({"path": _shown(made.path), "session": made.session, "template": used})
        )
    else:
        click.echo(
            f"wrote {_shown(made.path)} (session {made.session}, template: {used})\n"
            f"next: fill in the phases, then `sessionmd estimate {_shown(made.path)}`"
        )
