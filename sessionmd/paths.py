"""Where per-machine state lives: the user's cache and state dirs.

Written by hand rather than with platformdirs because ``sessionmd statusline`` imports
this on every call and must start fast. Everything takes the environment as an
argument, so tests control it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

APP = "sessionmd"


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or os.path.expanduser("~"))


def cache_dir(env: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """Disposable data (the usage cache): ``$SESSIONMD_CACHE_DIR``, XDG, or ``~/Library/Caches``."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if env.get("SESSIONMD_CACHE_DIR"):
        return Path(env["SESSIONMD_CACHE_DIR"])
    if platform == "darwin":
        return _home(env) / "Library" / "Caches" / APP
    base = env.get("XDG_CACHE_HOME") or str(_home(env) / ".cache")
    return Path(base) / APP


def state_dir(env: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """Per-machine state worth keeping (rate-limit snapshots, derived limits, launch log).

    ``$SESSIONMD_STATE_DIR``, else ``$XDG_STATE_HOME/sessionmd`` (``~/.local/state``), or
    ``~/Library/Application Support/sessionmd`` on macOS.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if env.get("SESSIONMD_STATE_DIR"):
        return Path(env["SESSIONMD_STATE_DIR"])
    if platform == "darwin":
        return _home(env) / "Library" / "Application Support" / APP
    base = env.get("XDG_STATE_HOME") or str(_home(env) / ".local" / "state")
    return Path(base) / APP
