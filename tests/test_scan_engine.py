"""The cold scan's parallel machinery: work queue, worker batches, model remapping, costs.

These pieces exist for speed (two processes sharing the work as they get free), so the tests
hold what speed must not change: every job is read exactly once, a worker's winners land
with the right model, and a report's figures do not depend on the order work finished in.
"""

from __future__ import annotations

from datetime import timezone
from itertools import permutations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionmd.usage import engine
from sessionmd.usage.daily import daily, daily_json
from sessionmd.usage.dedupe import FileInfo, State, _remodel, unpack
from sessionmd.usage.report import Tally
from sessionmd.usage.scan import repack

UTC = timezone.utc


def _jobs(sizes: list[int]) -> tuple[list[engine.Job], dict[int, int]]:
    jobs = [engine.Job(n, f"/p/{n:04d}.jsonl", "s", 0) for n in range(len(sizes))]
    return jobs, {n: size for n, size in enumerate(sizes)}


@given(
    st.lists(st.integers(0, 5_000), min_size=1, max_size=60),
    st.lists(st.booleans(), min_size=1, max_size=200),
    st.integers(1, 3_000),
)
def test_queue_hands_out_every_job_once_in_contiguous_runs(
    sizes: list[int], sides: list[bool], claim: int
) -> None:
    jobs, by_idx = _jobs(sizes)
    old = engine._MIN_CLAIM, engine._MAX_CLAIM
    engine._MIN_CLAIM, engine._MAX_CLAIM = claim, claim * 2
    try:
        queue = engine._Queue(jobs, by_idx)
        front: list[int] = []
        back: list[int] = []
        turn = 0
        while True:
            side = sides[turn % len(sides)]
            turn += 1
            part = queue.take(front=side)
            if not part:
                assert not queue.take(front=not side)
                break
            idx = [j.idx for j in part]
            assert idx == list(range(idx[0], idx[-1] + 1))  # a contiguous run in path order
            if side:
                front += idx
            else:
                back = idx + back
    finally:
        engine._MIN_CLAIM, engine._MAX_CLAIM = old
        queue.close()
    assert front + back == list(range(len(sizes)))


def _packed(model: int, ts: int = 1_000) -> bytes:
    return repack((ts, 1, 2, 3, 4, 10, 0, 0, model, 0))


@pytest.mark.parametrize("count", [3, 300])
def test_remodel_rewrites_only_the_moved_model_indexes(count: int) -> None:
    """The strided one-byte rewrite (under 256 models) and the record-by-record fallback."""
    models = [0, 1, 2, 1, 0, 2, count - 1]
    moved = {0: 2, 2: 0, count - 1: 1}
    blob = b"".join(_packed(m, ts=n) for n, m in enumerate(models))
    out = _remodel(blob, moved, count)
    size = len(_packed(0))
    got = [unpack(out[n : n + size]) for n in range(0, len(out), size)]
    assert [v[8] for v in got] == [moved.get(m, m) for m in models]
    assert [v[0] for v in got] == list(range(len(models)))  # nothing else moved


def test_merge_maps_a_workers_models_onto_ours() -> None:
    state = State(files=[FileInfo("/a", "s", "p"), FileInfo("/b", "s", "p")])
    state.model_index("opus")
    worker = ["sonnet", "opus"]  # the worker met sonnet first
    state.merge_packed(worker, ["k1", "k2"], _packed(0) + _packed(1))
    assert state.models == ["opus", "sonnet"]
    assert [state.models[unpack(state.main[k])[8]] for k in ("k1", "k2")] == ["sonnet", "opus"]


_records = st.lists(
    st.tuples(
        st.sampled_from(["k1", "k2", "k3", "k4"]),  # few keys: many collide
        st.integers(0, 3),  # total
        st.integers(0, 1),  # sidechain
        st.integers(0, 2),  # file
        st.integers(0, 5),  # offset
        st.booleans(),  # read by the worker, not the parent
    ),
    max_size=30,
)


@given(_records, st.integers(1, 4))
def test_merging_a_workers_batches_equals_one_process_reading_everything(
    records: list[tuple[str, int, int, int, int, bool]], batches: int
) -> None:
    """Keys inserted in bulk, common keys ranked afterwards: the same winners as one loop."""
    files = [FileInfo(f"/{name}", "s", "p") for name in "cab"]  # path order differs from index

    def packed(total: int, side: int, file: int, offset: int) -> bytes:
        return repack((1_000, total, 0, 0, 0, offset, 0, file, 0, side))

    def fold(state: State, rows: list[tuple[str, int, int, int, int, bool]]) -> None:
        for key, total, side, file, offset, _w in rows:
            new = packed(total, side, file, offset)
            cur = state.main.get(key)
            if cur is None or state.beats(new, cur):
                state.main[key] = new

    one = State(files=files, models=["m"])
    fold(one, records)
    parent = State(files=files, models=["m"])
    fold(parent, [r for r in records if not r[5]])
    theirs = [r for r in records if r[5]]
    for n in range(batches):
        worker = State(files=files, models=["m"])
        fold(worker, theirs[n::batches])
        parent.merge_packed(worker.models, list(worker.main), b"".join(worker.main.values()))
    assert parent.main == one.main


def test_two_process_scan_sends_every_file_once(tmp_path: object) -> None:
    """Tiny claims: many runs from both ends, yet each file's result comes back once."""
    from pathlib import Path

    from usage_support import NOW_DT, generate

    from sessionmd.usage.api import load_usage

    root = Path(str(tmp_path))
    generate(root, "--projects", "2", "--sessions", "5", "--messages", "10", "--seed", "5")
    old = engine.PARALLEL_MIN_BYTES, engine._MIN_CLAIM, engine._MAX_CLAIM
    engine.PARALLEL_MIN_BYTES, engine._MIN_CLAIM, engine._MAX_CLAIM = 0, 1, 1
    try:
        two = load_usage(data_dirs=[root], env={}, cache_dir=None, now=NOW_DT, view="daily")
    finally:
        engine.PARALLEL_MIN_BYTES, engine._MIN_CLAIM, engine._MAX_CLAIM = old
    one = load_usage(
        data_dirs=[root], env={}, cache_dir=None, now=NOW_DT, view="daily", processes=1
    )
    assert two.stats.processes == 2
    assert two.stats.files_read == one.stats.files_read == len(two.state.files)
    assert two.stats.bytes_read == one.stats.bytes_read
    assert two.rows == one.rows
    # The daily view's sums, made by both processes after the scan, equal the one
    # process's, which the report makes from the state.
    assert two.stats.quarters is not None and one.stats.quarters is None
    assert daily_json(daily(two, UTC)) == daily_json(daily(one, UTC))


def test_no_daily_sums_when_asked_for_none(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``usage daily --project`` sums one project's winners itself: the scan makes none."""
    from pathlib import Path

    from usage_support import NOW_DT, generate

    from sessionmd.usage.api import load_usage

    root = Path(str(tmp_path))
    generate(root, "--projects", "2", "--sessions", "3", "--messages", "8", "--seed", "4")
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    args = {"data_dirs": [root], "env": {}, "cache_dir": None, "now": NOW_DT, "view": "daily"}
    without = load_usage(**args, daily_sums=False)  # type: ignore[arg-type]
    with_sums = load_usage(**args)  # type: ignore[arg-type]
    assert without.stats.processes == with_sums.stats.processes == 2
    assert without.stats.quarters is None and with_sums.stats.quarters is not None
    project = without.state.files[0].project
    assert daily(without, UTC, project=project) == daily(with_sums, UTC, project=project)


@pytest.mark.parametrize("chunks_before_dying", [0, 1, 3])
def test_a_worker_that_dies_while_summing_costs_time_not_sums(
    chunks_before_dying: int, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent sums again whatever chunks it sent to a worker that died."""
    import os
    from pathlib import Path

    from usage_support import NOW_DT, generate

    from sessionmd.usage.api import load_usage

    root = Path(str(tmp_path))
    generate(root, "--projects", "2", "--sessions", "5", "--messages", "10", "--seed", "7")
    one = load_usage(
        data_dirs=[root], env={}, cache_dir=None, now=NOW_DT, view="daily", processes=1
    )
    real_recv = engine._recv

    def sum_then_die(from_parent: int, to_parent: int) -> None:  # runs in the worker
        for _n in range(chunks_before_dying):
            assert real_recv(from_parent)  # a chunk, not yet the end
        os._exit(3)

    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(engine, "_sum_for_parent", sum_then_die)
    monkeypatch.setattr(engine, "_SUM_CHUNK", 7)  # many chunks of winners
    two = load_usage(data_dirs=[root], env={}, cache_dir=None, now=NOW_DT, view="daily")
    assert two.stats.processes == 2  # its scan arrived whole
    assert two.stats.quarters is not None
    assert daily_json(daily(two, UTC)) == daily_json(daily(one, UTC))


def test_cost_does_not_depend_on_the_order_models_were_met() -> None:
    # Counts for which a plain left-to-right float sum differs between orders.
    rows = {
        "claude-opus-4-5-20251101": (2254257, 9549656, 1058756, 4279348),
        "claude-sonnet-4-5-20250929": (1978347, 8312021, 7541208, 7922960),
        "claude-haiku-4-5-20251001": (6368886, 3522457, 1574702, 8184876),
    }
    costs = set()
    for order in permutations(rows):
        t = Tally()
        for m in order:
            t.add(m, *rows[m], 0)
        costs.add(t.cost)
    assert len(costs) == 1


def _state_with_mirrors() -> State:
    """Main-only, mirror-only, and shared keys where either copy is the better one."""
    state = State(files=[FileInfo("/a", "s", "p")])
    state.model_index("m")
    state.main = {
        "main-only": repack((1, 1, 0, 0, 0, 10, 0, 0, 0, 0)),
        "main-better": repack((2, 9, 0, 0, 0, 20, 0, 0, 0, 0)),
        "mirror-better": repack((3, 1, 0, 0, 0, 30, 0, 0, 0, 0)),
    }
    state.prog = {
        "main-better": repack((4, 1, 0, 0, 0, 40, 0, 0, 0, 0)),
        "mirror-better": repack((5, 7, 0, 0, 0, 50, 0, 0, 0, 0)),
        "mirror-only": repack((6, 1, 0, 0, 0, 60, 0, 0, 0, 1)),
    }
    return state


@pytest.mark.parametrize("with_progress", [True, False])
@pytest.mark.parametrize("chunk", [1, 2, 8192])
def test_winner_chunks_hold_exactly_the_views_winners(
    with_progress: bool, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sessionmd.usage import dedupe

    monkeypatch.setattr(dedupe, "_CHUNK", chunk)
    state = _state_with_mirrors()
    size = len(_packed(0))
    got = sorted(
        unpack(blob[n : n + size])
        for blob in state.winner_chunks(with_progress)
        for n in range(0, len(blob), size)
    )
    assert got == sorted(v for _k, v, _p in state.winners(with_progress))
    assert [v[0] for v in got] == ([1, 2, 5, 6] if with_progress else [1, 2, 3])


@pytest.mark.parametrize("with_progress", [True, False])
def test_count_after_counts_the_views_future_winners(with_progress: bool) -> None:
    state = _state_with_mirrors()
    for ms in (-(1 << 40), -1, 0, 1, 2, 3, 4, 5, 6, 7):
        expected = sum(1 for _k, v, _p in state.winners(with_progress) if v[0] > ms)
        assert state.count_after(ms, with_progress) == expected


@pytest.mark.parametrize("batches_before_dying", [0, 1])
def test_a_worker_that_dies_costs_time_not_results(
    batches_before_dying: int, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the worker claimed but never sent is read again by the parent."""
    import os
    import time
    from pathlib import Path

    from usage_support import NOW_DT, generate

    from sessionmd.usage.api import load_usage

    root = Path(str(tmp_path))
    generate(root, "--projects", "2", "--sessions", "5", "--messages", "10", "--seed", "9")
    real_send = engine._send
    sent = []

    def send_then_die(fd: int, raw: bytes) -> None:  # runs in the forked worker
        if len(sent) >= batches_before_dying:
            os._exit(3)  # as if killed: no end-of-work frame, no clean close
        sent.append(len(raw))
        real_send(fd, raw)

    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(engine, "_MIN_CLAIM", 1)
    monkeypatch.setattr(engine, "_MAX_CLAIM", 1)
    monkeypatch.setattr(engine, "_send", send_then_die)
    real_take = engine._Queue.take

    def slow_front(queue: engine._Queue, front: bool) -> list[engine.Job]:
        if front:
            time.sleep(0.01)  # let the worker claim runs before the parent takes them all
        return real_take(queue, front)

    monkeypatch.setattr(engine._Queue, "take", slow_front)
    two = load_usage(data_dirs=[root], env={}, cache_dir=None, now=NOW_DT, view="daily")
    one = load_usage(
        data_dirs=[root], env={}, cache_dir=None, now=NOW_DT, view="daily", processes=1
    )
    assert two.stats.processes == 1  # the worker's share was lost, and read again
    assert two.stats.files_read == one.stats.files_read
    assert two.rows == one.rows


def test_clock_skew_is_reported_from_the_cache_too(tmp_path: object) -> None:
    """A second run reads nothing new (its scan saw no future line), yet still reports them;
    a future-dated copy that lost to an earlier one is not an entry, so it is not counted."""
    from pathlib import Path

    from click.testing import CliRunner
    from usage_support import assistant_line

    from sessionmd.cli.usage import usage

    root = Path(str(tmp_path)) / "c" / "projects" / "p"
    root.mkdir(parents=True)
    lines = [
        assistant_line(ts="2026-01-10T00:00:00.000Z", mid="m1", rid="r1", out=9),
        assistant_line(ts="2031-05-01T00:00:00.000Z", mid="m1", rid="r1", out=1),  # loses
        assistant_line(ts="2031-05-01T00:00:00.000Z", mid="m2", rid="r2", out=7),
    ]
    (root / "s.jsonl").write_text("".join(ln + "\n" for ln in lines))
    env = {"SESSIONMD_CACHE_DIR": str(Path(str(tmp_path)) / "cache")}
    args = ["daily", "--data-dir", str(root.parent.parent), "-z", "UTC", "--verbose"]
    for run in ("cold", "warm"):
        res = CliRunner().invoke(usage, args, env=env)
        assert res.exit_code == 0, res.output
        assert "1 entries are dated in the future" in res.stderr, run
        assert ("from cache" in res.stderr) == (run == "warm")


def test_parent_does_not_wait_for_a_token_a_dead_worker_took() -> None:
    """A worker killed between taking the queue's token and giving it back must not hang
    the parent: once the worker's end of the liveness pipe closes, the parent goes on."""
    import os
    import threading

    jobs, by_idx = _jobs([100, 200, 300, 400])
    queue = engine._Queue(jobs, by_idx)
    os.read(queue.lock_r, 1)  # the "worker" takes the token and never gives it back
    queue.worker_started()  # the parent's copy of the liveness pipe's write end is closed
    got: list[list[engine.Job]] = []
    thread = threading.Thread(target=lambda: got.append(queue.take(front=True)), daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive(), "the parent hung on the lost token"
    assert got and got[0]
    queue.close()
