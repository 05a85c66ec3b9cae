"""Every other format python-can reads (.asc, .trc, .csv, .db, .txt; .mf4 through asammdf) via
``can.LogReader``, batched into chunks; about 80k-215k frames/s (can.md §3.4), so the common formats have
vectorised readers of their own."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from vehicle_ds.errors import InputError

from ..frames import FrameChunk

FALLBACK_CHUNK_FRAMES = 100_000


def _position(f) -> int:
    try:
        return int(f.buffer.tell() if hasattr(f, "buffer") else f.tell())
    except (AttributeError, OSError, ValueError):
        return -1


def read_python_can(path: Path, chunk_frames: int = FALLBACK_CHUNK_FRAMES) -> Iterator[FrameChunk]:
    import can

    if path.suffix.lower() == ".mf4":
        from vehicle_ds.deferred_imports import enable_mf4

        enable_mf4()

    channels: list[str] = []
    batch = []
    try:
        reader = can.LogReader(str(path))
        source = getattr(reader, "file", None)  # text readers keep their file open: its position is progress
        for msg in reader:
            batch.append(msg)
            if len(batch) >= chunk_frames:
                chunk = FrameChunk.from_messages(batch, channels)
                chunk.offset = _position(source)
                yield chunk
                batch = []
    except (ValueError, struct.error, EOFError) as exc:
        if batch:
            yield FrameChunk.from_messages(batch, channels)
        raise InputError(f"cannot read log past frame {len(batch)}: {exc}", path=str(path)) from None
    if batch:
        chunk = FrameChunk.from_messages(batch, channels)
        chunk.offset = path.stat().st_size
        yield chunk
