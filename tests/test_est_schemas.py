"""schemas/ holds the JSON Schemas generated from the models, and stays up to date."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sessionmd.schemas import generate, main, stale

ROOT = Path(__file__).resolve().parents[1]


def test_committed_schemas_are_up_to_date() -> None:
    assert stale(ROOT / "schemas") == [], "schemas/ is out of date: run `make schemas`"
    assert sorted(p.name for p in (ROOT / "schemas").glob("*.json")) == sorted(generate())


def test_schemas_describe_the_models() -> None:
    texts = generate()
    plan = json.loads(texts["plan-frontmatter.schema.json"])
    assert plan["$schema"].endswith("2020-12/schema")
    assert plan["properties"]["status"]["anyOf"][0]["enum"] == ["planned", "in_progress", "done"]
    model = json.loads(texts["estimation-model.schema.json"])
    assert "required" not in json.dumps(model)  # every key of the model file is optional
    assert model["additionalProperties"] is False
    config = json.loads(texts["sessionmd-config.schema.json"])
    assert config["properties"]["model_file"]["default"] == "sessionmd-model.yaml"


def test_check_mode_finds_a_stale_file(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path)]) == 0
    (tmp_path / "plan-frontmatter.schema.json").write_text("{}\n", encoding="utf-8")
    assert main(["--check", str(tmp_path)]) == 1
    assert stale(tmp_path) == ["plan-frontmatter.schema.json"]
    assert main([]) == 2


def test_runs_as_a_module(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sessionmd.schemas", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.count("wrote ") == 4
