"""Benchmark of the plan compiler's commands (not collected by pytest).

Builds, in a temporary folder, 500 plans of about 15 KB made from the real plans
(tests/fixtures/plans/realworld/, each copy renumbered and varied) and one plan with
2,000 phases, then times the real ``sessionmd`` command in subprocesses (wall clock,
start-up included):

* ``estimate`` cold on the 500-plan folder, on one core and on every core;
* ``estimate --check`` on the compiled folder (target: < 2 s on 2 cores);
* ``estimate --check`` after the model file changed (every plan must be compiled);
* ``estimate`` and ``estimate --check`` on the 2,000-phase plan;
* ``sessionmd --help`` start-up (target: < 150 ms).

Run: ``.venv/bin/python bench/rewrite_bench.py`` (``--plans N`` to change the count).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REALWORLD = HERE.parent / "tests" / "fixtures" / "plans" / "realworld"
SOURCES = ["SESSION_3_PLAN.md", "SESSION_5_PLAN.md", "SESSION_6B_PLAN.md", "SESSION_10_PLAN.md"]
TARGET_SIZE = 15_000


def sessionmd() -> list[str]:
    script = Path(sys.executable).with_name("sessionmd")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sessionmd"]


def _cut(text: str, size: int) -> str:
    """About ``size`` bytes of a plan, cut at a heading so it stays a plan."""
    if len(text.encode()) <= size:
        return text
    cut = text[:size]
    heading = cut.rfind("\n## ")
    return cut[: heading + 1] if heading > size // 2 else cut[: cut.rfind("\n") + 1]


def make_folder(folder: Path, count: int) -> int:
    """``count`` plans of about 15 KB: the real plans, renumbered, padded or cut."""
    texts = [(REALWORLD / name).read_text(encoding="utf-8") for name in SOURCES]
    total = 0
    for index in range(count):
        text = texts[index % len(texts)]
        session = index + 11
        text = re.sub(r"Session \d+[A-Z]?", f"Session {session}", text)
        text = text.replace("WebSocket", f"WebSocket{index % 7}")
        while len(text.encode()) < TARGET_SIZE * 0.9:
            text += f"\n## Notes {len(text)}\n\nMore notes for session {session}.\n" * 20
        text = _cut(text, TARGET_SIZE + 1_000)
        path = folder / f"SESSION_{session}_PLAN.md"
        path.write_text(text, encoding="utf-8")
        total += len(text.encode())
    return total


def make_big_plan(path: Path, phases: int) -> int:
    kinds = ["implementation", "testing", "refactoring", "planning", "debugging", "polish"]
    parts = ["---", "title: A very long session", "quota: max20", "---", "", "# Big plan", ""]
    for number in range(1, phases + 1):
        parts += [
            f"## Phase {number}: Step {number} of the migration ({1 + number % 3}-{2 + number % 3}h)",
            f"**Type**: {kinds[number % len(kinds)]}",
            "**Complexity**: 1.1 (new framework)" if number % 5 == 0 else "**Confidence**: HIGH",
            "",
            f"Move module {number} to the new API and keep its tests green.",
            "",
        ]
    text = "\n".join(parts)
    path.write_text(text, encoding="utf-8")
    return len(text.encode())


CPU: list[float] = []  # CPU seconds (user + sys, workers included) of each timed run


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], cwd: Path, expect: int = 0) -> float:
    """Wall-clock seconds of one run; its CPU seconds go to ``CPU`` (load-independent)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    CPU.append(_children_cpu() - cpu)
    if proc.returncode != expect:
        raise SystemExit(f"{args} exited {proc.returncode}: {proc.stderr or proc.stdout}")
    return elapsed


def cpu_note() -> str:
    return f"[cpu {CPU[-1]:.2f} s]"


def best_of(runs: int, args: list[str], cwd: Path, expect: int = 0) -> tuple[float, float]:
    times = [timed(args, cwd, expect) for _ in range(runs)]
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=500)
    parser.add_argument("--phases", type=int, default=2000)
    args = parser.parse_args()
    cmd = sessionmd()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"sessionmd rewrite bench: {cores} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="sessionmd-bench-") as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        serial, parallel = root / "serial", root / "plans"
        serial.mkdir()
        parallel.mkdir()
        size = make_folder(serial, args.plans)
        make_folder(parallel, args.plans)
        print(
            f"folder: {args.plans} plans, {size / 1e6:.2f} MB ({size / args.plans / 1e3:.1f} KB each)"
        )

        load = os.getloadavg()[0]
        print(f"load average before: {load:.2f} (wall times grow with other load; cpu does not)")
        # A compile of every plan, best of 3 (alternating) against the noise of a shared host.
        ones, alls = [], []
        for _ in range(3):
            ones.append(
                (timed([*cmd, "estimate", "--dry-run", "--jobs", "1", "serial"], root), CPU[-1])
            )
            alls.append((timed([*cmd, "estimate", "--dry-run", "plans"], root), CPU[-1]))
        cold1, cpu1 = min(ones)
        cold2, cpu2 = min(alls)
        print(f"estimate, cold, 1 core:            {cold1:6.2f} s [cpu {cpu1:.2f} s] (best of 3)")
        print(f"estimate, cold, all cores:         {cold2:6.2f} s [cpu {cpu2:.2f} s] (best of 3)")
        write = timed([*cmd, "estimate", "plans"], root)
        print(f"estimate, cold, writing all:       {write:6.2f} s {cpu_note()}")
        again, again_med = best_of(3, [*cmd, "estimate", "plans"], root)
        print(
            f"estimate, nothing changed:         {again:6.2f} s (median {again_med:.2f}) {cpu_note()}"
        )
        check, check_med = best_of(5, [*cmd, "estimate", "--check", "plans"], root)
        print(
            f"estimate --check (compiled):       {check:6.2f} s (median {check_med:.2f}; "
            f"target < 2 s: {'met' if check_med < 2 else 'MISSED'}) {cpu_note()}"
        )
        (root / "sessionmd-model.yaml").write_text("buffer: 0.25\n")
        stale1 = timed([*cmd, "estimate", "--check", "--jobs", "1", "plans"], root, expect=1)
        stale2 = timed([*cmd, "estimate", "--check", "plans"], root, expect=1)
        print(
            f"estimate --check, model changed:   {stale1:6.2f} s on 1 core, {stale2:.2f} s on all"
        )
        (root / "sessionmd-model.yaml").unlink()

        big = root / "big" / "BIG_PLAN.md"
        big.parent.mkdir()
        big_size = make_big_plan(big, args.phases)
        big_cold = timed([*cmd, "estimate", str(big)], root)
        big_note = cpu_note()
        big_check, _ = best_of(3, [*cmd, "estimate", "--check", str(big)], root)
        print(
            f"{args.phases}-phase plan ({big_size / 1e3:.0f} KB): estimate {big_cold:.2f} s "
            f"{big_note}, --check {big_check:.2f} s {cpu_note()}"
        )

        help_best, help_med = best_of(15, [*cmd, "--help"], root)
        print(
            f"sessionmd --help:                  {help_best * 1000:6.0f} ms "
            f"(median {help_med * 1000:.0f} ms; target < 150 ms: "
            f"{'met' if help_med < 0.15 else 'MISSED'})"
        )
        py_best, _ = best_of(15, [sys.executable, "-c", "pass"], root)
        print(f"  (bare python start-up:           {py_best * 1000:6.0f} ms)")


if __name__ == "__main__":
    main()
