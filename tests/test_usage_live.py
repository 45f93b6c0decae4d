"""The status line's live state: appended bytes only, and the same figures as the full path."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from usage_support import MISSING, assistant_line, generate, with_field, write_session

from sessionmd.usage import lineread, live
from sessionmd.usage.api import active_block, build_blocks, load_usage
from sessionmd.usage.dedupe import State
from sessionmd.usage.engine import Job, execute
from sessionmd.usage.limits import measure_tokens
from sessionmd.usage.status import StatusSettings, compute_status, session_tokens

UTC = timezone.utc


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _line(t: datetime, n: int, out: int = 1, session: str = "s") -> str:
    return assistant_line(ts=_ts(t), mid=f"m{n}", rid=f"r{n}", out=out, session=session)


def _live(root: Path, cache: Path, now: datetime) -> live.LiveUsage:
    return live.load_live(data_dirs=[root], env={}, cache_dir=cache, now=now)


def _full(root: Path, now: datetime) -> Any:
    return load_usage(data_dirs=[root], env={}, cache_dir=None, now=now, view="blocks")


def test_appended_lines_are_read_alone(tmp_path: Path) -> None:
    root, cache = tmp_path / "claude", tmp_path / "cache"
    t = datetime(2026, 1, 10, 20, 10, tzinfo=UTC)
    path = write_session(root, "p", "s", [_line(t - timedelta(hours=19), 0, 3), _line(t, 1, 10)])
    now = datetime(2026, 1, 10, 21, 0, tzinfo=UTC)
    first = _live(root, cache, now)
    assert first.how.startswith("rebuilt")
    assert first.active is not None and first.active.tokens.output == 10
    with path.open("a", encoding="utf-8") as fh:
        fh.write(_line(t + timedelta(minutes=10), 1, 40) + "\n")  # a larger copy of m1
        fh.write(_line(t + timedelta(minutes=20), 2, 5) + "\n")
        fh.write('{"type":"assistant","message":{"usage":{"input_tokens":"x"}}}\n')  # bad
        fh.write(_line(t + timedelta(minutes=30), 3, 7)[:40])  # half-written
    second = _live(root, cache, now)
    assert second.how == "live"
    assert second.active is not None
    assert second.active.start == datetime(2026, 1, 10, 20, tzinfo=UTC)
    assert second.active.tokens.output == 45
    expected = active_block(build_blocks(_full(root, now).entries, now))
    assert expected is not None and second.active.entries == expected.entries


def test_idle_files_are_stated_once_a_minute(tmp_path: Path) -> None:
    """Between full checks only recently active transcripts are stat'ed (speed)."""
    root, cache = tmp_path / "claude", tmp_path / "cache"
    t = datetime(2026, 1, 10, 20, 10, tzinfo=UTC)
    hot = write_session(root, "p", "hot", [_line(t, 1)])
    idle = write_session(root, "p", "idle", [_line(t - timedelta(hours=36), 2)])
    long_ago = (t - timedelta(hours=36)).timestamp()
    os.utime(idle, (long_ago, long_ago))
    now = datetime(2026, 1, 10, 21, 0, tzinfo=UTC)
    assert _live(root, cache, now).how.startswith("rebuilt")
    with idle.open("a", encoding="utf-8") as fh:
        fh.write(_line(t + timedelta(minutes=20), 3, 7) + "\n")
    with hot.open("a", encoding="utf-8") as fh:
        fh.write(_line(t + timedelta(minutes=10), 4, 5) + "\n")
    soon = _live(root, cache, now + timedelta(seconds=10))
    assert soon.how == "live"
    assert sorted(e.message_id or "" for e in soon.entries) == ["m1", "m4"]
    later = _live(root, cache, now + timedelta(seconds=70))
    assert later.how == "live"
    assert sorted(e.message_id or "" for e in later.entries) == ["m1", "m3", "m4"]


def test_new_transcripts_are_found_and_a_replaced_one_rebuilds(tmp_path: Path) -> None:
    root, cache = tmp_path / "claude", tmp_path / "cache"
    t = datetime(2026, 1, 10, 20, 10, tzinfo=UTC)
    path = write_session(root, "p", "a", [_line(t, 1)])
    now = t + timedelta(minutes=30)
    _live(root, cache, now)
    write_session(root, "p", "b", [_line(t + timedelta(minutes=5), 2, 9)])  # a new session
    agent = root / "projects" / "p" / "a" / "subagents" / "agent-1.jsonl"  # a new sub-agent
    agent.parent.mkdir(parents=True)
    agent.write_text(_line(t + timedelta(minutes=6), 3, 20) + "\n")
    got = _live(root, cache, now)
    assert got.how == "live"
    assert got.active is not None and got.active.tokens.output == 30
    expected = _full(root, now).entries
    assert got.entries == expected
    assert {e.session_id for e in got.entries} == {"a", "b"}
    path.write_text(_line(t, 1, 3) + "\n")  # rewritten shorter
    got = _live(root, cache, now)
    assert got.how.startswith("rebuilt") and got.active is not None
    assert got.active.tokens.output == 32


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b"",
        lambda b: b"\x00" * 64,
        lambda b: b[:-10],
        lambda b: b[:-100] + bytes(x ^ 0x55 for x in b[-100:]),
        lambda b: b[:8] + b"\xff" + b[9:],  # another Python version
    ],
)
def test_damaged_live_files_are_rebuilt(tmp_path: Path, damage: Any) -> None:
    root, cache = tmp_path / "claude", tmp_path / "cache"
    t = datetime(2026, 1, 10, 20, 10, tzinfo=UTC)
    write_session(root, "p", "s", [_line(t, 1, 4), _line(t + timedelta(minutes=1), 2, 6)])
    now = t + timedelta(minutes=30)
    good = _live(root, cache, now)
    for path in cache.glob("live-*"):
        path.write_bytes(damage(path.read_bytes()))
    # A full check (a minute later) needs the file table too.
    again = _live(root, cache, now + timedelta(minutes=2))
    assert again.how.startswith("rebuilt")
    assert again.active is not None and good.active is not None
    assert again.active.tokens == good.active.tokens


def test_the_block_moves_on_and_older_messages_become_sums(tmp_path: Path) -> None:
    """Continuous use: the live state keeps one block, the rest as 5-minute sums."""
    root, cache = tmp_path / "claude", tmp_path / "cache"
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    stamps = [t0 + timedelta(minutes=50 * n) for n in range(60)]  # never a 5-hour pause
    path = write_session(root, "p", "s", [_line(t, n, n + 1) for n, t in enumerate(stamps)])
    now = stamps[-1] + timedelta(minutes=5)
    _live(root, cache, now)
    later = [stamps[-1] + timedelta(minutes=m) for m in (20, 240, 290, 330)]
    with path.open("a", encoding="utf-8") as fh:
        for n, t in enumerate(later, start=100):
            fh.write(_line(t, n, n) + "\n")
        fh.write(_line(stamps[-1], 59, 500) + "\n")  # a larger copy of the last old message
    now = later[-1] + timedelta(minutes=1)
    got = _live(root, cache, now)
    assert got.how == "live"
    full = _full(root, now)
    expected = active_block(build_blocks(full.entries, now))
    assert expected is not None and got.active is not None
    assert (got.active.start, got.active.tokens) == (expected.start, expected.tokens)
    assert got.active.entries == expected.entries
    assert len(got.entries) < 10  # the latest block only
    measure = ("input", "output", "cache_creation", "cache_read")
    for hours in (6, 24, 49):
        since = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours)
        want = sum(measure_tokens(e.tokens, measure) for e in full.entries if e.timestamp >= since)
        have = measure_tokens(got.history.tokens_since(since), measure) + sum(
            measure_tokens(e.tokens, measure) for e in got.entries if e.timestamp >= since
        )
        assert have == want, hours
    total = sum(e.tokens.output for e in full.entries)
    assert got.history.session("s").output + sum(e.tokens.output for e in got.entries) == total


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gen") / "claude"
    generate(root, "--projects", "2", "--sessions", "4", "--messages", "40", "--seed", "9")
    return root


def _status(entries: Any, blocks: Any, now: datetime, **kw: Any) -> Any:
    return compute_status(
        entries=entries,
        blocks=blocks,
        settings=StatusSettings(limit="100000", weekly_limit=1_000_000),
        snapshot=None,
        now=now,
        tz=UTC,
        **kw,
    )


def test_live_status_equals_the_full_status_on_a_generated_corpus(
    corpus: Path, tmp_path: Path
) -> None:
    root = tmp_path / "claude"
    shutil.copytree(corpus, root)
    cache = tmp_path / "cache"
    full = _full(root, datetime(2026, 2, 1, tzinfo=UTC))
    last = max(e.timestamp for e in full.entries)
    for minutes in (1, 20, 200):
        now = last + timedelta(minutes=minutes)
        got = _live(root, cache, now)
        whole = _full(root, now)
        want = _status(whole.entries, build_blocks(whole.entries, now), now)
        have = _status(got.entries, got.blocks, now, history=got.history)
        assert have.five_hour.used == want.five_hour.used
        assert have.five_hour.start == want.five_hour.start
        assert have.weekly.used == want.weekly.used
        assert have.burn_rate == want.burn_rate
        session = whole.entries[-1].session_id
        assert session_tokens(got.entries, session) + measure_tokens(
            got.history.session(session), ("input", "output", "cache_creation")
        ) == session_tokens(
            [e for e in whole.entries if e.timestamp >= now - timedelta(days=8)], session
        )


# -- the standard-library line reader against the engine's msgspec decoder ------------------

_GOOD = json.loads(
    assistant_line(ts="2026-01-10T20:10:00.000Z", mid="m1", rid="r1", out=5, cc=2, cr=9)
)


def _variants() -> list[Any]:
    def with_(path: tuple[str, ...], value: Any) -> Any:
        return with_field(_GOOD, path, value)

    return [
        with_(("cwd",), 5),
        with_(("isSidechain",), "yes"),
        with_(("isSidechain",), True),
        with_(("requestId",), None),
        with_(("requestId",), 7),
        with_(("timestamp",), "2026-01-10T20:10:00"),  # naive
        with_(("timestamp",), "yesterday"),
        with_(("timestamp",), "2026-01-10T20:10:00.123456+02:00"),
        with_(("message", "usage", "input_tokens"), "3"),
        with_(("message", "usage", "input_tokens"), True),
        with_(("message", "usage", "input_tokens"), 1.5),
        with_(("message", "usage", "output_tokens"), MISSING),
        with_(("message", "usage", "cache_read_input_tokens"), None),
        with_(("message", "usage", "cache_creation_input_tokens"), -4),
        with_(("message", "usage", "output_tokens"), 1 << 70),
        with_(("message", "id"), MISSING),
        with_(("message", "model"), "<synthetic>"),
        with_(("message",), "text"),
        with_(("data",), [1]),
        with_(("type",), "progress"),
        {"type": "progress", "data": {"type": "agent_progress", "message": _GOOD}},
        {"type": "progress", "data": {"type": "other", "message": _GOOD}},
        {"type": "progress", "data": {"type": "agent_progress", "message": {"message": 1}}},
        [1, 2],
        # What ccusage 20.0.24 accepts beyond types (tests/test_usage_ccusage.py asks it):
        with_(("cwd",), None),
        with_(("cwd",), [1]),
        with_(("version",), "2.0.14"),
        with_(("version",), "1.0.0-beta"),
        with_(("version",), "1.0"),
        with_(("version",), "v1.0.0"),
        with_(("version",), None),
        with_(("sessionId",), ""),
        with_(("requestId",), ""),
        with_(("message", "id"), None),
        with_(("message", "model"), ""),
        with_(("message", "usage", "cache_read_input_tokens"), MISSING),
        with_(("costUSD",), None),
        with_(("costUSD",), 0.25),
        with_(("type",), [1]),
    ]


def _engine_winners(path: Path) -> tuple[dict[str, bytes], dict[str, bytes], int]:
    state = State()
    from sessionmd.usage.dedupe import FileInfo

    state.files.append(FileInfo(str(path), "s", "p", path.stat().st_size))
    stats = execute(state, [Job(0, str(path), "s", 0)], None, processes=1)
    return state.main, state.prog, len(stats.problems) + len(state.problems)


def _reader_winners(path: Path) -> tuple[dict[str, bytes], dict[str, bytes], int]:
    main: dict[str, bytes] = {}
    prog: dict[str, bytes] = {}
    models: list[str] = []

    def index(name: str) -> int:
        if name not in models:
            models.append(name)
        return models.index(name)

    bad = 0
    offset = 0
    for raw in path.read_bytes().splitlines(keepends=True):
        if lineread.MARKER in raw:
            try:
                rec = lineread.read_line(raw.rstrip(b"\n"), str(path), "s", offset, 0, index)
            except lineread.BadLine:
                bad += 1
                rec = None
            if rec is not None:
                table = prog if rec.mirror else main
                cur = table.get(rec.key)
                if cur is None or rec.packed[: lineread.RANK] < cur[: lineread.RANK]:
                    table[rec.key] = rec.packed
        offset += len(raw)
    return main, prog, bad


def test_line_reader_equals_the_engine_on_every_variant(tmp_path: Path) -> None:
    outcomes = []
    for n, obj in enumerate(_variants()):
        path = tmp_path / f"v{n}.jsonl"
        raw = json.dumps(obj, separators=(",", ":"))
        path.write_text(raw + "\n")
        got = _reader_winners(path)
        assert got == _engine_winners(path), raw
        outcomes.append((bool(got[0]), bool(got[1]), got[2]))
    # The variants reach every outcome: counted, mirror, rejected, ignored.
    assert sum(1 for main, _p, _b in outcomes if main) == 12
    assert sum(1 for _m, prog, _b in outcomes if prog) == 2
    assert sum(1 for _m, _p, bad in outcomes if bad) == 22
    assert sum(1 for o in outcomes if o == (False, False, 0)) == 3


def test_line_reader_equals_the_engine_on_a_generated_corpus(corpus: Path) -> None:
    for path in sorted((corpus / "projects").rglob("*.jsonl"))[:20]:
        assert _reader_winners(path) == _engine_winners(path), path


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-5, 10**6) | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["input_tokens", "output_tokens", "id", "model", "usage", "message", "type",
                 "timestamp", "requestId", "isSidechain", "data", "cwd", "sessionId"]
            ),
            inner,
            max_size=5,
        ),
        max_leaves=12,
    )
)  # fmt: skip
def test_line_reader_never_disagrees_with_the_engine(tmp_path: Path, obj: Any) -> None:
    line = {"type": "assistant", "timestamp": "2026-01-10T20:10:00Z", "message": {"usage": obj}}
    path = tmp_path / "h.jsonl"
    path.write_text(json.dumps(line, separators=(",", ":")) + "\n")
    assert _reader_winners(path) == _engine_winners(path)


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=5)))
def test_a_column_round_trips(items: list[str]) -> None:
    stored = live.Column(list(items)).dump()
    assert live.Column(joined=stored).items == items


def test_one_transcript_without_cwd_survives_full_checks(tmp_path: Path) -> None:
    root, cache = tmp_path / "claude", tmp_path / "cache"
    t = datetime(2026, 1, 10, 20, 10, tzinfo=UTC)
    obj = json.loads(_line(t, 1, 6))
    del obj["cwd"]
    path = write_session(root, "p", "s", [json.dumps(obj, separators=(",", ":"))])
    for seconds in (0, 70, 140):
        got = _live(root, cache, t + timedelta(minutes=5, seconds=seconds))
        assert got.active is not None and got.active.tokens.output == 6
    with path.open("a", encoding="utf-8") as fh:
        fh.write(_line(t + timedelta(minutes=1), 2, 4) + "\n")
    got = _live(root, cache, t + timedelta(minutes=5, seconds=210))
    assert got.how == "live" and got.active is not None
    assert got.active.tokens.output == 10
    assert {e.cwd for e in got.entries} == {"/home/dev/app"}


def test_a_live_state_of_the_wrong_shape_is_rebuilt(tmp_path: Path) -> None:
    """Right magic and checksum, wrong contents (another build's layout): rebuilt, not a
    status line that fails on every call."""
    root, cache = tmp_path / "claude", tmp_path / "cache"
    t = datetime(2026, 1, 10, 20, 10, tzinfo=UTC)
    write_session(root, "p", "s", [_line(t, 1, 4)])
    now = t + timedelta(minutes=30)
    _live(root, cache, now)
    path = live.live_path(cache, [str(root / "projects")])
    state = live.load(path, [str(root / "projects")])
    assert state is not None
    state.rows = {0: None}  # type: ignore[dict-item]  # rows of another layout
    live.save(path, state)
    got = _live(root, cache, now)
    assert got.how.startswith("rebuilt: unusable")
    assert got.active is not None and got.active.tokens.output == 4


def _live_worker(args: tuple[str, str, str]) -> list[tuple[Any, ...]]:
    root, cache, now = args
    got = _live(Path(root), Path(cache), datetime.fromisoformat(now))
    return [(e.message_id, e.tokens.output) for e in got.entries]


def test_status_lines_at_once_agree_and_leave_whole_files(corpus: Path, tmp_path: Path) -> None:
    """Several sessions' status lines run at once: each sees the same block, and the state
    files left behind are whole (the last writer wins; a later run reads them)."""
    import multiprocessing

    root = tmp_path / "claude"
    shutil.copytree(corpus, root)
    cache = tmp_path / "cache"
    last = max(e.timestamp for e in _full(root, datetime(2026, 2, 1, tzinfo=UTC)).entries)
    now = last + timedelta(minutes=3)
    _live(root, cache, now)  # one state to start from, as after the first status line
    target = max((root / "projects").rglob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    with target.open("a", encoding="utf-8") as fh:
        fh.write(_line(last + timedelta(minutes=1), 900, 77, session=target.stem) + "\n")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.map(_live_worker, [(str(root), str(cache), now.isoformat())] * 8)
    since = last - timedelta(hours=5)
    full = _full(root, now).entries
    expected = {(e.message_id, e.tokens.output) for e in full if e.timestamp >= since}
    assert all(r == results[0] for r in results)
    assert ("m900", 77) in results[0]
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]
    again = _live(root, cache, now)
    assert again.how == "live"
    assert [(e.message_id, e.tokens.output) for e in again.entries] == results[0]
    assert set(results[0]) <= expected
