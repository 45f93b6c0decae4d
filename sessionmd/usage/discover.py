"""Find Claude Code's transcripts the way Claude Code and ccusage 20 do.

``$CLAUDE_CONFIG_DIR`` (comma-separated) is the only source when it is set; otherwise
``~/.config/claude`` and ``~/.claude``. Each source counts only if it has ``projects/``, which
is walked recursively for ``*.jsonl`` (sub-agents write ``<session>/subagents/agent-*.jsonl``).
The environment and home are passed in so tests control them. Things that cannot be read - a
symlink loop, a ``*.jsonl`` that is a directory, a folder without permission - are collected
as problems, never raised: one bad entry must not hide the rest.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sessionmd.usage.roots import projects_roots
from sessionmd.usage.scan import Problem


@dataclass(slots=True)
class Transcript:
    """One ``*.jsonl`` file with the identity used to tell appends from replacements."""

    path: str
    session: str  # file stem, or the session folder for ``<session>/subagents/*.jsonl``
    project: str  # first folder under ``projects/``
    size: int
    mtime_ns: int
    inode: int
    dev: int


@dataclass(slots=True)
class Discovery:
    roots: list[Path] = field(default_factory=list)
    files: list[Transcript] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    dirs: list[tuple[str, int]] = field(default_factory=list)  # every folder walked, with mtime


def discover(
    data_dirs: Sequence[Path] | None, env: Mapping[str, str], home: Path | None = None
) -> Discovery:
    """Every transcript under the data dirs (``--data-dir``) or the config dirs from ``env``.

    A data dir may be a config dir (holding ``projects/``) or a ``projects`` folder itself.
    Files are returned sorted by path: ccusage's tie-break order.
    """
    found = Discovery()
    for projects in projects_roots(data_dirs, env, home):
        found.roots.append(Path(projects))
        _walk(projects, found)
    found.files.sort(key=lambda t: t.path)
    return found


def _walk(projects: str, found: Discovery) -> None:
    """Depth-first over ``projects``; the first two path parts give project and session."""
    visited: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    # (folder, project folder name, session folder name or "")
    stack: list[tuple[str, str, str]] = [(projects, "", "")]
    files = found.files
    problems = found.problems
    dirs = found.dirs
    while stack:
        folder, project, session_dir = stack.pop()
        try:
            st = os.stat(folder)
        except OSError as err:
            problems.append(Problem(folder, 0, f"unreadable folder: {err.strerror}"))
            continue
        ident = (st.st_dev, st.st_ino)
        if ident in visited:
            problems.append(Problem(folder, 0, "symlink loop (folder already visited)"))
            continue
        visited.add(ident)
        dirs.append((folder, st.st_mtime_ns))
        try:
            entries = list(os.scandir(folder))
        except OSError as err:
            problems.append(Problem(folder, 0, f"unreadable folder: {err.strerror}"))
            continue
        for entry in entries:
            name = entry.name
            if name.endswith(".jsonl"):
                try:
                    fst = entry.stat()
                except OSError as err:
                    # A dangling or looping symlink.
                    problems.append(Problem(entry.path, 0, f"unreadable: {err.strerror}"))
                    continue
                if not stat.S_ISREG(fst.st_mode):
                    kind = "a directory" if stat.S_ISDIR(fst.st_mode) else "not a regular file"
                    problems.append(Problem(entry.path, 0, f"skipped: {kind}"))
                    continue
                fid = (fst.st_dev, fst.st_ino)
                if fid in seen_files:
                    continue  # the same file reached twice through a symlink
                seen_files.add(fid)
                files.append(
                    Transcript(
                        entry.path,
                        session_dir or name[:-6],
                        project,
                        fst.st_size,
                        fst.st_mtime_ns,
                        fst.st_ino,
                        fst.st_dev,
                    )
                )
            else:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    if not project:
                        stack.append((entry.path, name, ""))
                    else:
                        stack.append((entry.path, project, session_dir or name))
