"""ASAM MDF4 bus logging, read with asammdf's vectorised record access: every bus-event channel group's
``CAN_DataFrame`` / ``CAN_RemoteFrame`` / ``CAN_ErrorFrame`` structure is fetched as a numpy record array
(``MDF.get`` with a record window), so no Python object is made per frame (python-can's ``MF4Reader``
builds a ``Message`` per frame). Timestamps and channels match python-can's reader: header start time plus
the record time, the bus channel number as the channel name.

A damaged file is reported with the data block it failed in, after the records before it were delivered;
so is an unfinalised file whose open data block ends inside a record (``mf4_tail``).
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vehicle_ds.errors import InputError

from ..frames import DATA, ERROR_FRAME, REMOTE, FrameChunk

RECORDS_PER_CHUNK = 250_000
_KINDS = (("CAN_DataFrame", DATA), ("CAN_RemoteFrame", REMOTE), ("CAN_ErrorFrame", ERROR_FRAME))


def _field(rec: np.ndarray, name: str, default: int = 0) -> np.ndarray:
    return rec[name] if name in rec.dtype.names else np.full(rec.shape[0], default)


def _chunk(rec: np.ndarray, times: np.ndarray, prefix: str, kind: int, start: float,
           channels: list[str]) -> FrameChunk:
    n = rec.shape[0]
    cid = _field(rec, f"{prefix}.ID").astype(np.uint32)
    ext = (_field(rec, f"{prefix}.IDE") != 0) | ((cid & np.uint32(0x80000000)) != 0)
    bus = _field(rec, f"{prefix}.BusChannel").astype(np.int64)
    channel = np.zeros(n, dtype=np.int16)
    for b in np.unique(bus).tolist():
        name = str(b)
        if name not in channels:
            channels.append(name)
        channel[bus == b] = channels.index(name)
    if f"{prefix}.DataBytes" in rec.dtype.names and kind == DATA:
        data = np.ascontiguousarray(rec[f"{prefix}.DataBytes"], dtype=np.uint8)
        if data.ndim == 1:
            data = data.reshape(n, -1)
        length = np.minimum(_field(rec, f"{prefix}.DataLength"), data.shape[1]).astype(np.int16)
        width = 64 if data.shape[1] > 8 and (length > 8).any() else 8
        data = data[:, :width] if data.shape[1] >= width else np.pad(data, ((0, 0), (0, width - data.shape[1])))
    else:
        data, length = np.zeros((n, 8), dtype=np.uint8), np.zeros(n, dtype=np.int16)
    return FrameChunk(t=times.astype(np.float64) + start, channel=channel, can_id=cid & np.uint32(0x1FFFFFFF),
                      extended=ext, fd=_field(rec, f"{prefix}.EDL") != 0, length=length, data=data,
                      kind=np.full(n, kind, dtype=np.uint8), channels=channels)


def _block_at(group, record: int) -> int:
    """Byte address of the data block holding ``record`` (for the damage message)."""
    size = max(1, group.channel_group.samples_byte_nr + group.channel_group.invalidation_bytes_nr)
    seen = 0
    for block in group.data_blocks:
        seen += block.original_size // size
        if seen > record:
            return int(block.address)
    return int(group.data_blocks[-1].address) if group.data_blocks else -1


def _open(mdf_class, path: Path):
    """Open, or (None, why): a half-built MDF object complains from ``__del__`` when collected, which would
    print a traceback under our one line, so it is collected here with that hook silenced."""
    old = sys.unraisablehook
    sys.unraisablehook = lambda *_: None
    try:
        try:
            return mdf_class(str(path), process_bus_logging=False), ""
        except Exception as exc:  # asammdf raises many kinds; all mean "cannot open"
            problem = f"{type(exc).__name__}: {exc}"
        gc.collect()
        return None, problem
    finally:
        sys.unraisablehook = old


def read_mf4(path: Path, records: int = RECORDS_PER_CHUNK) -> Iterator[FrameChunk]:
    """The file's frames; an unfinalised file that ends inside a record is read up to its last complete
    record (from a copy of that prefix: a cut record can make asammdf refuse the whole block) and the cut
    is then reported with its byte offset."""
    from .mf4_tail import check_tail

    tail = check_tail(path)
    if tail is None:
        yield from _read_mf4(path, records)
        return
    import itertools
    import shutil
    import tempfile

    done = 0
    with tempfile.TemporaryDirectory(prefix="vehicle-ds-mf4-") as d:
        prefix = Path(d) / path.name
        # the last complete record first; a frame whose variable-length bytes were cut makes asammdf refuse
        # the block, so then one record less, and so on
        for end in (tail.complete_to, *tail.earlier):
            with open(path, "rb") as src, open(prefix, "wb") as dst:
                shutil.copyfileobj(_Prefix(src, end), dst)
            frames = _read_mf4(prefix, records)
            try:
                first = next(frames, None)
            except InputError:
                continue
            for chunk in itertools.chain([first], frames) if first is not None else ():
                done += len(chunk)
                yield chunk
            break
    raise InputError(f"truncated MF4: {tail.reason}; the {done:,} frames before it were read", path=str(path))


class _Prefix:
    """A file object reading at most ``n`` bytes of ``f``."""

    def __init__(self, f, n: int) -> None:
        self.f, self.left = f, n

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.f.read(size)
        self.left -= len(data)
        return data


def _read_mf4(path: Path, records: int) -> Iterator[FrameChunk]:
    from vehicle_ds.deferred_imports import enable_mf4

    enable_mf4()
    try:
        from asammdf import MDF
        from asammdf.blocks.v4_constants import FLAG_CG_BUS_EVENT
    except ImportError:
        raise InputError("reading MF4 needs asammdf: pip install 'vehicle-ds[mf4]'", path=str(path)) from None
    logging.getLogger("asammdf").setLevel(logging.CRITICAL)  # its own tracebacks would bury our one line
    mdf, problem = _open(MDF, path)
    if mdf is None:
        raise InputError(f"not a readable MF4 file ({problem}); a truncated file loses the blocks that index its "
                         f"data, so nothing could be read", path=str(path))
    channels: list[str] = []
    total = path.stat().st_size
    try:
        start = mdf.header.start_time.timestamp()
        groups = [(i, g) for i, g in enumerate(mdf.groups)
                  if g.channel_group.flags & FLAG_CG_BUS_EVENT and g.channel_group.cycles_nr]
        done_records = 0
        all_records = sum(g.channel_group.cycles_nr for _, g in groups) or 1
        for gi, group in groups:
            names = {c.name for c in group.channels}
            for prefix, kind in _KINDS:
                if prefix not in names:
                    continue
                cycles = group.channel_group.cycles_nr
                for off in range(0, cycles, records):
                    try:
                        sig = mdf.get(prefix, gi, record_offset=off, record_count=records, raw=False)
                    except Exception as exc:
                        raise InputError(
                            f"damaged MF4: channel group {gi}, records from {off:,} (data block at byte "
                            f"{_block_at(group, off)}): {type(exc).__name__}: {exc}; the frames before it were read",
                            path=str(path)) from None
                    if sig.samples.shape[0] == 0:
                        continue
                    chunk = _chunk(sig.samples, sig.timestamps, prefix, kind, start, channels)
                    done_records += sig.samples.shape[0]
                    chunk.offset = int(total * done_records / all_records)  # records stand in for bytes
                    yield chunk
    finally:
        mdf.close()
