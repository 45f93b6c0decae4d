"""Helpers for the usage tests: generated corpora (with their oracle) and transcript lines.

The generator is the team's ``gen_transcripts.py``, copied into tests/fixtures/usage/ so the
suite runs from a clean clone; it is deterministic for a seed and arguments.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

GENERATOR = Path(__file__).parent / "fixtures" / "usage" / "gen_transcripts.py"
NOW = "2026-02-01T00:00:00Z"
NOW_DT = datetime(2026, 2, 1, tzinfo=timezone.utc)


MISSING: Any = object()  # ``with_field``: remove the field instead of setting it


def with_field(obj: Any, path: tuple[str, ...], value: Any) -> Any:
    """A deep copy of the JSON object ``obj`` with the field at ``path`` set to ``value``
    (or removed, for ``MISSING``): one malformed variant of a transcript line."""
    out = json.loads(json.dumps(obj))
    node = out
    for key in path[:-1]:
        node = node[key]
    if value is MISSING:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return out


def generate(out: Path, *args: str, now: str = NOW) -> dict[str, Any]:
    """Write a corpus into ``out`` and return its oracle.json."""
    subprocess.run(
        [sys.executable, str(GENERATOR), str(out), "--now", now, *args],
        check=True,
        capture_output=True,
    )
    oracle: dict[str, Any] = json.loads((out / "oracle.json").read_text())
    return oracle


def assistant_line(
    *,
    ts: str,
    mid: str,
    rid: str | None = "req_1",
    session: str = "s1",
    inp: int = 1,
    out: int = 1,
    cc: int = 0,
    cr: int = 0,
    model: str = "claude-sonnet-4-5-20250929",
    sidechain: bool = False,
    cwd: str = "/home/dev/app",
) -> str:
    obj: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": sidechain,
        "userType": "external",
        "cwd": cwd,
        "sessionId": session,
        "version": "2.1.37",
        "type": "assistant",
        "message": {
            "model": model,
            "id": mid,
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "hello"}],
            "usage": {
                "input_tokens": inp,
                "cache_creation_input_tokens": cc,
                "cache_read_input_tokens": cr,
                "output_tokens": out,
            },
        },
        "uuid": "u-" + mid,
        "timestamp": ts,
    }
    if rid is not None:
        obj["requestId"] = rid
    return json.dumps(obj, separators=(",", ":"))


def write_session(root: Path, project: str, session: str, lines: list[str]) -> Path:
    """``root/projects/<project>/<session>.jsonl`` with one line each, newline-terminated."""
    path = root / "projects" / project / f"{session}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def tokens(row: dict[str, Any]) -> tuple[int, int, int, int]:
    return (
        row["inputTokens"],
        row["outputTokens"],
        row["cacheCreationTokens"],
        row["cacheReadTokens"],
    )


# Models of equal cost (no price, so 0) on one day: ccusage 20 lists them in the order it met
# them, which follows (file path, line), whatever their times say. Each case is lines of
# (project folder, session file, model, hour), written in this order; the times run
# against the paths, so an order by time would differ.
TIE_CASES: dict[str, list[tuple[str, str, str, int]]] = {
    "files": [("-p", "c", "m-c", 10), ("-p", "a", "m-a", 12), ("-p", "b", "m-b", 11)],
    "folders": [("-q", "c", "m-c", 10), ("-p", "z", "m-a", 12), ("-r", "b", "m-b", 11)],
    "lines": [("-p", "s", "m-y", 11), ("-p", "s", "m-x", 10)],
}
TIE_ORDER = {
    "files": ["m-a", "m-b", "m-c"],
    "folders": ["m-a", "m-c", "m-b"],
    "lines": ["m-y", "m-x"],
}


def write_ties(root: Path, case: str) -> None:
    """``TIE_CASES[case]`` as transcripts under ``root/projects``."""
    for n, (project, session, model, hour) in enumerate(TIE_CASES[case]):
        line = assistant_line(
            ts=f"2026-01-05T{hour:02d}:00:00.000Z", mid=f"m{n}", rid=f"r{n}", model=model
        )
        path = root / "projects" / project / f"{session}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
