"""Bring the dedupe state up to date with the transcripts: read what is new, nothing else.

A file the state has read before is read from its last complete line on when it grew; when
any known file shrank, changed identity (inode, device, or mtime at the same size) or
disappeared, the state is rebuilt from scratch, because winners it gave may have hidden
runners-up that only a full pass recovers. Large amounts of new bytes are read by two
processes (fork, where the platform has it) that claim runs of files from the two ends of one
queue as they get free; the worker sends each run's winners back, and the parent merges them
with the same order-free rule while it reads its own.
"""

from __future__ import annotations

import contextlib
import gc
import os
import struct
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sessionmd.usage.dedupe import FileInfo, Recorder, State, Table
from sessionmd.usage.discover import Discovery, Transcript
from sessionmd.usage.quarters import QuarterSums
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
    processes: int = 1  # 2 when a forked worker read its share
    problems: list[Problem] = field(default_factory=list)
    # The daily view's sums over every winner, when the scan's two processes made them
    # (``execute(sum_quarters=True)``); the state keeps them too (``State.quarters``).
    quarters: QuarterSums | None = None


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


def rebuild_reason(files: Sequence[FileInfo], found: Discovery) -> str:
    """Why a state over ``files`` must be rebuilt to match ``found`` ("" when it need not).

    A file that vanished, shrank or was replaced may have given winners that hid runners-up
    elsewhere, which only a full pass recovers. Asked of a cache's file table before its
    winners are read (``cache.read(accept=...)``), so a rebuild never holds the old state.
    """
    current = {t.path for t in found.files}
    for f in files:
        if f.path not in current:
            return f"{f.path} disappeared"
    by_path = {f.path: f for f in files}
    for t in found.files:
        info = by_path.get(t.path)
        if info is not None and not _same(info, t):
            return f"{t.path} shrank or was replaced"
    return ""


def plan(state: State, found: Discovery) -> list[Job]:
    """The jobs that bring ``state`` up to ``found``.

    ``state`` is one that needs no rebuild (``rebuild_reason`` of its files is ""): a fresh
    one, or a cache that ``cache.read``'s ``accept`` let through after asking exactly that.
    """
    by_path = {f.path: n for n, f in enumerate(state.files)}
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
    return jobs


def _run(
    state: State,
    jobs: Sequence[Job],
    now_ms: int | None,
    tables: tuple[Table, Table] | None = None,
) -> list[tuple[int, FileScan]]:
    done: list[tuple[int, FileScan]] = []
    for job in jobs:
        res = scan_file(
            job.path, job.session, state.sink(job.idx, tables), offset=job.offset, now_ms=now_ms
        )
        if res.problems:
            _number_lines(job.path, res.problems)
        done.append((job.idx, res))
    return done


_MIN_CLAIM = 256 << 10  # bytes of transcripts claimed at a time, at least ...
_MAX_CLAIM = 4 << 20  # ... and at most (a worker's batch of winners stays small)
_PIPE_SIZE = 1 << 20  # room for several batches, so the worker rarely waits on the parent
_FRAME = struct.Struct(">Q")  # length prefix of a batch on the pipe (0: the worker is done)
_ENDS = struct.Struct("=qq")  # the queue's two ends, in memory both processes share


class _Queue:
    """Jobs in path order, claimed from the front by the parent and from the back by the worker.

    Why: splitting the bytes in two halves up front left one process idle for a third of a
    second (work per byte differs between projects). Claiming small runs as each process
    gets free keeps both busy until the two ends meet, and each process still reads
    contiguous runs of paths (a message's copies mostly live in one project), so merging is
    mostly insertions. Runs shrink as the queue drains, so both finish within a few ms.

    Plain ``os`` parts (a shared anonymous map for the two ends, a one-byte token in a pipe
    as the lock), not ``multiprocessing``: importing that and its ctypes cost 25 ms a run.
    """

    def __init__(self, jobs: Sequence[Job], sizes: dict[int, int]) -> None:
        import mmap

        self.jobs = sorted(jobs, key=lambda j: j.path)
        cum = [0]
        for job in self.jobs:
            cum.append(cum[-1] + sizes[job.idx])
        self.cum = cum
        self.ends = mmap.mmap(-1, _ENDS.size)  # MAP_SHARED: the forked worker sees our writes
        _ENDS.pack_into(self.ends, 0, 0, len(self.jobs))
        self.lock_r, self.lock_w = os.pipe()
        os.write(self.lock_w, b"t")
        # Only the worker keeps the write end (``worker_started``): end of file on the read
        # end means the worker is gone, perhaps with the token, so the parent stops waiting.
        self.alive_r, self.alive_w = os.pipe()

    def worker_started(self) -> None:
        """In the parent, after the fork."""
        os.close(self.alive_w)
        self.alive_w = -1

    def _acquire(self, front: bool) -> None:
        if not front or self.alive_w != -1:
            os.read(self.lock_r, 1)  # the worker, or no worker yet: wait for the token
            return
        import select

        ready, _w, _x = select.select([self.lock_r, self.alive_r], [], [])
        if self.lock_r in ready:
            os.read(self.lock_r, 1)
        # else: the worker died, maybe holding the token; nobody else takes runs now

    def take(self, front: bool) -> list[Job]:
        """The next run of jobs for one side; empty when none are left."""
        cum = self.cum
        self._acquire(front)
        try:
            lo, hi = _ENDS.unpack_from(self.ends)
            if lo >= hi:
                return []
            want = min(max((cum[hi] - cum[lo]) // 16, _MIN_CLAIM), _MAX_CLAIM)
            if front:
                cut = bisect_left(cum, cum[lo] + want, lo + 1, hi)
                _ENDS.pack_into(self.ends, 0, cut, hi)
                return self.jobs[lo:cut]
            cut = max(lo, min(bisect_right(cum, cum[hi] - want, lo, hi) - 1, hi - 1))
            _ENDS.pack_into(self.ends, 0, lo, cut)
            return self.jobs[cut:hi]
        finally:
            os.write(self.lock_w, b"t")

    def close(self) -> None:
        for fd in (self.lock_r, self.lock_w, self.alive_r, self.alive_w):
            if fd != -1:
                os.close(fd)
        self.ends.close()


def _send(fd: int, raw: bytes) -> None:
    """One length-prefixed frame (``os.write`` may take a large one in parts)."""
    for part in (_FRAME.pack(len(raw)), raw):  # not joined: that copied every batch
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view) :]


def _recv(fd: int) -> bytes | None:
    """The next frame; b"" when the worker is done, None when it died before saying so."""
    head = _read(fd, _FRAME.size)
    if head is None:
        return None
    (size,) = _FRAME.unpack(head)
    return _read(fd, size) if size else b""


def _read(fd: int, size: int) -> bytes | None:
    parts = []
    while size:
        part = os.read(fd, min(size, _PIPE_SIZE))
        if not part:
            return None
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _fields(res: FileScan) -> tuple[object, ...]:
    """A FileScan's fields in order (``FileScan(*fields)`` builds it again)."""
    return tuple([getattr(res, name) for name in FileScan.__match_args__])


def _child(fd: int, state: State, queue: _Queue, now_ms: int | None) -> None:
    """Scan runs of jobs from the back of the queue; send each run's winners, then forget them.

    Sending per run (not once at the end) lets the parent merge while it still scans, and
    keeps the worker's memory at one run's winners instead of half of everyone's.
    """
    import pickle

    while True:
        part = queue.take(front=False)
        if not part:
            break
        done = _run(state, part, now_ms)
        batch = (
            state.models,
            [(idx, *_fields(res)) for idx, res in done],  # tuples pickle 3x faster
            list(state.main),
            b"".join(state.main.values()),
            list(state.prog),
            b"".join(state.prog.values()),
        )
        state.main = {}
        state.prog = {}
        _send(fd, pickle.dumps(batch, protocol=5))
    _send(fd, b"")


def _sum_for_parent(from_parent: int, to_parent: int) -> None:
    """In the worker, once the queue is empty: sum the winner chunks the parent sends.

    The parent has the only complete state, so this is the worker's one way to help with
    the daily view's sums instead of sitting idle while the parent makes them alone.
    """
    import pickle

    quarters = QuarterSums()
    while raw := _recv(from_parent):
        quarters.add_chunks([raw])
    if raw is not None:  # b"": all sent (None: the parent is gone)
        _send(to_parent, pickle.dumps(quarters.sums, protocol=5))


# Winners per chunk of the split sum: several chunks fit in the pipe, so the parent seldom
# waits for the worker to take the next one while it sums the last.
_SUM_CHUNK = 2048


def _split_sum(state: State, to_worker: int, from_worker: int) -> QuarterSums:
    """The daily view's sums over ``state``, two chunks of winners in three summed by the
    worker.

    Why: the sums touch every winner once, a sixth of a cold ``usage daily`` when one
    process made them after the scan while the worker sat idle. The parent also joins the
    chunks, hence the worker's larger share. Chunks go out one at a time between the
    parent's own, so neither waits long on the pipe. A worker that dies costs time, not
    results: the chunks it had are summed here.
    """
    import pickle

    mine = QuarterSums()
    sent = 0  # the worker took two in three of the chunks before this one
    alive = True
    for n, chunk in enumerate(state.winner_chunks(True, _SUM_CHUNK)):
        if alive and n % 3 != 2:
            try:
                _send(to_worker, chunk)
                sent = n + 1
                continue
            except OSError:  # the worker is gone (a broken pipe): sum it here
                alive = False
        mine.add_chunks([chunk])
    raw = None
    if alive:
        with contextlib.suppress(OSError):
            _send(to_worker, b"")
            raw = _recv(from_worker)
    if raw:
        mine.merge(pickle.loads(raw))
    else:  # the worker died with the chunks it had: made again, not kept (10 MB per GB)
        chunks = state.winner_chunks(True, _SUM_CHUNK)
        mine.add_chunks(chunk for n, chunk in enumerate(chunks) if n % 3 != 2 and n < sent)
    return mine


def _take_batch(fd: int, state: State, done: list[tuple[int, FileScan]]) -> bool | None:
    """Merge the worker's next batch: None while batches come, True at its end-of-work
    frame, False when its pipe closed without one (it died)."""
    raw = _recv(fd)
    if raw is None:
        return False
    if not raw:
        return True
    _merge_batch(raw, state, done)
    return None


def _merge_batch(raw: bytes, state: State, done: list[tuple[int, FileScan]]) -> None:
    """Fold one of the worker's batches (``_child``) into ``state``."""
    import pickle  # here: the status line's path never forks, so never needs it

    models, their_done, main_keys, main_blob, prog_keys, prog_blob = pickle.loads(raw)
    done += [(idx, FileScan(*fields)) for idx, *fields in their_done]
    state.merge_packed(models, main_keys, main_blob, prog_keys, prog_blob)


def _pipe() -> tuple[int, int]:
    """A pipe with room for a batch, so that a writer rarely waits on its reader."""
    r, w = os.pipe()
    with contextlib.suppress(AttributeError, OSError):
        import fcntl

        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
    return r, w


def _parallel(
    state: State,
    jobs: Sequence[Job],
    sizes: dict[int, int],
    now_ms: int | None,
    sum_quarters: bool,
) -> tuple[list[tuple[int, FileScan]], bool, QuarterSums | None]:
    """Scan on this process and one forked worker, merging the worker's batches as they come.

    Returns the per-file results, whether the worker did its share, and (``sum_quarters``)
    the daily view's sums, which the two processes make together after the scan. A worker
    that dies (killed, out of memory, a bug) costs time, not results: the runs it claimed
    but never sent are read again here.
    """
    import select

    queue = _Queue(jobs, sizes)
    recv, send = _pipe()
    back_r, back_w = _pipe() if sum_quarters else (-1, -1)  # winners to sum, parent to worker
    worker = State(files=state.files, models=list(state.models))
    pid = os.fork()
    if pid == 0:  # the worker: never returns into the caller's code
        code = 1
        try:
            os.close(recv)
            _child(send, worker, queue, now_ms)
            if back_r != -1:
                os.close(back_w)
                _sum_for_parent(back_r, send)
            code = 0
        finally:
            os._exit(code)
    os.close(send)
    if back_r != -1:
        os.close(back_r)
    queue.worker_started()
    done: list[tuple[int, FileScan]] = []
    finished: bool | None = None  # True: the worker said it is done; False: it is gone
    quarters = None
    try:
        while True:
            part = queue.take(front=True)
            if not part:
                break
            done += _run(state, part, now_ms)
            while finished is None and select.select([recv], [], [], 0)[0]:
                finished = _take_batch(recv, state, done)
        while finished is None:
            finished = _take_batch(recv, state, done)
        if finished and back_w != -1:
            quarters = _split_sum(state, back_w, recv)
    finally:
        os.close(recv)
        if back_w != -1:
            os.close(back_w)
        os.waitpid(pid, 0)
        queue.close()
    seen = {idx for idx, _res in done}
    missing = [job for job in jobs if job.idx not in seen]
    if missing:
        done += _run(state, missing, now_ms)
        quarters = None  # made before these were read (never, while the worker says done)
    return done, bool(finished), quarters


def execute(
    state: State,
    jobs: Sequence[Job],
    now_ms: int | None,
    processes: int = 2,
    sum_quarters: bool = False,
) -> ScanStats:
    """Run the jobs ``plan`` made, on two processes when there is enough to read.

    ``sum_quarters``: when two processes read, also make the daily view's sums on both
    (``stats.quarters``) before the worker goes.

    The cyclic garbage collector is paused meanwhile (``paused_gc``).
    """
    with paused_gc():
        return _execute(state, jobs, now_ms, processes, sum_quarters)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off meanwhile (and back on after, if it was on).

    Loading usage makes objects by the million (and discovery thousands of file records)
    that hold no cycles: collections there find nothing and cost a tenth of a scan.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _execute(
    state: State, jobs: Sequence[Job], now_ms: int | None, processes: int, sum_quarters: bool
) -> ScanStats:
    stats = ScanStats()
    sizes = {j.idx: state.files[j.idx].size - j.offset for j in jobs}
    total = sum(sizes.values())
    done: list[tuple[int, FileScan]]
    if processes > 1 and total >= PARALLEL_MIN_BYTES and len(jobs) > 1 and hasattr(os, "fork"):
        done, shared, stats.quarters = _parallel(state, jobs, sizes, now_ms, sum_quarters)
        stats.processes = 2 if shared else 1
        state.quarters = stats.quarters  # the sums of every winner now, or none known
    elif state.quarters is not None and jobs:
        # A warm run keeps the daily sums in step: only the winners it replaced move.
        main, prog = Recorder(state.main), Recorder(state.prog)
        done = _run(state, jobs, now_ms, (main, prog))
        state.correct_sums(main, prog)
    else:
        done = _run(state, jobs, now_ms)
    # Once per file read, after the scan, on one process: kept to plain loads and stores.
    files = state.files
    bytes_read = lines = future = 0
    for idx, res in done:
        info = files[idx]
        info.offset = res.end_offset
        if res.cwd and not info.cwd:
            info.cwd = res.cwd
        bytes_read += res.bytes_read
        lines += res.lines_decoded
        future += res.future
        if res.problems:
            stats.problems.extend(p for p in res.problems if not p.line)
            state.problems.extend((p.path, p.line, p.reason) for p in res.problems if p.line)
    stats.files_read = len(done)
    stats.bytes_read = bytes_read
    stats.lines_decoded = lines
    stats.future_entries = future
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
