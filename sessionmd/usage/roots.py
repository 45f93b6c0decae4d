"""Where Claude Code's transcripts live: the config dirs and their ``projects`` folders.

Standard library only, so the status line can name the folders (and so its state file)
without importing the engine.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path


def config_dirs(env: Mapping[str, str], home: Path | None = None) -> list[Path]:
    """The Claude config dirs to read, in ccusage's order (before checking ``projects/``)."""
    raw = env.get("CLAUDE_CONFIG_DIR", "").strip()
    if raw:
        return [Path(p.strip()).expanduser() for p in raw.split(",") if p.strip()]
    home = home if home is not None else Path(env.get("HOME") or os.path.expanduser("~"))
    return [home / ".config" / "claude", home / ".claude"]


def projects_folder(base: Path, explicit: bool) -> Path | None:
    """``base/projects`` when it is a folder; ``base`` itself when it was given explicitly
    (``--data-dir``) and is a ``projects`` folder. Absolute: cache keys and file paths must
    not depend on the working directory."""
    base = Path(os.path.abspath(base))
    projects = base / "projects"
    if projects.is_dir():
        return projects
    if explicit and base.name == "projects" and base.is_dir():
        return base
    return None


def projects_roots(
    data_dirs: Iterable[Path] | None, env: Mapping[str, str], home: Path | None = None
) -> list[str]:
    """The ``projects`` folders ``discover`` walks, in its order, without walking them."""
    roots: list[str] = []
    seen: set[str] = set()
    given = list(data_dirs or ())
    for base in given or config_dirs(env, home):
        projects = projects_folder(base, bool(given))
        if projects is None:
            continue
        real = os.path.realpath(projects)
        if real not in seen:
            seen.add(real)
            roots.append(str(projects))
    return roots
