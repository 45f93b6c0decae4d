"""Bring the dedupe state up to date with the transcripts: read what is new, nothing else.

A file the state has read before is read from its last complete line on when it grew; when
any known file shrank, changed identity (inode, device, or mtime at the same size) or
disappeared, the state is rebuilt from scratch, because winners it gave may have hidden
runners-up that only a full pass recovers. Large amounts of new bytes are split over two
processes (fork, where the platform has it); each builds its own state over the shared file
table and the parent merges them with the same order-free rule.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sessionmd.usage.dedupe import FileInfo, State, split_packed
from sessionmd.usage.discover import Discovery, Transcript
from sessionmd.usage.scan import FileScan, Problem, scan_file

PARALLEL_MIN_BYTES = 32 << 20  # below this, a second process costs more than it saves


@dataclass(slots=True)
class ScanStats:
    files: int = 0
    files_read: int = 0
    bytes_read: int = 0
    lines_decoded: int = 0
    future_entries: int = 0
    rebuilt: str = ""  # why the state was rebuilt from scratch ("" = incremental)
    processes: int = 1
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class Job:
    idx: int
    path: str
    session: str
    offset: int


def _same(info: FileInfo, t: Transcript) -> bool:
    if (info.inode, info.dev) != (t.inode, t.dev) or t.size < info.size:
        return False
    return not (t.size == info.size and t.mtime_ns != info.mtime_ns)


def plan(state: State, found: Discovery) -> tuple[State, list[Job], str]:
    """The jobs that bring ``state`` up to ``found``; a fresh state when it must be rebuilt."""
    by_path = {f.path: n for n, f in enumerate(state.files)}
    current = {t.path for t in found.files}
    reason = ""
    for f in state.files:
        if f.path not in current:
            reason = f"{f.path} disappeared"
            break
    if not reason:
        for t in found.files:
            n = by_path.get(t.path)
            if n is not None and not _same(state.files[n], t):
                reason = f"{t.path} shrank or was replaced"
                break
    if reason:
        state, by_path = State(), {}
    jobs: list[Job] = []
    for t in found.files:
        n = by_path.get(t.path)
        if n is None:
            n = len(state.files)
            state.files.append(FileInfo(t.path, t.session, t.project))
            by_path[t.path] = n
        info = state.files[n]
        info.mtime_ns, info.inode, info.dev = t.mtime_ns, t.inode, t.dev
        if t.size > info.size:
            # Grew since it was last looked at (a half-written last line is read again only
            # once more bytes arrive).
            jobs.append(Job(n, t.path, t.session, info.offset))
            info.size = t.size
    return state, jobs, reason


def _run(state: State, jobs: Sequence[Job], now_ms: int | None) -> list[tuple[int, FileScan]]:
    done: list[tuple[int, FileScan]] = []
    for job in jobs:
        res = scan_file(
            job.path, job.session, state.sink(job.idx), offset=job.offset, now_ms=now_ms
        )
        if res.problems:
            _number_lines(job.path, res.problems)
        done.append((job.idx, res))
    return done


_BATCH = 8192  # winners per message from a worker


def _child(conn: Any, state: State, jobs: Sequence[Job], now_ms: int | None) -> None:
    """Scan, then send the winners back in batches (never one huge pickle in memory)."""
    import pickle

    done = _run(state, jobs, now_ms)
    conn.send_bytes(pickle.dumps((state.models, done), protocol=5))
    for table in (state.main, state.prog):
        keys = list(table)
        conn.send_bytes(pickle.dumps(len(keys)))
        for n in range(0, len(keys), _BATCH):
            part = keys[n : n + _BATCH]
            blob = b"".join([table[k] for k in part])
            conn.send_bytes(pickle.dumps((part, blob), protocol=5))
    conn.close()


def _receive(conn: Any, state: State) -> list[tuple[int, FileScan]]:
    """Merge a worker's batches as they arrive; return its per-file results."""
    import pickle  # here: the status line's path never forks, so never needs it

    models, done = pickle.loads(conn.recv_bytes())
    for mirrors in (False, True):
        count = pickle.loads(conn.recv_bytes())
        got = 0
        while got < count:
            part, blob = pickle.loads(conn.recv_bytes())
            got += len(part)
            pairs = split_packed(part, blob)
            if mirrors:
                state.merge(models, (), pairs)
            else:
                state.merge(models, pairs)
    result: list[tuple[int, FileScan]] = done
    return result


def _split(jobs: Sequence[Job], sizes: dict[int, int]) -> tuple[list[Job], list[Job]]:
    """Two halves of about equal bytes, each a contiguous run of paths.

    Copies of a message mostly live in one project (resumed sessions, sub-agents), so
    contiguous halves make the merge mostly insertions rather than comparisons.
    """
    ordered = sorted(jobs, key=lambda j: j.path)
    half = sum(sizes.values()) / 2
    acc = 0
    for n, job in enumerate(ordered):
        acc += sizes[job.idx]
        if acc >= half:
            return ordered[: n + 1], ordered[n + 1 :]
    return ordered, []


def update(
    state: State, found: Discovery, now_ms: int | None, processes: int = 2
) -> tuple[State, ScanStats]:
    """Read every new byte under ``found`` into ``state`` (or a rebuilt one)."""
    state, jobs, reason = plan(state, found)
    stats = execute(state, jobs, now_ms, processes)
    stats.files = len(found.files)
    stats.rebuilt = reason
    stats.problems[:0] = found.problems
    return state, stats


def execute(state: State, jobs: Sequence[Job], now_ms: int | None, processes: int = 2) -> ScanStats:
    """Run the jobs ``plan`` made, on two processes when there is enough to read.

    The cyclic garbage collector is paused meanwhile: the scan allocates millions of
    short-lived acyclic objects, and collecting after every 700 of them costs a tenth of it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _execute(state, jobs, now_ms, processes)
    finally:
        if enabled:
            gc.enable()


def _execute(state: State, jobs: Sequence[Job], now_ms: int | None, processes: int) -> ScanStats:
    stats = ScanStats()
    sizes = {j.idx: state.files[j.idx].size - j.offset for j in jobs}
    total = sum(sizes.values())
    done: list[tuple[int, FileScan]]
    ctx = None
    if processes > 1 and total >= PARALLEL_MIN_BYTES and len(jobs) > 1:
        import multiprocessing  # here, not at the top: the status line never forks

        try:
            ctx = multiprocessing.get_context("fork")
        except ValueError:
            ctx = None
    if ctx is not None:
        mine, theirs = _split(jobs, sizes)
        recv, send = ctx.Pipe(duplex=False)
        worker = State(files=state.files, models=list(state.models))
        proc = ctx.Process(target=_child, args=(send, worker, theirs, now_ms), daemon=True)
        proc.start()
        send.close()
        done = _run(state, mine, now_ms)
        their_done = _receive(recv, state)
        proc.join()
        done += their_done
        stats.processes = 2
    else:
        done = _run(state, jobs, now_ms)
    for idx, res in done:
        info = state.files[idx]
        info.offset = res.end_offset
        if res.cwd and not info.cwd:
            info.cwd = res.cwd
        stats.files_read += 1
        stats.bytes_read += res.bytes_read
        stats.lines_decoded += res.lines_decoded
        stats.future_entries += res.future
        stats.problems.extend(p for p in res.problems if not p.line)
        state.problems.extend((p.path, p.line, p.reason) for p in res.problems if p.line)
    return stats


def _number_lines(path: str, problems: list[Problem]) -> None:
    """Turn the byte offsets of bad lines into 1-based line numbers (only files with any)."""
    wanted = sorted(p.offset for p in problems if p.offset >= 0)
    if not wanted:
        return
    numbers: dict[int, int] = {}
    try:
        with open(path, "rb") as fh:
            pos = 0
            lines = 0
            for target in wanted:
                while pos < target:
                    chunk = fh.read(min(1 << 20, target - pos))
                    if not chunk:
                        break
                    lines += chunk.count(b"\n")
                    pos += len(chunk)
                numbers[target] = lines + 1
    except OSError:
        return
    for p in problems:
        if p.offset in numbers:
            p.line = numbers[p.offset]
