"""Frames in columnar chunks: what every source (log reader, live bus) hands to the agent."""

from __future__ import annotations

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

    def __len__(self) -> int:
        return int(self.t.shape[0])

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
