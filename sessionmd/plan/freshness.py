"""Is a compiled plan current? Answered without the markdown parse where possible.

Kept apart from ``sessionmd.plan.compile`` so that ``estimate --check`` on a folder of
current plans imports neither markdown-it nor the estimator: a digest match
(``sessionmd.plan.digest``) or ``status: done`` settles it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from sessionmd.config import CONFIG_FILE, ProjectConfig
from sessionmd.plan import digest
from sessionmd.plan.blocks import FRONTMATTER_SECTION, Split, split

Freshness = Literal["current", "record", "stale", "missing"]


def _maybe_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def salt_for(root: Path, config: ProjectConfig) -> str:
    """The digest salt of a project: its model file and config, byte for byte."""
    return digest.salt(_maybe_bytes(root / config.model_file), _maybe_bytes(root / CONFIG_FILE))


def is_record(stripped: str) -> bool:
    """``status: done`` in the frontmatter, read without the markdown parse."""
    from sessionmd.plan.frontmatter import find_frontmatter

    block = find_frontmatter(stripped)
    if block is None or "status" not in block.yaml:
        return False
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(block.yaml, Loader=loader)
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and data.get("status") == "done"


def quick_freshness(path: str, text: str, salt: str) -> Freshness | None:
    """``current``/``record`` when known without a parse, else ``None`` (compile to know).

    Raises ``PlanError`` for bad markers, like the full compile would.
    """
    if digest.is_current(text, salt):
        return "current"
    parts = split(text, path)
    if is_record(parts.stripped):
        return "record"
    return None


def recorded_section(parts: Split) -> dict[str, Any] | None:
    """The ``estimate:`` section the file holds now, as data (None when it has none)."""
    blocks = parts.blocks_by_kind.get(f"frontmatter:{FRONTMATTER_SECTION}")
    if not blocks:
        return None
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(blocks[0].text, Loader=loader)
    except yaml.YAMLError:
        return None
    if isinstance(data, dict) and isinstance(data.get(FRONTMATTER_SECTION), dict):
        section: dict[str, Any] = data[FRONTMATTER_SECTION]
        return section
    return None
