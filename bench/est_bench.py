"""Estimate and render a 2,000-phase plan, and the real plans; prints a table.

Run with ``make bench`` (or ``python bench/est_bench.py``); not part of ``make test``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from sessionmd.estimate.compute import estimate_plan
from sessionmd.estimate.model import EstimationModel
from sessionmd.estimate.render import render_frontmatter, render_phase_block, render_total_block
from sessionmd.plan.models import Phase, Plan, PlanFrontmatter
from sessionmd.quota import PRESETS

MODEL = EstimationModel()


def big_plan(n: int) -> Plan:
    hours = [(0.5, 0.75), (1, 1.5), (50 / 60, 50 / 60), (2, 3)]
    phases = [
        Phase(
            number=str(i),
            title=f"Phase {i}",
            line=i * 12,
            hours=None if i % 17 == 0 else hours[i % 4],
            type=[None, "testing", "polish", "debugging"][i % 4],
            complexity=[None, 1.1, 1.2][i % 3],
            complexity_note="new framework" if i % 3 == 1 else None,
            libraries=[f"lib{i % 50}"] if i % 2 else [],
            author_tokens=(10_000, 15_000) if i % 5 == 0 else None,
        )
        for i in range(1, n + 1)
    ]
    return Plan(path="big.md", frontmatter=PlanFrontmatter(tech_stack="familiar"), phases=phases)


def compile_text(plan: Plan) -> int:
    est = estimate_plan(plan, MODEL, PRESETS["max5"])
    texts = [render_phase_block(p) for p in est.phases]
    texts += [render_total_block(est), render_frontmatter(est)]
    return sum(len(t) for t in texts)


def timed(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times) * 1000


def main() -> None:
    plan = big_plan(2_000)
    print(f"{'case':<44} {'cpu ms (min)':>12}")
    print(
        f"{'estimate_plan, 2,000 phases':<44} {timed(lambda: estimate_plan(plan, MODEL, None)):>12.1f}"
    )
    print(
        f"{'estimate + render all text, 2,000 phases':<44} {timed(lambda: compile_text(plan)):>12.1f}"
    )
    real = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "plans" / "realworld"
    files = sorted(real.glob("*.md"))
    if files:
        from sessionmd.plan.parse import parse_plan

        plans = [parse_plan(f.read_text(encoding="utf-8"), f.name) for f in files]
        label = f"estimate + render, {len(plans)} real plans"
        print(f"{label:<44} {timed(lambda: [compile_text(p) for p in plans]):>12.1f}")


if __name__ == "__main__":
    main()
