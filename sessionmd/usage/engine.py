"""Bring the dedupe state up to date with the transcripts: read what is new, nothing else.

A file the state has read before is read from its last complete line on when it grew; when
any known file shrank, changed identity (inode, device, or mtime at the same size) or
disappeared, the state is rebuilt from scratch, because winners it gave may have hidden
runners-up that only a full pass recovers. Large amounts of new bytes are split over two
processes (fork, where the platform has it); each builds its own state over the shared file
table and the parent merges them with the same order-free rule.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field

from sessionmd.usage.dedupe import FileInfo, State
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
class _Job:
    idx: int
    path: str
    session: str
    offset: int
    lines: int


def _same(info: FileInfo, t: Transcript) -> bool:
    if (info.inode, info.dev) != (t.inode, t.dev) or t.size < info.size:
        return False
    return not (t.size == info.size and t.mtime_ns != info.mtime_ns)


def plan(state: State, found: Discovery) -> tuple[State, list[_Job], str]:
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
    jobs: list[_Job] = []
    for t in found.files:
        n = by_path.get(t.path)
        if n is None:
            n = len(state.files)
            state.files.append(FileInfo(t.path, t.session, t.project))
            by_path[t.path] = n
        info = state.files[n]
        info.mtime_ns, info.inode, info.dev = t.mtime_ns, t.inode, t.dev
        if t.size != info.size or info.offset < t.size:
            if t.size > info.offset:
                jobs.append(_Job(n, t.path, t.session, info.offset, info.lines))
            info.size = t.size
    return state, jobs, reason


def _run(state: State, jobs: Sequence[_Job], now_ms: int | None) -> list[tuple[int, FileScan]]:
    done: list[tuple[int, FileScan]] = []
    for job in jobs:
        res = scan_file(job.path, job.session, offset=job.offset, line_no=job.lines, now_ms=now_ms)
        state.add(job.idx, res.records)
        res.records = []
        done.append((job.idx, res))
    return done


def _child(conn: object, state: State, jobs: Sequence[_Job], now_ms: int | None) -> None:
    done = _run(state, jobs, now_ms)
    payload = pickle.dumps((state.models, state.main, state.prog, done), protocol=5)
    conn.send_bytes(payload)  # type: ignore[attr-defined]
    conn.close()  # type: ignore[attr-defined]


def _split(jobs: Sequence[_Job], sizes: dict[int, int]) -> tuple[list[_Job], list[_Job]]:
    a: list[_Job] = []
    b: list[_Job] = []
    la = lb = 0
    for job in sorted(jobs, key=lambda j: -sizes[j.idx]):
        if la <= lb:
            a.append(job)
            la += sizes[job.idx]
        else:
            b.append(job)
            lb += sizes[job.idx]
    a.sort(key=lambda j: j.idx)
    b.sort(key=lambda j: j.idx)
    return a, b


def update(
    state: State, found: Discovery, now_ms: int | None, processes: int = 2
) -> tuple[State, ScanStats]:
    """Read every new byte under ``found`` into ``state`` (or a rebuilt one)."""
    state, jobs, reason = plan(state, found)
    stats = ScanStats(files=len(found.files), rebuilt=reason, problems=list(found.problems))
    sizes = {j.idx: state.files[j.idx].size - j.offset for j in jobs}
    total = sum(sizes.values())
    done: list[tuple[int, FileScan]]
    ctx = None
    if processes > 1 and total >= PARALLEL_MIN_BYTES and len(jobs) > 1:
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
        models, main, prog, their_done = pickle.loads(recv.recv_bytes())
        proc.join()
        state.merge(State(files=state.files, models=models, main=main, prog=prog))
        done += their_done
        stats.processes = 2
    else:
        done = _run(state, jobs, now_ms)
    for idx, res in done:
        info = state.files[idx]
        info.offset, info.lines = res.end_offset, res.end_line
        if res.cwd and not info.cwd:
            info.cwd = res.cwd
        stats.files_read += 1
        stats.bytes_read += res.bytes_read
        stats.lines_decoded += res.lines_decoded
        stats.future_entries += res.future
        stats.problems.extend(p for p in res.problems if not p.line)
        state.problems.extend((p.path, p.line, p.reason) for p in res.problems if p.line)
    return state, stats


def cpu_count() -> int:
    return max(1, min(2, os.cpu_count() or 1))
