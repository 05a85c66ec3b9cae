"""Replay a large candump or BLF log on every core: the file is cut into ranges (newline-aligned for candump,
at log-container boundaries for BLF, the object straddling a range's end read by that range), forked workers
each take the next free range (a shared counter, so no worker idles while another has two left) through the
complete pipeline (read, decode, classify, handle, batch to the
shared spool), and the parent merges their counts, which are all sums, minima, maxima or sets.

Per million frames, parsing costs about 0.45 s of CPU and the rest of the pipeline about 0.30 s; as one
process they add up, as workers they share the machine's cores. Identifiers spread over several frames
(the VIN's pages) are assembled per range, so the first rows of a range carry the VIN pseudonym only
once its pages have been seen again."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import pickle
from pathlib import Path

from .agent import Agent
from .batch import SEQ_BITS

RANGE_BYTES = 6 * 1024 * 1024
BLF_RANGE_BYTES = 3 * 1024 * 1024 // 2  # compressed: about as many frames as a candump range


def range_bytes_for(path: Path) -> int:
    return BLF_RANGE_BYTES if path.suffix.lower() == ".blf" else RANGE_BYTES


def even_size(total: int, size: int) -> int:
    """A range size near ``size`` that cuts ``total`` into an even number of equal ranges: two workers
    then end together instead of one reading the odd range out alone."""
    n = max(1, -(-total // size))
    n += n % 2
    return -(-total // n)


def ranges(path: Path, size: int | None = None) -> list[tuple[int, int]]:
    """Byte ranges of about ``size`` (an even number of them) that start at a line start and end after a
    newline (candump), or start and end at container boundaries (BLF)."""
    size = even_size(path.stat().st_size, size or range_bytes_for(path))
    if path.suffix.lower() == ".blf":
        from .readers.blf import blf_ranges

        return blf_ranges(path, size)
    total = path.stat().st_size
    cuts = [0]
    with open(path, "rb") as f:
        pos = size
        while pos < total:
            f.seek(pos)
            window = f.read(65536)
            nl = window.find(b"\n")
            if nl < 0:
                break
            cuts.append(pos + nl + 1)
            pos = cuts[-1] + size
    cuts.append(total)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


PARALLEL_SUFFIXES = (".log", ".blf")


def worth_it(path: Path) -> bool:
    return (path.suffix.lower() in PARALLEL_SUFFIXES and path.stat().st_size > 4 * range_bytes_for(path)
            and (os.cpu_count() or 1) >= 2 and "fork" in mp.get_all_start_methods())


def _worker(agent: Agent, path: str, jobs: list[tuple[int, int, int]], conn, progress, stop,
            nxt, index: int = 0) -> None:  # pragma: no cover - child
    from .frames import coalesce
    from .readers import read_blf, read_candump
    from .run import AgentRun

    read = read_blf if Path(path).suffix.lower() == ".blf" else read_candump

    # batches numbered apart per worker: the forked builders and spools would otherwise count from one seq
    agent.builder.seq += (index + 1) << SEQ_BITS
    agent.spool._seq += (index + 1) << SEQ_BITS
    try:
        lines, done, damage = {}, [], None
        while True:
            with nxt.get_lock():  # the next range to whichever worker is free: no worker idles at the end
                k = nxt.value
                nxt.value += 1
            if k >= len(jobs) or stop.is_set():  # Ctrl-C: whole ranges only, so a resume knows what is left
                break
            seq, start, end = jobs[k]
            mark = len(agent.frames.malformed_lines)
            with AgentRun(agent, range_end=(Path(path), end), flush=False) as run:
                run.feed(coalesce(read(Path(path), start=start, end=end)))
            if run.error is not None:  # a damaged log: what this worker read is kept, the damage reported
                damage = run.error
                break
            lines[seq] = run.lines
            # keep this range's malformed line numbers apart: the parent knows where the range starts
            agent.frames.malformed_lines[mark:] = [(seq, n) for n in agent.frames.malformed_lines[mark:]]
            done.append(seq)
            with progress.get_lock():
                progress.value += end - start
        agent.flush()
        conn.send_bytes(pickle.dumps(("ok", agent.state(), lines, done, damage)))
    except BaseException as exc:
        conn.send_bytes(pickle.dumps(("error", exc, None, [], None)))
    finally:
        conn.close()


def replay_parallel(agent: Agent, path: Path, workers: int = 2, *, skip: frozenset[int] = frozenset(),
                    stop=None, progress=None, range_bytes: int | None = None) -> list[int]:
    """Run ``agent`` (built, not yet used) over ``path`` in ``workers`` forked processes and merge; ranges in
    ``skip`` were done by an interrupted run. Returns the ranges done (all of them unless ``stop`` was set)."""
    import threading

    agent.flush()
    parts = ranges(path, range_bytes)
    jobs = [(i, a, b) for i, (a, b) in enumerate(parts) if i not in skip]
    ctx = mp.get_context("fork")
    stop = stop or threading.Event()
    flag = ctx.Event()
    if stop.is_set():  # interrupted before the workers start: they take no range
        flag.set()
    done_bytes = ctx.Value("q", sum(b - a for i, (a, b) in enumerate(parts) if i in skip))
    nxt = ctx.Value("q", 0)
    pipes, procs = [], []
    for w in range(workers):
        r, wconn = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_worker, args=(agent, str(path), jobs, wconn, done_bytes, flag, nxt, w), daemon=True)
        p.start()
        wconn.close()
        pipes.append(r)
        procs.append(p)
    results = []
    try:
        for r in pipes:
            while not r.poll(0.05):  # a Ctrl-C reaches the workers within 50 ms: a range takes longer
                if stop.is_set():
                    flag.set()
                if progress is not None:
                    progress(done_bytes.value)
            try:
                results.append(pickle.loads(r.recv_bytes()))
            except EOFError:
                raise RuntimeError("a replay worker ended unexpectedly") from None
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    errors = [res[1] for res in results if res[0] == "error"] + [res[4] for res in results
                                                                 if res[0] == "ok" and res[4] is not None]
    lines: dict[int, int] = {}
    for res in results:
        if res[0] == "ok":
            lines.update(res[2])
    base, acc = {}, 0
    for seq in range(len(parts)):
        base[seq] = acc
        acc += lines.get(seq, 0)
    done: list[int] = []
    for res in results:
        if res[0] != "ok":
            continue
        st = res[1]
        st["frames"].malformed_lines = [base[seq] + n for seq, n in st["frames"].malformed_lines]
        agent.merge(st)
        done.extend(res[3])
    if errors:
        raise errors[0]
    return sorted(done)
