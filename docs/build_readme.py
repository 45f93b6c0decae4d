"""README.md is docs/readme/*.md joined in pipeline order: ``python docs/build_readme.py``.

Each part of the pipeline keeps its section (with real output) beside the others; the test
suite fails when README.md and its sections disagree, so neither is edited alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ["intro", "parse", "est", "rewrite", "usage", "status"]


def build() -> str:
    parts = [
        (ROOT / "docs" / "readme" / f"{name}.md").read_text(encoding="utf-8") for name in SECTIONS
    ]
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)


def main() -> int:
    text = build()
    target = ROOT / "README.md"
    if "--check" in sys.argv[1:]:
        if target.read_text(encoding="utf-8") != text:
            print("README.md is stale: run python docs/build_readme.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
