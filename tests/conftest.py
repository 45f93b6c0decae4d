"""Every test gets its own state and cache dirs: nothing a test does may read or write the
user's real ``~/.local/state/sessionmd`` or ``~/.cache/sessionmd`` (a derived limit saved
there would change ``estimate``'s output, for instance)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path_factory.mktemp("sessionmd-home")
    monkeypatch.setenv("SESSIONMD_STATE_DIR", str(base / "state"))
    monkeypatch.setenv("SESSIONMD_CACHE_DIR", str(base / "cache"))
