"""sessionmd: plannable, continuous Claude Code sessions, markdown-first and git-tracked.

The package is a library first; ``sessionmd.cli`` is a thin layer over it. Heavy
dependencies (pydantic, rich, markdown-it-py, GitPython) are imported where they are
used, so that ``sessionmd statusline`` stays fast.
"""

__version__ = "0.1.0"
