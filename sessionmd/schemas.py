"""JSON Schemas of the files users write, generated from the pydantic models.

Editors (YAML language servers) and CI validate plans, handoffs, the config and the model
file against ``schemas/*.schema.json``; a test fails when a file there is out of date.
Regenerate with ``make schemas`` (``python -m sessionmd.schemas schemas``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from sessionmd.config import ProjectConfig
from sessionmd.estimate.model import EstimationModel
from sessionmd.plan.models import HandoffFrontmatter, PlanFrontmatter

SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "plan-frontmatter.schema.json": (
        PlanFrontmatter,
        "YAML frontmatter of a sessionmd plan (plans/SESSION_N_PLAN.md).",
    ),
    "handoff-frontmatter.schema.json": (
        HandoffFrontmatter,
        "YAML frontmatter of a sessionmd handoff (handoffs/*.md).",
    ),
    "estimation-model.schema.json": (
        EstimationModel,
        "sessionmd's estimation model file (sessionmd-model.yaml): every key optional, "
        "merged over the defaults.",
    ),
    "sessionmd-config.schema.json": (ProjectConfig, "sessionmd's project config (sessionmd.yaml)."),
}


def generate() -> dict[str, str]:
    """File name -> the schema's text, byte for byte as it is committed."""
    out = {}
    for name, (model, description) in SCHEMAS.items():
        schema = model.model_json_schema()
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            **schema,
            "description": description,
        }
        if model is EstimationModel:
            _drop_required(schema)  # the file holds overrides, merged over the defaults
        out[name] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return out


def _drop_required(node: object) -> None:
    if isinstance(node, dict):
        node.pop("required", None)
        for value in node.values():
            _drop_required(value)
    elif isinstance(node, list):
        for value in node:
            _drop_required(value)


def stale(folder: Path) -> list[str]:
    """Names of the schema files in ``folder`` that are missing or differ from the models."""
    return [
        name
        for name, text in generate().items()
        if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != text
    ]


def main(argv: list[str]) -> int:
    """``python -m sessionmd.schemas [--check] FOLDER``: write (or check) the schemas."""
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    if len(args) != 1:
        sys.stderr.write("usage: python -m sessionmd.schemas [--check] FOLDER\n")
        return 2
    folder = Path(args[0])
    if check:
        names = stale(folder)
        for name in names:
            sys.stderr.write(f"{folder / name}: out of date (run `make schemas`)\n")
        return 1 if names else 0
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in generate().items():
        (folder / name).write_text(text, encoding="utf-8", newline="\n")
        sys.stdout.write(f"wrote {folder / name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
