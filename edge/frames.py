"""Frames in columnar chunks: what every source (log reader, live bus) hands to the agent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

# kind of a row
DATA, REMOTE, ERROR_FRAME, MALFORMED = 0, 1, 2, 3
KIND_NAMES = {REMOTE: "remote_frame", ERROR_FRAME: "error_frame", MALFORMED: "malformed"}


@dataclass
class FrameChunk:
    t: np.ndarray  # float64 seconds
    channel: np.ndarray  # int16 index into ``channels``
    can_id: np.ndarray  # uint32, without flags
    extended: np.ndarray  # bool
    fd: np.ndarray  # bool
    length: np.ndarray  # int16, valid data bytes
    data: np.ndarray  # uint8 (rows, width)
    kind: np.ndarray  # uint8, see DATA/REMOTE/ERROR_FRAME/MALFORMED
    channels: list[str]
    malformed_lines: list[int] | None = None  # line numbers in the source, for the report
    lines: int = 0  # text lines this chunk covers (candump), so callers need not count them again
    offset: int = -1  # bytes of the source read when this chunk was complete (progress); -1 unknown

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def tail(self, start: int) -> FrameChunk:
        """The rows from ``start`` on (a resumed replay skips what the interrupted run processed)."""
        return FrameChunk(self.t[start:], self.channel[start:], self.can_id[start:], self.extended[start:],
                          self.fd[start:], self.length[start:], self.data[start:], self.kind[start:], self.channels,
                          None, self.lines, self.offset)

    @staticmethod
    def from_messages(msgs: list, channels: list[str]) -> FrameChunk:
        """From python-can ``Message`` objects (the fallback readers and live buses)."""
        n = len(msgs)
        width = max((len(m.data) for m in msgs), default=8)
        width = 64 if width > 8 else 8
        data = np.zeros((n, width), dtype=np.uint8)
        t = np.empty(n, dtype=np.float64)
        ch = np.empty(n, dtype=np.int16)
        cid = np.empty(n, dtype=np.uint32)
        ext = np.empty(n, dtype=bool)
        fd = np.empty(n, dtype=bool)
        ln = np.empty(n, dtype=np.int16)
        kind = np.zeros(n, dtype=np.uint8)
        index = {c: i for i, c in enumerate(channels)}
        for i, m in enumerate(msgs):
            t[i] = m.timestamp
            name = str(m.channel if m.channel is not None else "")
            if name not in index:
                index[name] = len(channels)
                channels.append(name)
            ch[i] = index[name]
            cid[i] = m.arbitration_id
            ext[i] = m.is_extended_id
            fd[i] = m.is_fd
            payload = bytes(m.data)[:width]
            ln[i] = len(payload)
            data[i, :len(payload)] = np.frombuffer(payload, dtype=np.uint8)
            if m.is_error_frame:
                kind[i] = ERROR_FRAME
            elif m.is_remote_frame:
                kind[i] = REMOTE
        return FrameChunk(t, ch, cid, ext, fd, ln, data, kind, channels)


def concat(chunks: list[FrameChunk]) -> FrameChunk:
    """One chunk from several (same channel list): the agent's per-id work is amortised over more rows."""
    if len(chunks) == 1:
        return chunks[0]
    width = max(c.data.shape[1] for c in chunks)
    data = np.concatenate([c.data if c.data.shape[1] == width else
                           np.pad(c.data, ((0, 0), (0, width - c.data.shape[1]))) for c in chunks])
    bad = [ln for c in chunks for ln in (c.malformed_lines or [])][:20]
    return FrameChunk(*(np.concatenate([getattr(c, f) for c in chunks]) for f in
                        ("t", "channel", "can_id", "extended", "fd", "length")),
                      data=data, kind=np.concatenate([c.kind for c in chunks]), channels=chunks[-1].channels,
                      malformed_lines=bad, lines=sum(c.lines for c in chunks), offset=chunks[-1].offset)


def coalesce(chunks: Iterator[FrameChunk], min_rows: int = 250_000) -> Iterator[FrameChunk]:
    """Group small read blocks (cache-friendly to parse) into larger processing chunks. A reader that stops
    with an error (a damaged container) still gets everything it read before delivered first."""
    pending: list[FrameChunk] = []
    rows = 0
    try:
        for c in chunks:
            pending.append(c)
            rows += len(c)
            if rows >= min_rows:
                yield concat(pending)
                pending, rows = [], 0
    except Exception:
        if pending:
            yield concat(pending)
        raise
    if pending:
        yield concat(pending)


def skip_frames(chunks: Iterator[FrameChunk], n: int) -> Iterator[FrameChunk]:
    """Drop the first ``n`` frames."""
    for c in chunks:
        if n >= len(c):
            n -= len(c)
            continue
        yield c.tail(n) if n else c
        n = 0


def prefetch(chunks: Iterator[FrameChunk], depth: int = 2) -> Iterator[FrameChunk]:
    """Read ahead in a thread: parsing (numpy, mostly without the GIL) overlaps processing on the
    second core. Exceptions from the reader are re-raised in the consumer, after the chunks before them."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def work() -> None:
        try:
            for c in chunks:
                if stop.is_set():
                    return
                q.put(c)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)
        q.put(done)

    thread = threading.Thread(target=work, daemon=True, name="log-reader")
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()

