"""One pass of the agent over frame chunks, the same for replay, live, the fleet and the parallel workers.

Shaped like python-can's ``BusABC``: a context manager whose exit fixes the order of the end, so no caller
can get it wrong: the last chunks are fed, then end of input (transfers still open time out; for a byte
range of a larger log, its open transfers are finished from the bytes after it), then the flush; only
then are checks and summary read. An interrupted run skips the end of input: what was not read is not
timed out, and a resume continues it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from vehicle_ds.errors import InputError

from .agent import Agent
from .frames import FrameChunk

LOOKAHEAD_BYTES = 1 << 20  # how far past a range's end its open transfers may still run
LOOKAHEAD_BLOCK = 16 * 1024


def finish_range(agent: Agent, path: Path, end: int) -> None:
    """Transport sessions open at the end of a range continue in the next one: read on (frames there feed
    only these sessions, the next range's worker ignores them) until they are done or cannot continue
    (the longest timeout passed), then count what is still open as timed out, as a serial replay would."""
    from .readers import read_blf, read_candump
    from .transport import J1939_T2_S

    read = read_blf if path.suffix.lower() == ".blf" else read_candump
    if agent.transport.open_sessions() and end < path.stat().st_size:
        # small blocks: a transfer ends within milliseconds of log time, a few hundred lines on
        try:
            for chunk in read(path, chunk_bytes=LOOKAHEAD_BLOCK, start=end, end=end + LOOKAHEAD_BYTES):
                agent.continue_transport(chunk)
                if not agent.transport.open_sessions() or (
                        len(chunk) and chunk.t[-1] > agent.transport.last_activity() + J1939_T2_S):
                    break
        except InputError:  # damage after the range: the range that holds it reports it
            pass
    agent.end_of_input()


class AgentRun:
    def __init__(self, agent: Agent, *, range_end: tuple[Path, int] | None = None, flush: bool = True) -> None:
        """``range_end`` (log, byte offset): this run reads one byte range of the log, which ends there;
        ``flush=False`` leaves the flush to a caller that runs several ranges with one agent."""
        self.agent, self.range_end, self.flush_at_end = agent, range_end, flush
        self.interrupted = False
        self.error: InputError | None = None  # a damaged tail: what came before it is kept
        self.lines = 0
        self.closed = False

    def __enter__(self) -> AgentRun:
        return self

    def feed(self, chunks: Iterable[FrameChunk], stop: Any = None,
             progress: Callable[[FrameChunk], None] | None = None) -> None:
        """Process every chunk until the source ends, is damaged (kept in ``error``) or ``stop`` is set."""
        try:
            for chunk in chunks:
                if stop is not None and stop.is_set():
                    self.interrupted = True
                    return
                self.agent.process(chunk)
                self.lines += chunk.lines
                if progress is not None:
                    progress(chunk)
        except InputError as exc:
            self.error = exc

    def interrupt(self) -> None:
        self.interrupted = True

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None and not self.interrupted:
            if self.range_end is None:
                self.agent.end_of_input()
            else:
                finish_range(self.agent, *self.range_end)
        if self.flush_at_end:
            self.agent.flush()
        self.closed = True

    def _ended(self) -> Agent:
        if not self.closed:
            raise RuntimeError("checks and summary are read after the run ends (the end of input comes first)")
        return self.agent

    def checks(self) -> list[dict[str, Any]]:
        return self._ended().checks()

    def summary(self) -> dict[str, Any]:
        return self._ended().summary()
