"""Builders for the status tests: usage entries and ccusage-rule 5-hour blocks.

Not a transcript reader: the tests build entries directly, the way the usage engine's
output looks, so zone, limit and status maths can be checked under a controlled clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sessionmd.usage.models import Block, TokenCounts, UsageEntry

FIVE = timedelta(hours=5)


def entry(when: datetime, tokens: int, session: str = "s1", cache_read: int = 0) -> UsageEntry:
    """An entry of ``tokens`` in the default measure, split over input/output/cache creation."""
    third = tokens // 3
    counts = TokenCounts(third, third, tokens - 2 * third, cache_read)
    return UsageEntry(when, counts, session, "-home-dev-app")


def blocks_of(entries: Sequence[UsageEntry], now: datetime) -> list[Block]:
    """ccusage's rule: start at the first entry floored to the hour, 5 hours long, a new
    block after 5 hours from its start or from the previous entry."""
    out: list[Block] = []
    for e in sorted(entries, key=lambda x: x.timestamp):
        last = out[-1] if out else None
        if (
            last is None
            or e.timestamp - last.start > FIVE
            or (last.entries and e.timestamp - last.entries[-1].timestamp > FIVE)
        ):
            start = e.timestamp.replace(minute=0, second=0, microsecond=0)
            last = Block(start, start + FIVE, None, False, False)
            out.append(last)
        last.entries.append(e)
        last.tokens = last.tokens + e.tokens
        last.actual_end = e.timestamp
    for b in out:
        b.is_active = b.start <= now < b.end
    return out


# -- a generated corpus, shared by the end-to-end tests ---------------------------------

# The team's generator, as the usage tests keep a byte-identical copy of it in the repo.
GENERATOR = Path(__file__).parent / "fixtures" / "usage" / "gen_transcripts.py"
CORPUS_ARGS = ["--projects", "2", "--sessions", "3", "--messages", "30", "--seed", "8"]
CORPUS_START = "2026-11-20T00:00:00Z"
# Inside the corpus's last block (20:00-01:00 UTC), 5 minutes after its last reply (the
# status line's recent cache follows the newest entries, so none may come after "now").
CORPUS_NOW = "2026-11-21T23:55:00Z"


def make_corpus(out: Path, *extra: str) -> dict[str, Any]:
    """Write a corpus with the shared generator; return its ccusage-20 oracle."""
    subprocess.run(
        [
            sys.executable,
            str(GENERATOR),
            str(out),
            *CORPUS_ARGS,
            "--start",
            CORPUS_START,
            "--days",
            "2",
            "--now",
            CORPUS_NOW,
            *extra,
        ],
        check=True,
        capture_output=True,
    )
    oracle: dict[str, Any] = json.loads((out / "oracle.json").read_text())
    return oracle


def cli_env(tmp: Path, corpus: Path, now: str = CORPUS_NOW) -> dict[str, str]:
    """An environment that points sessionmd at ``corpus`` and keeps its state under ``tmp``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESSIONMD_", "CLAUDE_"))}
    env.update(
        HOME=str(tmp / "home"),
        CLAUDE_CONFIG_DIR=str(corpus),
        SESSIONMD_CACHE_DIR=str(tmp / "cache"),
        SESSIONMD_STATE_DIR=str(tmp / "state"),
        SESSIONMD_NOW=now,
        TZ="America/New_York",
        NO_COLOR="1",
        COLUMNS="100",
    )
    return env


def run_cli(
    args: list[str], env: dict[str, str], stdin: bytes = b"", cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "sessionmd", *args],
        input=stdin,
        env=env,
        capture_output=True,
        cwd=cwd,
        timeout=60,
    )


def append_response(corpus: Path, request_id: str, usage: dict[str, int]) -> None:
    """Claude Code writes one more response into the newest transcript: a copy of its last
    assistant line, at 23:54 on the corpus's day, with a new id and ``usage``."""
    live = max(corpus.glob("projects/*/*.jsonl"), key=lambda p: p.stat().st_mtime_ns)
    line: dict[str, Any] = next(
        json.loads(raw)
        for raw in reversed(live.read_bytes().splitlines())
        if raw.startswith(b"{") and b'"type":"assistant"' in raw
    )
    line["timestamp"] = "2026-11-21T23:54:00.000Z"
    line["requestId"] = f"req_{request_id}"
    line["message"]["id"] = f"msg_{request_id}"
    line["message"]["usage"] = usage
    with live.open("a") as handle:
        handle.write(json.dumps(line, separators=(",", ":")) + "\n")
