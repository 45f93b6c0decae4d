"""How fast parse_plan reads plans: the real ones, a 2,000-phase plan, 500 plans of 15 KB.

Run: ``.venv/bin/python bench/parse_bench.py`` (``make bench`` runs it too). Prints MB/s
beside markdown-it-py's full CommonMark parse of the same text, for scale.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sessionmd.plan.parse import parse_plan  # noqa: E402

REAL = sorted((ROOT / "tests" / "fixtures" / "plans" / "realworld").glob("*.md"))


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []  # CPU time: other processes on the machine do not count
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def phase_plan(n: int) -> str:
    """A plan with a summary of ``n`` bold phase lines and a breakdown of ``n`` headings."""
    out = ["---", "session: 99", "title: Big", "---", "# Session 99", "", "## Summary", ""]
    out += [f"**Phase {i}: Step {i}** ({15 + i % 60} min, 8-12k tokens)" for i in range(1, n + 1)]
    out += ["", "## Phase Breakdown", ""]
    for i in range(1, n + 1):
        out += [
            f"### Phase {i}: Step {i} ({15 + i % 60} min)",
            "**Type**: implementation",
            f"- **Complexity**: {0.8 + (i % 5) / 10:.1f} (familiar stack)",
            "**Libraries**: Recharts, socket.io",
            "**Confidence**: MEDIUM",
            "",
            "Some text about the step, with `code` and a list:",
            "- one",
            "- two",
            "",
            "```ts",
            f"// ### Phase {i}: not a phase",
            "```",
            "",
        ]
    return "\n".join(out) + "\n"


def folder(n: int) -> list[str]:
    """``n`` plans of about 15 KB each, made from the real ones (varied so none repeats)."""
    texts = [p.read_text(encoding="utf-8") for p in REAL]
    plans = []
    for i in range(n):
        base = texts[i % len(texts)]
        while len(base.encode()) < 15_000:
            base += "\n" + texts[(i + 1) % len(texts)][:4000]
        plans.append(f"<!-- plan {i} -->\n" + base[:15_000])
    return plans


def rate(label: str, texts: list[str], fn: Callable[[str], object], repeat: int = 5) -> float:
    size = sum(len(t.encode()) for t in texts)
    secs = best_of(lambda: [fn(t) for t in texts], repeat)
    print(f"{label:<46} {size / 1e6:7.2f} MB {secs * 1000:9.1f} ms {size / secs / 1e6:7.2f} MB/s")
    return secs


def main() -> None:
    full = MarkdownIt("commonmark")
    real = [p.read_text(encoding="utf-8") for p in REAL]
    print(f"{'':<46} {'size':>10} {'time':>12} {'rate':>12}")
    rate("real plans (8): markdown-it full parse", real, full.parse)
    rate("real plans (8): parse_plan", real, lambda t: parse_plan(t, "p.md"))

    big = phase_plan(2000)
    rate("2,000-phase plan: markdown-it full parse", [big], full.parse)
    secs = rate("2,000-phase plan: parse_plan", [big], lambda t: parse_plan(t, "big.md"))
    plan = parse_plan(big, "big.md")
    assert len(plan.phases) == 2000 and all(p.also_at for p in plan.phases)
    print(f"  -> {len(plan.phases)} phases, each merged with its summary line, in {secs:.3f} s")

    plans = folder(500)
    rate("500 plans of 15 KB: markdown-it full parse", plans, full.parse, repeat=1)
    secs = rate("500 plans of 15 KB: parse_plan, one core", plans, lambda t: parse_plan(t, "p.md"))
    per = [best_of(lambda t=t: parse_plan(t, "p.md"), 1) * 1000 for t in plans[:50]]  # type: ignore[misc]
    print(f"  -> {secs:.2f} s for 500 plans; median {statistics.median(per):.2f} ms a plan")


if __name__ == "__main__":
    main()
