"""Run every benchmark script in bench/ (``make bench``); not part of ``make test``.

Each ``bench/*_bench.py`` is a standalone script that prints its own table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    failed = 0
    for script in sorted(here.glob("*_bench.py")):
        print(f"== {script.name}", flush=True)
        failed |= subprocess.call([sys.executable, str(script), *sys.argv[1:]])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
