"""Warm `sessionmd statusline` time, the way Claude Code runs it: cache present, a few
lines appended to the live transcript before each call.

Run as a script (``make bench`` runs every bench/*_bench.py):

    .venv/bin/python bench/status_bench.py [--mb 200] [--runs 30] [--keep DIR]

It generates a corpus with the shared generator, fills the cache with one cold
`sessionmd status --json`, then times N status line calls, each after appending three
assistant lines (one streamed response) to the newest transcript. Python's own start-up
(`python -c pass`, same venv) is measured the same way beside it. Bytecode is compiled
first and PYTHONDONTWRITEBYTECODE is cleared, as on a user's machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sessionmd.usage.live import load_live

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "tests" / "fixtures" / "usage" / "gen_transcripts.py"


CPU: list[float] = []  # user + system seconds of each timed child, in call order


def timed(cmd: list[str], env: dict[str, str], stdin: bytes) -> tuple[float, bytes]:
    """Wall seconds of one run (CPU seconds go to CPU: steadier on a busy machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, input=stdin, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, proc.stdout


def newest_transcript(corpus: Path) -> Path:
    files = [p for p in corpus.glob("projects/*/*.jsonl")]
    return max(files, key=lambda p: p.stat().st_mtime_ns)


def last_assistant(path: Path) -> dict[str, object]:
    for raw in reversed(path.read_bytes().splitlines()):
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if line.get("type") == "assistant" and isinstance(line.get("message"), dict):
            return dict(line)
    raise SystemExit(f"no assistant line in {path}")


def append_response(path: Path, template: dict[str, object], when: datetime, n: int) -> None:
    """One streamed response: three lines sharing ids, output growing, as Claude Code writes."""
    lines = []
    for part, out in enumerate((5, 60, 240)):
        line = json.loads(json.dumps(template))
        line["uuid"] = f"bench-{n}-{part}"
        line["timestamp"] = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        line["requestId"] = f"req_bench_{n}"
        message = line["message"]
        message["id"] = f"msg_bench_{n}"
        message["usage"] = {
            "input_tokens": 4,
            "output_tokens": out,
            "cache_creation_input_tokens": 1200,
            "cache_read_input_tokens": 40_000,
        }
        lines.append(json.dumps(line, separators=(",", ":")))
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="corpus size in MiB")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="reuse/keep the corpus in this dir")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="status-bench-"))
    corpus = args.keep or work / "corpus"
    if not (corpus / "oracle.json").exists():
        subprocess.run(
            [sys.executable, str(GENERATOR), str(corpus), "--projects", "12",
             "--target-mb", str(args.mb), "--days", "30", "--seed", "21",
             "--start", "auto", "--oracle", str(corpus / "oracle.json")],
            check=True, capture_output=True,
        )  # fmt: skip
    size = sum(p.stat().st_size for p in corpus.rglob("*.jsonl"))
    live = newest_transcript(corpus)
    template = last_assistant(live)
    last = datetime.fromisoformat(str(template["timestamp"]).replace("Z", "+00:00"))
    now = last + timedelta(minutes=10)

    python = str(ROOT / ".venv" / "bin" / "python")
    sessionmd = str(ROOT / ".venv" / "bin" / "sessionmd")
    subprocess.run([python, "-m", "compileall", "-q", str(ROOT / "sessionmd")], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        CLAUDE_CONFIG_DIR=str(corpus),
        SESSIONMD_CACHE_DIR=str(work / "cache"),
        SESSIONMD_STATE_DIR=str(work / "state"),
        SESSIONMD_NOW=now.isoformat(),
        NO_COLOR="1",
    )

    def claude_input(at: datetime) -> bytes:
        return json.dumps(
            {
                "session_id": live.stem,
                "transcript_path": str(live),
                "cwd": str(template.get("cwd", "/")),
                "model": {"id": "claude-opus-4-5", "display_name": "Opus 4.5"},
                "rate_limits": {
                    "five_hour": {"used_percentage": 42.0, "resets_at": int((at + timedelta(hours=2)).timestamp())},
                    "seven_day": {"used_percentage": 18.0, "resets_at": int((at + timedelta(days=3)).timestamp())},
                },
            }
        ).encode()  # fmt: skip

    stdin = claude_input(now)

    cold, _ = timed([sessionmd, "status", "--json"], env, b"")
    first, _ = timed([sessionmd, "statusline"], env, stdin)
    mark = len(CPU)
    baseline = [timed([python, "-c", "pass"], env, b"")[0] for _ in range(args.runs)]
    baseline_cpu = CPU[mark:]

    def ms(values: list[float]) -> str:
        return (
            f"median {statistics.median(values) * 1000:6.1f} ms  "
            f"min {min(values) * 1000:6.1f} ms  max {max(values) * 1000:6.1f} ms"
        )

    print(f"corpus: {size / 2**20:.0f} MiB, {len(list(corpus.rglob('*.jsonl')))} files")
    print(f"cold `status --json` (no cache):          {cold * 1000:8.1f} ms")
    print(f"first statusline after it:                 {first * 1000:8.1f} ms")
    print(f"wall  python -c pass (same venv):        {ms(baseline)}")
    print(f"cpu   python -c pass (same venv):        {ms(baseline_cpu)}")

    # Two moments: right after the corpus's last reply (the generator's corpus never pauses
    # for 5 hours, so the current chain of blocks is long), and after a 6-hour pause (the
    # usual case of a working day: the chain holds only today's replies).
    line = b""
    for label, at in (("dense chain", now), ("after a 6 h pause", now + timedelta(hours=6))):
        env["SESSIONMD_NOW"] = at.isoformat()
        stdin = claude_input(at)
        warm: list[float] = []
        mark = len(CPU)
        for n in range(args.runs):
            append_response(
                live, template, at - timedelta(seconds=args.runs - n), n + 1000 * (at > now)
            )
            seconds, line = timed([sessionmd, "statusline"], env, stdin)
            warm.append(seconds)
        warm_cpu = CPU[mark:]
        mark = len(CPU)
        steady = [timed([sessionmd, "statusline"], env, stdin)[0] for _ in range(args.runs)]
        steady_cpu = CPU[mark:]
        block = len(load_live(env=env, cache_dir=work / "cache", now=at).entries)
        print(f"-- {label}: {block} messages in the latest block")
        print(f"wall  statusline, 3 lines appended each: {ms(warm)}")
        print(f"wall  statusline, nothing appended:      {ms(steady)}")
        print(f"cpu   statusline, 3 lines appended each: {ms(warm_cpu)}")
        print(f"cpu   statusline, nothing appended:      {ms(steady_cpu)}")
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"last line: {line.decode().strip()}")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        shutil.rmtree(work / "cache", ignore_errors=True)
        shutil.rmtree(work / "state", ignore_errors=True)


if __name__ == "__main__":
    main()
