"""The incremental cache: appended bytes only, same answer as a cold scan, safe to lose."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from usage_support import NOW_DT, assistant_line, generate, write_session

from sessionmd.usage import cache as cache_mod
from sessionmd.usage.api import load_usage


def _load(root: Path, cache: Path | None, view: str = "daily") -> Any:
    return load_usage(data_dirs=[root], env={}, cache_dir=cache, now=NOW_DT, view=view)  # type: ignore[arg-type]


def _totals(result: Any) -> list[tuple[Any, ...]]:
    return sorted((*r[:5], r[6], r[12]) for r in result.rows)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gen") / "claude"
    generate(root, "--projects", "2", "--sessions", "3", "--messages", "15", "--seed", "4")
    return root


@pytest.fixture
def corpus(generated: Path, tmp_path: Path) -> Path:
    """A private copy of the generated corpus (tests append to and damage it)."""
    root = tmp_path / "claude"
    shutil.copytree(generated, root)
    return root


def test_second_run_reads_nothing_and_agrees(corpus: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = _load(corpus, cache)
    assert cold.stats.bytes_read > 0
    warm = _load(corpus, cache)
    assert warm.stats.bytes_read == 0
    assert warm.stats.rebuilt == ""
    assert _totals(warm) == _totals(cold)
    blob = b"".join(p.read_bytes() for p in cache.iterdir())
    assert b"hello" not in blob and b"tool_result" not in blob  # ids and counts, no text


def test_appended_lines_read_alone_and_equal_a_cold_scan(corpus: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _load(corpus, cache)
    target = sorted((corpus / "projects").rglob("*.jsonl"))[0]
    extra = "".join(
        assistant_line(
            ts=f"2026-01-20T10:0{n}:00.000Z", mid=f"msg_new{n}", rid=f"req_new{n}", out=100 + n
        )
        + "\n"
        for n in range(3)
    )
    with target.open("a", encoding="utf-8") as fh:
        fh.write(extra)
    warm = _load(corpus, cache)
    assert warm.stats.files_read == 1
    assert warm.stats.bytes_read == len(extra.encode())
    assert _totals(warm) == _totals(_load(corpus, None))


def test_line_in_file_b_replaces_winner_from_file_a(tmp_path: Path) -> None:
    root, cache = tmp_path / "claude", tmp_path / "cache"
    a = write_session(
        root, "p", "a", [assistant_line(ts="2026-01-10T10:00:00.000Z", mid="m1", out=5)]
    )
    write_session(root, "p", "b", [assistant_line(ts="2026-01-10T11:00:00.000Z", mid="m2", out=7)])
    first = _load(root, cache, "sessions")
    assert {r[6]: r[2] for r in first.rows} == {"a": 5, "b": 7}
    # A later, larger copy of m1 (streaming finished) lands in file b.
    with (root / "projects" / "p" / "b.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(assistant_line(ts="2026-01-10T10:00:05.000Z", mid="m1", out=50) + "\n")
    second = _load(root, cache, "sessions")
    assert second.stats.files_read == 1
    assert sorted((r[6], r[2]) for r in second.rows) == [("b", 7), ("b", 50)]
    assert _totals(second) == _totals(_load(root, None, "sessions"))
    assert a.exists()


def test_shrunk_or_replaced_file_is_reread(corpus: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _load(corpus, cache)
    target = max((corpus / "projects").rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2].rsplit(b"\n", 1)[0] + b"\n")  # shrink
    shrunk = _load(corpus, cache)
    assert shrunk.stats.rebuilt
    assert _totals(shrunk) == _totals(_load(corpus, None))
    replacement = target.with_suffix(".new")
    replacement.write_bytes(data)
    os.replace(replacement, target)  # same path, new inode
    replaced = _load(corpus, cache)
    assert replaced.stats.rebuilt
    assert _totals(replaced) == _totals(_load(corpus, None))


def test_a_cache_to_rebuild_is_not_loaded(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its file table decides: the winners of a cache that is rebuilt anyway are never read
    (holding them beside the new ones took a rebuild over 100 MB on 1 GB of transcripts)."""
    cache = tmp_path / "cache"
    _load(corpus, cache)
    target = max((corpus / "projects").rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2].rsplit(b"\n", 1)[0] + b"\n")  # shrink

    def no_winners(blob: bytes) -> Any:
        raise AssertionError("the winners of a cache being rebuilt were read")

    monkeypatch.setattr(cache_mod, "split_records", no_winners)
    shrunk = _load(corpus, cache)
    assert shrunk.stats.rebuilt == f"{target} shrank or was replaced"
    monkeypatch.undo()
    assert _totals(shrunk) == _totals(_load(corpus, None))
    full = next(p for p in cache.iterdir() if p.name.startswith("usage-"))
    roots = [str(corpus / "projects")]
    assert cache_mod.read(full, roots, accept=lambda files: False) is None
    assert cache_mod.read(full, roots, accept=lambda files: True) is not None


def test_deleted_file_no_longer_counts(corpus: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    before = _load(corpus, cache)
    victim = max((corpus / "projects").rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    victim.unlink()
    after = _load(corpus, cache)
    assert after.stats.rebuilt
    assert len(after.rows) < len(before.rows)
    assert _totals(after) == _totals(_load(corpus, None))


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # truncated
        lambda b: b"\x00" * 64,  # garbage
        lambda b: b"",  # empty
        lambda b: json.dumps({"version": 1}).encode(),  # foreign
        lambda b: b.replace(b"sessionmd-usage", b"sessionmd-other"),  # another tag
        lambda b: b[:-100] + bytes(x ^ 0x55 for x in b[-100:]),  # flipped bits in the counts
        lambda b: b + b"trailing",  # appended garbage
    ],
)
def test_corrupt_cache_is_rebuilt(corpus: Path, tmp_path: Path, damage: Any) -> None:
    cache = tmp_path / "cache"
    cold = _load(corpus, cache)
    for path in cache.iterdir():
        path.write_bytes(damage(path.read_bytes()))
    again = _load(corpus, cache)
    assert again.stats.rebuilt
    assert _totals(again) == _totals(cold)


@pytest.mark.parametrize("table", ["files", "models"])
def test_cache_pointing_outside_its_tables_is_rejected(
    table: str, corpus: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _load(corpus, cache)
    full = next(p for p in cache.iterdir() if p.name.startswith("usage-"))
    roots = [str(corpus / "projects")]
    loaded = cache_mod.read(full, roots)
    assert loaded is not None
    del getattr(loaded, table)[1:]  # winners now name files or models that do not exist
    full.write_bytes(cache_mod.encode_state(loaded, roots))
    assert cache_mod.read(full, roots) is None
    assert _load(corpus, cache).stats.rebuilt


def test_caches_of_older_versions_are_removed(corpus: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    old = ("usage-v1-abc.msgpack", "recent-v4-abc.bin", "block-v5-abc.bin", "recent-v5-x.bin")
    for name in (*old, "notes.txt"):
        (cache / name).write_bytes(b"old")
    _load(corpus, cache)
    names = sorted("-".join(p.name.split("-")[:2]) for p in cache.iterdir())
    assert names == ["notes.txt", f"usage-v{cache_mod.VERSION}"]


def test_deleting_the_cache_is_safe(corpus: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = _load(corpus, cache)
    shutil.rmtree(cache)
    assert _totals(_load(corpus, cache)) == _totals(cold)


def _worker(args: tuple[str, str, int]) -> list[tuple[Any, ...]]:
    root, cache, _n = args
    return _totals(_load(Path(root), Path(cache)))


def test_two_processes_at_once(corpus: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    expected = _totals(_load(corpus, None))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.map(_worker, [(str(corpus), str(cache), n) for n in range(4)])
    assert all(r == expected for r in results)
    assert not [p for p in cache.iterdir() if p.suffix == ".tmp"]
    assert _totals(_load(corpus, cache)) == expected


def _mirror(line: str) -> str:
    """The sub-agent ``agent_progress`` mirror of an assistant line (daily view only)."""
    obj = json.loads(line)
    outer = {key: obj[key] for key in ("isSidechain", "cwd", "sessionId", "version")}
    mirror = {**outer, "type": "progress", "timestamp": obj["timestamp"],
              "data": {"type": "agent_progress", "message": {**obj, "isSidechain": True}}}  # fmt: skip
    return json.dumps(mirror, separators=(",", ":"))


_APPEND = st.tuples(
    st.sampled_from(["m0", "m1", "m2", "m3", "new"]),  # a copy of a message, or a new one
    st.sampled_from("abcd"),  # the transcript it lands in (c and d are new files)
    st.integers(1, 400),  # output tokens: a copy may beat the winner or not
    st.integers(0, 40),  # minutes after 10:00: copies cross quarter hours
    st.booleans(),  # an agent_progress mirror
    st.booleans(),  # a sidechain line
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(_APPEND, min_size=1, max_size=5), min_size=1, max_size=3))
def test_warm_runs_keep_the_daily_sums_in_step(batches: list[list[Any]]) -> None:
    """The daily view's sums live in the cache; a warm run moves only the winners its
    appended lines replaced (old one out, new one in). After every run they equal the sums
    of every winner, and the days equal a cold scan's."""
    from datetime import timezone

    from sessionmd.usage.daily import daily, daily_json
    from sessionmd.usage.quarters import QuarterSums

    with tempfile.TemporaryDirectory() as tmp:
        root, cache = Path(tmp) / "claude", Path(tmp) / "cache"
        for session, mids in (("a", "m0 m1"), ("b", "m2 m3")):
            lines = [
                assistant_line(ts=f"2026-01-10T10:0{n}:00.000Z", mid=m, rid=f"r{m}", out=50)
                for n, m in enumerate(mids.split())
            ]
            write_session(root, "p", session, lines)
        _load(root, cache)
        fresh = 0
        for batch in batches:
            for mid, session, out, minute, mirror, side in batch:
                if mid == "new":
                    fresh += 1
                    mid = f"n{fresh}"
                line = assistant_line(
                    ts=f"2026-01-10T{10 + minute // 60:02d}:{minute % 60:02d}:07.000Z",
                    mid=mid,
                    rid=f"r{mid}",
                    session=session,
                    out=out,
                    sidechain=side,
                    model="claude-haiku-4-5-20251001" if out % 2 else "claude-sonnet-4-5-20250929",
                )
                path = root / "projects" / "p" / f"{session}.jsonl"
                with path.open("a", encoding="utf-8") as fh:
                    fh.write((_mirror(line) if mirror else line) + "\n")
            full = next(p for p in cache.iterdir() if p.name.startswith("usage-"))
            kept = cache_mod.read(full, [str(root / "projects")])
            assert kept is not None and kept.quarters is not None  # corrected, not remade
            warm = _load(root, cache)
            assert warm.stats.rebuilt == "" and warm.stats.files_read
            every = QuarterSums()
            every.add_chunks(warm.state.winner_chunks(with_progress=True))
            assert warm.state.quarters.sums == every.sums
            cold = _load(root, None)
            assert daily_json(daily(warm, timezone.utc)) == daily_json(daily(cold, timezone.utc))


def test_sums_naming_a_model_outside_the_table_are_rejected(corpus: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _load(corpus, cache)
    full = next(p for p in cache.iterdir() if p.name.startswith("usage-"))
    roots = [str(corpus / "projects")]
    loaded = cache_mod.read(full, roots)
    assert loaded is not None and loaded.quarters is not None
    assert cache_mod.decode_state(cache_mod.encode_state(loaded, roots), roots) is not None
    loaded.quarters.sums[(1000 << 32) | len(loaded.models)] = [1, 1, 1, 1, 1]
    full.write_bytes(cache_mod.encode_state(loaded, roots))
    assert cache_mod.read(full, roots) is None
    again = _load(corpus, cache)
    assert again.stats.rebuilt and again.state.quarters is not None
    assert (1000 << 32) | len(loaded.models) not in again.state.quarters.sums
