"""Our JSON equals the real ccusage 20.0.24's on the same generated corpus.

ccusage is installed from npm into a cached folder (``$SESSIONMD_CCUSAGE_DIR``, default
``~/.cache/sessionmd-tests/ccusage-20.0.24``). The test skips only when npm is missing or the
registry cannot be reached; any other failure is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from usage_support import generate

from sessionmd.cli.usage import usage

VERSION = "20.0.24"
NETWORK_ERRORS = ("ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNREFUSED", "ECONNRESET", "network")
# Cost is priced differently (LiteLLM vs our table); burn rate and projection depend on now.
IGNORED = {"totalCost", "costUSD", "cost", "burnRate", "projection"}

pytestmark = pytest.mark.ccusage


def _ccusage() -> Path:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    default = Path.home() / ".cache" / "sessionmd-tests" / f"ccusage-{VERSION}"
    prefix = Path(os.environ.get("SESSIONMD_CCUSAGE_DIR", default))
    binary = prefix / "node_modules" / ".bin" / "ccusage"
    if not binary.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(prefix),
                f"ccusage@{VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            if any(word in proc.stderr for word in NETWORK_ERRORS):
                pytest.skip(f"npm registry unreachable: {proc.stderr.strip()[-200:]}")
            raise AssertionError(f"npm install ccusage@{VERSION} failed:\n{proc.stderr}")
    return binary


def _strip(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in IGNORED}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cc")
    generate(
        out,
        *("--projects", "3", "--sessions", "4", "--messages", "25", "--seed", "21"),
        *("--start", "2026-03-04T00:00:00Z", "--days", "8", "--api-error-rate", "0.3"),
    )
    return out


@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
@pytest.mark.parametrize(
    ("theirs", "ours"), [("daily", "daily"), ("session", "sessions"), ("blocks", "blocks")]
)
def test_same_json_as_ccusage(
    corpus: Path, tmp_path: Path, tz: str, theirs: str, ours: str
) -> None:
    binary = _ccusage()
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(corpus), "NO_COLOR": "1"}
    proc = subprocess.run(
        [str(binary), theirs, "--json", "--offline", "--timezone", tz],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    expected = json.loads(proc.stdout)
    res = CliRunner().invoke(
        usage,
        [ours, "--json", "--timezone", tz],
        env={"CLAUDE_CONFIG_DIR": str(corpus), "SESSIONMD_CACHE_DIR": str(tmp_path)},
    )
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert _strip(got) == _strip(expected)
    # Cost comes from our small price table: it agrees with ccusage's to the cent here.
    if "totals" in expected:
        assert got["totals"]["totalCost"] == pytest.approx(
            expected["totals"]["totalCost"], abs=0.01
        )
