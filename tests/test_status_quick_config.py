"""The status line's pydantic-free config reader: values, cache, and bad values dropped."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sessionmd.usage import quick_config


def test_reads_and_caches_the_settings(tmp_path: Path) -> None:
    root, state = tmp_path / "proj", tmp_path / "state"
    root.mkdir()
    (root / "sessionmd.yaml").write_text(
        "quota: max5\ntimezone: Europe/Berlin\ntoken_measure: [input, output]\n"
        "weekly: {limit: 2000000, reset_weekday: 3, reset_hour: 9}\nplans_dir: plans\n"
    )
    expected = {
        "quota": "max5",
        "timezone": "Europe/Berlin",
        "token_measure": ["input", "output"],
        "weekly": {"limit": 2_000_000, "reset_weekday": 3, "reset_hour": 9},
    }
    assert quick_config.load(root, state) == expected
    cache = json.loads((state / quick_config.CACHE_FILE).read_text())
    assert cache[str(root / "sessionmd.yaml")]["values"] == expected
    # a cache hit does not read the file: make the YAML unreadable garbage, same size and mtime
    path = root / "sessionmd.yaml"
    st = path.stat()
    path.write_bytes(b"\x00" * st.st_size)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert quick_config.load(root, state) == expected
    # a change is seen
    path.write_text("quota: 50000\n")
    assert quick_config.load(root, state) == {"quota": 50_000}


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("quota: plenty\n", {}),
        ("quota: true\n", {}),
        ("quota: auto\n", {"quota": "auto"}),
        ("timezone: Mars/Olympus\n", {}),
        ("token_measure: [input, tokens]\n", {}),
        ("weekly: {reset_weekday: 9, reset_hour: 5}\n", {"weekly": {"reset_hour": 5}}),
        ("[not, a, mapping]\n", {}),
        ("quota: [unclosed\n", {}),
    ],
)
def test_bad_values_are_dropped(
    tmp_path: Path, yaml_text: str, expected: dict[str, object]
) -> None:
    (tmp_path / "sessionmd.yaml").write_text(yaml_text)
    assert quick_config.load(tmp_path, tmp_path / "state") == expected


def test_no_config_and_root_search(tmp_path: Path) -> None:
    assert quick_config.load(tmp_path, tmp_path / "state") == {}
    (tmp_path / ".git").mkdir()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert quick_config.find_root(deep) == tmp_path
