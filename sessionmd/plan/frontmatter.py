"""The YAML frontmatter block at the top of a plan (``---`` ... ``---``).

Delimiters as python-frontmatter reads them: a line of three or more dashes opens the
file (after an optional BOM) and the next such line closes the block.

Read with PyYAML's safe loader on the delimited block rather than python-frontmatter, so
that a YAML error carries its line in the file and the block's extent is known exactly
(the rewriter splices the ``estimate`` section into it as text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from sessionmd.errors import PlanError
from sessionmd.plan.models import PlanFrontmatter

__all__ = ["FrontmatterBlock", "find_frontmatter", "read_frontmatter"]

_OPEN = re.compile(r"\A\ufeff?-{3,}[ \t]*\r?\n")
_CLOSE = re.compile(r"^-{3,}[ \t]*\r?$", re.MULTILINE)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class FrontmatterBlock:
    """Where the frontmatter sits: ``yaml`` is the text between the delimiter lines."""

    yaml: str
    line_count: int  # lines of the block, both delimiter lines included
    end: int  # offset in the text just after the closing delimiter line


def find_frontmatter(text: str) -> FrontmatterBlock | None:
    """The frontmatter block at the top of ``text`` (a BOM may precede it), or ``None``.

    An opening ``---`` with no closing line is not a frontmatter: it is a thematic break.
    """
    opened = _OPEN.match(text)
    if not opened:
        return None
    closed = _CLOSE.search(text, opened.end())
    if not closed:
        return None
    end = closed.end()
    if text.startswith("\r\n", end):
        end += 2
    elif text.startswith("\n", end):
        end += 1
    yaml_text = text[opened.end() : closed.start()]
    line_count = 2 + yaml_text.count("\n")
    return FrontmatterBlock(yaml=yaml_text, line_count=line_count, end=end)


def _key_line(yaml_text: str, key: object) -> int:
    """1-based line (within the YAML) of a top-level ``key:``; 1 when not found."""
    if isinstance(key, str):
        m = re.search(rf"^{re.escape(key)}[ \t]*:", yaml_text, re.MULTILINE)
        if m:
            return yaml_text.count("\n", 0, m.start()) + 1
    return 1


def read_frontmatter(block: FrontmatterBlock | None, path: str) -> PlanFrontmatter:
    """Parse and validate the block; bad YAML or a bad value is a ``path:line`` PlanError."""
    if block is None:
        return PlanFrontmatter()
    try:
        data = yaml.load(block.yaml, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = 2 + (mark.line if mark is not None else 0)
        problem = exc.problem or exc.context or "invalid YAML"
        raise PlanError(f"invalid YAML in frontmatter: {problem}", path, line) from None
    except yaml.YAMLError as exc:
        raise PlanError(f"invalid YAML in frontmatter: {exc}", path, 1) from None
    if data is None:
        return PlanFrontmatter()
    if not isinstance(data, dict):
        raise PlanError("frontmatter must be a mapping of keys to values", path, 2)
    for key in data:
        if not isinstance(key, str):
            raise PlanError(
                f"frontmatter key {key!r} must be a string", path, 1 + _key_line(block.yaml, key)
            )
    for key in ("session", "from_session"):
        if isinstance(data.get(key), float):
            data[key] = repr(data[key])  # "session: 2.5" is a session id, not a float
    try:
        fm = PlanFrontmatter.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err.get("loc", ())
        key = loc[0] if loc else None
        # "exclude.0", not "session.int" (pydantic names the union member it tried)
        where = ".".join(str(p) for p in loc if p == key or isinstance(p, int)) or "frontmatter"
        line = 1 + _key_line(block.yaml, key)
        message = f"frontmatter {where}: {err.get('msg', 'invalid value')}"
        raise PlanError(message, path, line) from None
    when = fm.scheduled_for
    if when is not None and when.utcoffset() is None:
        raise PlanError(
            "frontmatter scheduled_for needs a UTC offset, e.g. 2026-01-06T14:00:00+01:00",
            path,
            1 + _key_line(block.yaml, "scheduled_for"),
        )
    return fm
