"""Bad input is skipped, counted and reported with file:line; it never stops the scan."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from usage_support import NOW_DT, assistant_line, write_session

from sessionmd.cli.usage import usage
from sessionmd.usage import scan
from sessionmd.usage.api import load_usage


def _load(root: Path, cache: Path | None = None, now: datetime = NOW_DT):  # type: ignore[no-untyped-def]
    return load_usage(data_dirs=[root], env={}, cache_dir=cache, now=now, view="blocks")


def _good(n: int, out: int = 10) -> str:
    return assistant_line(ts=f"2026-01-10T10:{n:02d}:00.000Z", mid=f"m{n}", rid=f"r{n}", out=out)


def test_malformed_and_non_utf8_lines_are_counted_with_their_line(tmp_path: Path) -> None:
    root = tmp_path / "c"
    path = write_session(root, "p", "s", [_good(1)])
    bad_utf8 = (
        _good(2).replace('"hello"', '"caf\\u00e9"').encode().replace(b"caf\\u00e9", b"caf\xe9")
    )
    truncated = _good(3)[:-40]
    with path.open("ab") as fh:
        fh.write(bad_utf8 + b"\n")
        fh.write(truncated.encode() + b"\n")
        fh.write(b"\x00garbage{not json\n")
        fh.write(b'{"type":"user","message":"a string","usage":{}}\n')  # foreign shape
        fh.write(_good(4).encode() + b"\n")
    result = _load(root)
    assert [e.message_id for e in result.entries] == ["m1", "m4"]
    lines = {(p.line, p.reason.split(":")[0]) for p in result.problems}
    assert (2, "not UTF-8") in lines
    assert (3, "malformed") in lines
    assert all(p.path == str(path) for p in result.problems)
    assert len(result.problems) == 3  # the garbage line holds no usage marker: not decoded


_TEXT = json.dumps("café ☕ 日本語 😀", ensure_ascii=False)


def _utf8_line(kind: str, n: int) -> bytes:
    """One line of a kind: a usage line in ASCII, valid UTF-8 or broken UTF-8 (a Latin-1
    byte), or a line without usage holding valid or broken non-ASCII text."""
    if kind == "ascii":
        return _good(n).encode()
    if kind == "unicode":
        return _good(n).replace('"hello"', _TEXT).encode()
    if kind == "bad":
        return (
            _good(n).replace('"hello"', '"caf\\u00e9"').encode().replace(b"caf\\u00e9", b"caf\xe9")
        )
    if kind == "text":
        return json.dumps(
            {"type": "user", "message": {"content": _TEXT}}, ensure_ascii=False
        ).encode()
    return b'{"type":"user","message":{"content":"caf\xe9"}}'  # "bad-text": never decoded


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["ascii", "unicode", "bad", "text", "bad-text"]), max_size=12))
def test_only_usage_lines_with_broken_utf8_are_skipped(kinds: list[str]) -> None:
    """Whatever the mix and order of ASCII and non-ASCII lines in a chunk, each usage line
    is checked on its own: valid text in any script counts, broken UTF-8 is skipped with
    its line number, and lines without usage are never decoded."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "c"
        path = write_session(root, "p", "s", [])
        with path.open("ab") as fh:
            fh.write(b"".join(_utf8_line(kind, n) + b"\n" for n, kind in enumerate(kinds)))
        result = _load(root)
    counted = [f"m{n}" for n, kind in enumerate(kinds) if kind in ("ascii", "unicode")]
    assert sorted(e.message_id or "" for e in result.entries) == sorted(counted)
    broken = [n + 1 for n, kind in enumerate(kinds) if kind == "bad"]
    assert [(p.line, p.reason) for p in result.problems] == [(n, "not UTF-8") for n in broken]


def test_half_written_last_line_is_not_an_error_and_is_read_later(tmp_path: Path) -> None:
    root, cache = tmp_path / "c", tmp_path / "cache"
    path = write_session(root, "p", "s", [_good(1)])
    tail = _good(2, out=99)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(tail[:60])  # Claude Code is still writing this line
    first = _load(root, cache)
    assert [e.message_id for e in first.entries] == ["m1"]
    assert first.problems == []
    with path.open("a", encoding="utf-8") as fh:
        fh.write(tail[60:] + "\n")
    second = _load(root, cache)
    assert [e.message_id for e in second.entries] == ["m1", "m2"]
    assert second.stats.bytes_read == len(tail.encode()) + 1  # the half line again, plus the rest
    assert second.problems == []


def test_complete_last_line_without_newline_counts(tmp_path: Path) -> None:
    root = tmp_path / "c"
    path = write_session(root, "p", "s", [_good(1)])
    with path.open("a", encoding="utf-8") as fh:
        fh.write(_good(2))
    assert [e.message_id for e in _load(root).entries] == ["m1", "m2"]


def test_a_50_mb_line_is_skipped_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "c"
    path = write_session(root, "p", "s", [_good(1)])
    huge = _good(2).replace('"hello"', '"' + "x" * (50 << 20) + '"')
    with path.open("a", encoding="utf-8") as fh:
        fh.write(huge + "\n" + _good(3) + "\n")
    reads: list[int] = []
    real_read = os.read

    def counting_read(fd: int, n: int) -> bytes:
        reads.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(scan.os, "read", counting_read)
    result = _load(root)
    assert [e.message_id for e in result.entries] == ["m1", "m3"]
    assert [(p.line, p.reason) for p in result.problems] == [(2, "line longer than 16 MiB skipped")]
    assert max(reads) <= scan.CHUNK  # never one read of the whole line


def test_directory_named_jsonl_fifo_and_unreadable_folder(tmp_path: Path) -> None:
    root = tmp_path / "c"
    write_session(root, "p", "s", [_good(1)])
    (root / "projects" / "p" / "weird.jsonl").mkdir()
    os.mkfifo(root / "projects" / "p" / "pipe.jsonl")
    locked = root / "projects" / "locked"
    locked.mkdir()
    (locked / "x.jsonl").write_text(_good(5) + "\n")
    locked.chmod(0)
    try:
        result = _load(root)
    finally:
        locked.chmod(0o755)
    if os.geteuid() != 0:
        assert [e.message_id for e in result.entries] == ["m1"]
    reasons = {Path(p.path).name: p.reason for p in result.problems}
    assert reasons["weird.jsonl"] == "skipped: a directory"
    assert reasons["pipe.jsonl"] == "skipped: not a regular file"
    if os.geteuid() != 0:  # root reads any folder; the other two are real for everyone
        assert reasons["locked"].startswith("unreadable folder")


def test_symlink_loop_and_dangling_link(tmp_path: Path) -> None:
    root = tmp_path / "c"
    write_session(root, "p", "s", [_good(1)])
    (root / "projects" / "p" / "loop").symlink_to(root / "projects")
    (root / "projects" / "p" / "gone.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    result = _load(root)
    assert [e.message_id for e in result.entries] == ["m1"]
    reasons = [p.reason for p in result.problems]
    assert any("symlink loop" in r for r in reasons)
    assert any(p.path.endswith("gone.jsonl") and "unreadable" in p.reason for p in result.problems)


def test_future_timestamps_are_counted_and_reported(tmp_path: Path) -> None:
    root = tmp_path / "c"
    write_session(
        root,
        "p",
        "s",
        [_good(1), assistant_line(ts="2031-05-01T00:00:00.000Z", mid="future", out=7)],
    )
    result = _load(root, now=datetime(2026, 1, 11, tzinfo=timezone.utc))
    assert result.stats.future_entries == 1
    res = CliRunner().invoke(usage, ["daily", "--data-dir", str(root), "--no-cache", "-z", "UTC"])
    assert res.exit_code == 0
    assert "1 entries are dated in the future" in res.stderr


def test_naive_timestamp_is_rejected_not_guessed(tmp_path: Path) -> None:
    root = tmp_path / "c"
    write_session(root, "p", "s", [_good(1), assistant_line(ts="2026-01-10T11:00:00", mid="naive")])
    result = _load(root)
    assert [e.message_id for e in result.entries] == ["m1"]
    assert [p.line for p in result.problems] == [2]


@settings(max_examples=200, deadline=None)
@given(
    when=st.datetimes(
        # Naive bounds, as hypothesis wants them: it attaches one of the zones below.
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [timezone.utc, timezone(timedelta(hours=5, minutes=45)), timezone(-timedelta(hours=8))]
        ),
    )
)
def test_a_timestamp_becomes_its_exact_floor_in_milliseconds(when: datetime) -> None:
    """Any aware time, years 1 to 9999 and before 1970 too, microseconds and offsets: the
    scan's milliseconds are the floor of the time since the epoch, as the status line's
    reader computes them."""
    from sessionmd.usage.dedupe import FileInfo, State, unpack
    from sessionmd.usage.lineread import EPOCH, ms_of

    one_ms = timedelta(milliseconds=1)

    state = State(files=[FileInfo("/t.jsonl", "s", "p")])
    line = assistant_line(ts=when.isoformat(), mid="m1").encode() + b"\n"
    out = scan.FileScan()
    scan._scan_block(line, len(line), 0, "/t.jsonl", "s", out, state.sink(0), None)
    assert not out.problems
    assert unpack(state.main["m1\x00req_1"])[0] == (when - EPOCH) // one_ms
    assert ms_of(when) == (when - EPOCH) // one_ms  # the status line's reader too
