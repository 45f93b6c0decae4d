"""Reading plans strictly and writing them atomically (mode, symlinks, failures part-way)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from sessionmd.errors import PlanError
from sessionmd.plan import write as plan_write
from sessionmd.plan.write import read_plan, write_atomic

REALWORLD = Path(__file__).parent / "fixtures" / "plans" / "realworld"


def test_not_utf8_names_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    plan = tmp_path / "p.md"
    plan.write_bytes("ok\nstill ok é\n".encode() + b"caf\xe9 latin-1\n")
    with pytest.raises(PlanError) as caught:
        read_plan(plan)
    assert str(caught.value) == f"{plan}:3: not UTF-8 (byte 0xe9 at column 4)"


def test_missing_file_and_folder_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="no such file"):
        read_plan(tmp_path / "nope.md")
    with pytest.raises(PlanError, match="is a directory"):
        read_plan(tmp_path)


def test_read_keeps_bom_and_crlf(tmp_path: Path) -> None:
    plan = tmp_path / "p.md"
    plan.write_bytes(b"\xef\xbb\xbfa\r\nb\r\n")
    assert read_plan(plan) == "\ufeffa\r\nb\r\n"


def test_write_keeps_mode_and_leaves_no_temp_file(tmp_path: Path) -> None:
    plan = tmp_path / "p.md"
    plan.write_text("old\n")
    plan.chmod(0o640)
    write_atomic(plan, "new\n")
    assert plan.read_text() == "new\n"
    assert plan.stat().st_mode & 0o7777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.md"]


def test_write_through_a_symlink_replaces_its_target(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    target = real / "p.md"
    target.write_text("old\n")
    link = tmp_path / "link.md"
    link.symlink_to(Path("real") / "p.md")
    write_atomic(link, "new\n")
    assert link.is_symlink()
    assert os.readlink(link) == str(Path("real") / "p.md")
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in real.iterdir()) == ["p.md"]


def test_write_failing_part_way_leaves_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.write writes 10 bytes, then the disk is 'full' (ENOSPC) on the next call."""
    plan = tmp_path / "p.md"
    plan.write_text("original\n")
    real_write = os.write
    calls: list[int] = []

    def failing_write(fd: int, data: bytes | memoryview) -> int:
        calls.append(len(data))
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        return real_write(fd, bytes(data[:10]))

    monkeypatch.setattr(plan_write.os, "write", failing_write)
    with pytest.raises(PlanError, match=r"p\.md: cannot write: No space left on device"):
        write_atomic(plan, "x" * 5000)
    assert len(calls) == 2  # it really wrote part of the file first
    assert plan.read_text() == "original\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.md"]


def _limit_file_size(limit: int) -> None:
    # A real kernel limit, which root obeys too: a write past it fails with EFBIG.
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_cli_write_hits_a_file_size_limit_and_leaves_the_plan(tmp_path: Path) -> None:
    """End to end: the kernel stops the write part-way (RLIMIT_FSIZE, EFBIG).

    Python ignores SIGXFSZ, so the write returns a short count and then fails; the
    compiled plan is several KB larger than the original, so the limit (original size
    + 1 KB) is reached in the middle of the temporary file.
    """
    plan = tmp_path / "SESSION_3_PLAN.md"
    original = (REALWORLD / "SESSION_3_PLAN.md").read_bytes()
    plan.write_bytes(original)
    (tmp_path / ".git").mkdir()  # the project root, so no outer sessionmd.yaml is read
    limit = len(original) + 1024
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "sessionmd", "estimate", plan.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=lambda: _limit_file_size(limit),
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "sessionmd: SESSION_3_PLAN.md: cannot write: File too large\n"
    assert plan.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == [".git", "SESSION_3_PLAN.md"]
    # without the limit the same command succeeds, so the limit was what stopped it
    ok = subprocess.run(
        [sys.executable, "-m", "sessionmd", "estimate", plan.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert len(plan.read_bytes()) > limit
