"""A new plan file from a template, numbered one past the highest plan in its folder.

The built-in template (``sessionmd/templates/plan.md.j2``) writes the frontmatter and
phase skeletons in the form the compiler reads best. A project overrides it with its
own Jinja2 template at ``.sessionmd/templates/plan.md.j2`` in the repo (reviewed and
shared like the plans), or per call with ``--template``. A template gets ``session``
(the number), ``title``, ``path`` (the plan's path relative to the root, with ``/``)
and the ``yaml_str`` filter, which quotes a string for YAML.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sessionmd.errors import ConfigError, PlanError

PROJECT_TEMPLATE = Path(".sessionmd") / "templates" / "plan.md.j2"
BUILTIN_TEMPLATE = "plan.md.j2"
PLAN_NAME = re.compile(r"^SESSION_(\d+)(?:[^\d][^/]*)?_PLAN\.md$", re.IGNORECASE)


@dataclass(frozen=True)
class Template:
    text: str
    name: str  # shown to the user: "built-in" or the file's path


def next_session_number(folder: Path) -> int:
    """One past the highest ``SESSION_<N>..._PLAN.md`` in ``folder`` (1 when there is none).

    ``SESSION_6B_PLAN.md`` counts as 6, so the next plan after it is 7.
    """
    highest = 0
    if folder.is_dir():
        for entry in folder.iterdir():
            match = PLAN_NAME.match(entry.name)
            if match:
                highest = max(highest, int(match.group(1)))
    return highest + 1


def find_template(root: Path, explicit: Path | None = None) -> Template:
    """``explicit``, else the project's ``.sessionmd/templates/plan.md.j2``, else built-in."""
    path = explicit if explicit is not None else root / PROJECT_TEMPLATE
    if explicit is not None or path.is_file():
        try:
            return Template(path.read_text(encoding="utf-8"), str(path))
        except FileNotFoundError:
            raise ConfigError("template not found", str(path)) from None
        except UnicodeDecodeError:
            raise ConfigError("template is not UTF-8", str(path)) from None
    from importlib.resources import files

    text = (files("sessionmd") / "templates" / BUILTIN_TEMPLATE).read_text(encoding="utf-8")
    return Template(text, "built-in")


def render_plan(template: Template, session: int, title: str, path: str) -> str:
    """The plan's text: the template with its variables filled in."""
    import jinja2

    from sessionmd.estimate.render import yaml_str

    env = jinja2.Environment(
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["yaml_str"] = lambda value: yaml_str(str(value))
    try:
        return env.from_string(template.text).render(session=session, title=title, path=path)
    except jinja2.TemplateSyntaxError as err:
        raise ConfigError(f"template: {err.message}", template.name, err.lineno) from None
    except jinja2.TemplateError as err:
        raise ConfigError(f"template: {err}", template.name) from None


def write_exclusive(path: Path, text: str) -> None:
    """Write a new file in one step, never replacing one that exists.

    The text goes to a temporary file beside it first and is then hard-linked into
    place, which fails if the name is taken: no reader ever sees half a plan, and a plan
    that appeared meanwhile is left alone. Where hard links are not supported, an
    exclusive create is used instead.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); a plan gets the usual mode, as any new file
        os.chmod(tmp, 0o666 & ~_umask())
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise PlanError("already exists: not overwritten", str(path)) from None
        except OSError:
            _create_exclusive(path, data)
    finally:
        os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _create_exclusive(path: Path, data: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        raise PlanError("already exists: not overwritten", str(path)) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


@dataclass(frozen=True)
class NewPlan:
    path: Path
    session: int
    template: str


def new_plan(root: Path, folder: Path, title: str | None, template: Path | None) -> NewPlan:
    """Write ``folder/SESSION_<N>_PLAN.md`` for the next N; return where and from what."""
    session = next_session_number(folder)
    path = folder / f"SESSION_{session}_PLAN.md"
    chosen = find_template(root, template)
    try:
        shown = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        shown = path.name
    title = " ".join((title or "").split()) or f"Session {session}"  # one line: it is a heading
    text = render_plan(chosen, session, title, shown)
    write_exclusive(path, text)
    return NewPlan(path, session, chosen.name)
