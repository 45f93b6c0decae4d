"""Usage engine benchmark: sessionmd beside ccusage 20, ccusage 18 and aiburn, in one run.

    python bench/usage_bench.py [--target-mb 1000] [--runs 7] [--dir bench/out/usage]

Generates (once, then reuses) a corpus with the team's transcript generator, installs the
peers where missing (``npm install --prefix``, a separate venv for aiburn) and sessionmd
from a wheel in a venv of its own (``ensure_install``), then times each command on the same
corpus, files in the page cache. Wall time is the best of ``--runs``
(the machine is shared); peak memory is the whole process tree's resident set, sampled from
/proc every 5 ms (sessionmd's cold scan forks a second process; proportional set size, so
pages the two share count once), and the largest single process's peak RSS as the kernel
reports it. Memory is sampled in the first round only: the sampler is a thread of this
process that reads /proc every 5 ms, and on two cores it takes its CPU from whichever tool
uses both (sessionmd's two processes, aiburn's threads), not from a single-threaded one, so
the later rounds time every tool without it. Totals are cross-checked: every tool must count
the same input and output tokens. Prints a table; ``--json`` writes the figures as well.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GENERATOR = ROOT / "tests" / "fixtures" / "usage" / "gen_transcripts.py"
PY = sys.executable


def _children(pid: int) -> list[int]:
    out = [pid]
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                for child in fh.read().split():
                    out.extend(_children(int(child)))
        except OSError:
            continue
    return out


def _rss_kb(pid: int) -> int:
    """Proportional set size: pages shared by a forked worker and its parent count once."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(
    cmd: list[str], env: dict[str, str], stdin: bytes = b"", sample_memory: bool = True
) -> tuple[float, int, int, str]:
    """(wall seconds, peak tree RSS KiB, peak single-process RSS KiB, stdout).

    ``sample_memory=False`` skips the /proc sampler: reading a process's smaps every 5 ms
    slows its page faults, which adds about a third to a 40 ms command (tree figure: 0).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as inp:
        inp.write(stdin)
        inp.seek(0)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=inp, stdout=out, stderr=subprocess.DEVNULL)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, sum(_rss_kb(p) for p in _children(proc.pid)))
                time.sleep(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        if sample_memory:
            sampler.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        if sample_memory:
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return wall, peak, int(usage.ru_maxrss), text


def ensure_corpus(base: Path, target_mb: float) -> Path:
    corpus = base / f"corpus-{int(target_mb)}mb"
    if not (corpus / "oracle.json").exists():
        print(f"generating {target_mb} MB corpus into {corpus} ...", flush=True)
        subprocess.run(
            [PY, str(GENERATOR), str(corpus), "--projects", "12", "--target-mb", str(target_mb),
             "--seed", "11", "--now", "2026-02-01T00:00:00Z"],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    settle_folders(corpus / "projects")
    return corpus


def settle_folders(projects: Path) -> None:
    """Give each folder the mtime of its newest entry, as Claude Code's writes leave it.

    The generator sets each transcript's mtime to its last message but leaves folders at
    the time it ran, which would make every folder look freshly changed to the status line.
    """
    for folder, subdirs, files in sorted(os.walk(projects), key=lambda t: -t[0].count(os.sep)):
        stamps = [os.stat(os.path.join(folder, n)).st_mtime_ns for n in (*files, *subdirs)]
        if stamps:
            os.utime(folder, ns=(max(stamps), max(stamps)))


def ensure_npm(base: Path, version: str) -> Path | None:
    prefix = base / f"ccusage-{version}"
    binary = prefix / "node_modules" / ".bin" / "ccusage"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            return None
        res = subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(prefix),
                f"ccusage@{version}",
            ],
            capture_output=True,
        )
        if res.returncode != 0:
            return None
    return binary


def ensure_install(base: Path) -> Path | None:
    """sessionmd installed the way a user installs it (a wheel, not an editable install).

    Why: the editable install's path finder imports pathlib and urllib at every start of the
    dev venv's Python (about 20 ms here), which a user's install does not; ccusage and aiburn
    are timed as their users install them too. Dependencies are installed once; our own code
    is reinstalled every run, so the bench times the working tree.
    """
    venv = base / "sessionmd-venv"
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    new = not (venv / "bin" / "python").exists()
    if new and subprocess.run([PY, "-m", "venv", str(venv)]).returncode != 0:
        return None
    if subprocess.run([*pip, str(ROOT)], capture_output=True).returncode != 0:
        return None
    refresh = [*pip, "--no-deps", "--force-reinstall", str(ROOT)]
    if subprocess.run(refresh, capture_output=True).returncode != 0:
        return None
    return venv / "bin" / "sessionmd"


def ensure_aiburn(base: Path) -> Path | None:
    venv = base / "aiburn-venv"
    binary = venv / "bin" / "aiburn"
    if not binary.exists():
        if subprocess.run([PY, "-m", "venv", str(venv)]).returncode != 0:
            return None
        pip = [str(venv / "bin" / "pip"), "install", "-q", "aiburn==0.4.5"]
        if subprocess.run(pip, capture_output=True).returncode != 0:
            return None
    return binary


def _io_totals(text: str) -> tuple[int, int] | None:
    """(input, output) tokens from ccusage-style or aiburn JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if "totals" in data:
        return data["totals"]["inputTokens"], data["totals"]["outputTokens"]
    if "groups" in data:
        return sum(g["input"] for g in data["groups"]), sum(g["output"] for g in data["groups"])
    if "blocks" in data:
        blocks = [b for b in data["blocks"] if not b["isGap"]]
        return (
            sum(b["tokenCounts"]["inputTokens"] for b in blocks),
            sum(b["tokenCounts"]["outputTokens"] for b in blocks),
        )
    return None


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--target-mb", type=float, default=1000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--dir", type=Path, default=HERE / "out" / "usage")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument(
        "--warm-only", action="store_true", help="skip the cold scans (status line figures only)"
    )
    args = ap.parse_args()
    base = args.dir.resolve()
    base.mkdir(parents=True, exist_ok=True)
    corpus = ensure_corpus(base, args.target_mb)
    size = sum(p.stat().st_size for p in (corpus / "projects").rglob("*.jsonl"))
    files = sum(1 for _ in (corpus / "projects").rglob("*.jsonl"))
    cache = base / "sessionmd-cache"
    env = {
        **os.environ,
        "CLAUDE_CONFIG_DIR": str(corpus),
        "SESSIONMD_CACHE_DIR": str(cache),
        "NO_COLOR": "1",
    }
    # Byte-compiled modules, as a user's installed copy has them (some sandboxes disable it).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    installed = ensure_install(base)
    if installed is None:  # no index to install the dependencies from: the dev venv's copy
        print("sessionmd: no separate install (pip failed); timing the dev venv", flush=True)
        subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "sessionmd")], env=env)
        installed = Path(PY).parent / "sessionmd"
    sessionmd = [str(installed), "usage"]

    subprocess.run(
        ["cat", *map(str, (corpus / "projects").rglob("*.jsonl"))], stdout=subprocess.DEVNULL
    )
    rows: list[dict[str, object]] = []

    Case = tuple[str, list[str], object, int]  # name, command, before (callable), runs
    rounds_seen: dict[str, list[float]] = {}  # each case's wall time, round by round

    def run_rounds(
        cases: list[Case],
        case_env: dict[str, str] = env,
        stdin: bytes = b"",
        sample_memory: bool = True,
    ) -> None:
        """Each round runs every case once, so load from other processes hits all alike."""
        best: dict[str, tuple[float, int, int, str]] = {}
        for rnd in range(max(c[3] for c in cases)):
            for name, cmd, before, runs in cases:
                if rnd >= runs:
                    continue
                if callable(before):
                    before()
                got = measure(cmd, case_env, stdin, sample_memory and rnd == 0)
                old = best.get(name)
                peak = max(got[1], old[1] if old else 0)
                if old is None or got[0] < old[0]:
                    best[name] = (got[0], peak, got[2], got[3])
                else:
                    best[name] = (old[0], peak, old[2], old[3])
                rounds_seen.setdefault(name, []).append(got[0])
                print(f"  round {rnd + 1}: {name}: {got[0]:.3f} s", flush=True)
        for name, _cmd, _before, _runs in cases:
            wall, tree, single, text = best[name]
            rows.append({"tool": name, "wall_s": round(wall, 3), "tree_rss_mb": round(tree / 1024, 1),
                         "max_rss_mb": round(single / 1024, 1), "io_tokens": _io_totals(text),
                         "output": text.strip()[:80] if not text.lstrip().startswith("{") else ""})  # fmt: skip

    print(f"corpus: {corpus} ({size / 2**20:.0f} MiB, {files} files)", flush=True)
    daily = ["daily", "--json", "-z", "UTC"]
    cases: list[Case] = [
        ("sessionmd usage daily (cold, no cache)", [*sessionmd, *daily, "--no-cache"], None, args.runs),
        ("sessionmd usage daily (cold, writes cache)", [*sessionmd, *daily],
         lambda: shutil.rmtree(cache, ignore_errors=True), args.runs),
        ("sessionmd usage daily (warm cache)", [*sessionmd, *daily], None, args.runs),
    ]  # fmt: skip
    cc20 = ensure_npm(base, "20.0.24")
    if cc20:
        cases.append(("ccusage 20.0.24 daily", [str(cc20), *daily, "--offline"], None, args.runs))
    aiburn = ensure_aiburn(base)
    if aiburn:
        cases.append(
            (
                "aiburn 0.4.5 daily --claude",
                [str(aiburn), "daily", "--claude", "--json"],
                None,
                args.runs,
            )
        )
    cc18 = ensure_npm(base, "18.0.11")
    if cc18:
        cases.append(("ccusage 18.0.11 daily", [str(cc18), *daily, "--offline"], None, 1))
    if args.warm_only:
        cases = [c for c in cases if "warm" in c[0]]
    run_rounds(cases)

    # Warm runs after appending a few lines to the newest transcript (what the status line
    # meets while Claude Code works in a session).
    target = max((corpus / "projects").rglob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    pristine = target.read_bytes()
    line = next(
        ln
        for ln in reversed(pristine.splitlines())
        if b'"usage":{' in ln and b'"type":"assistant"' in ln
    )

    def append() -> None:
        with target.open("ab") as fh:
            for n in range(3):
                fh.write(
                    line.replace(
                        b'"requestId":"', f'"requestId":"bench{time.time_ns()}{n}'.encode(), 1
                    )
                    + b"\n"
                )

    try:
        measure([*sessionmd, "blocks", "--json"], env)
        # The status line as Claude Code runs it: JSON on stdin, the clock ten minutes after
        # the corpus's last message (so a block is active), lines appended before each run.
        last = json.loads(line)["timestamp"].replace("Z", "+00:00")
        now = time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(datetime.fromisoformat(last).timestamp() + 600)
        )
        line_env = {**env, "SESSIONMD_NOW": now, "SESSIONMD_STATE_DIR": str(base / "state")}
        session = {"session_id": target.stem, "cwd": str(ROOT), "model": {"id": "claude"}}
        stdin = json.dumps(session).encode()
        statusline = [str(installed), "statusline"]
        measure(statusline, line_env, stdin)  # builds the live state once

        def line_case(name: str, cmd: list[str], before: object) -> Case:
            return (name, cmd, before, args.runs * 3)

        run_rounds(
            [("sessionmd usage blocks --json (warm, 3 lines appended)",
              [*sessionmd, "blocks", "--json"], append, args.runs)]
        )  # fmt: skip
        # Short commands: wall time without the memory sampler (see ``measure``).
        run_rounds(
            [
                line_case("sessionmd statusline (warm, 3 lines appended)", statusline, append),
                line_case("sessionmd statusline (warm, nothing new)", statusline, None),
                line_case(
                    "python -c pass (interpreter start)",
                    [str(installed.parent / "python"), "-c", "pass"],
                    None,
                ),
            ],
            line_env,
            stdin,
            sample_memory=False,
        )
    finally:
        target.write_bytes(pristine)

    ref = next((r for r in rows if str(r["tool"]).startswith("ccusage 20")), None)
    print()
    print(
        f"Corpus: {size / 2**20:.0f} MiB, {files} files; best of {args.runs} runs (memory: the first, sampled); {os.cpu_count()} cores"
    )
    print(
        f"{'command':58} {'wall s':>7} {'vs cc20':>8} {'tree PSS MB':>11} {'max MB':>7}  input/output tokens"
    )
    for r in rows:
        ratio = f"{float(r['wall_s']) / float(ref['wall_s']):.2f}" if ref else "-"  # type: ignore[arg-type]
        print(
            f"{r['tool']!s:58} {r['wall_s']:>7} {ratio:>8} {r['tree_rss_mb']:>11} {r['max_rss_mb']:>7}  {r['io_tokens'] or r['output']}"
        )
    # Best against best hides how the ratio moves with the machine's load: each round's
    # ratio too (the cold scan and ccusage ran back to back in it).
    cold = rounds_seen.get("sessionmd usage daily (cold, no cache)", [])
    theirs = next((v for k, v in rounds_seen.items() if k.startswith("ccusage 20")), [])
    per_round = sorted(a / b for a, b in zip(cold, theirs, strict=False))
    if per_round:
        print(
            "cold scan / ccusage 20, round by round: "
            + " ".join(f"{r:.2f}" for r in per_round)
            + f" (median {per_round[len(per_round) // 2]:.2f})"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"bytes": size, "files": files, "rows": rows, "cold_ratio_per_round": per_round},
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
