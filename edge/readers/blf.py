"""Vector BLF: the log containers are inflated (``edge.deflate``: ISA-L, or zlib) and the objects inside parsed with numpy, one
layout function per CAN object type (``LAYOUTS``)."""

from __future__ import annotations

import datetime as dt
import itertools
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vehicle_ds.errors import InputError

from .. import deflate
from ..frames import DATA, ERROR_FRAME, REMOTE, FrameChunk
from .vector import PAD, gather, little_endian

CHUNK_BYTES = 2 * 1024 * 1024
_FILE_HEADER = struct.Struct("<4sLBBBBBBBBQQLL8H8H")
_OBJ_BASE = struct.Struct("<4sHHLL")
_CONTAINER = struct.Struct("<H6xL4x")
_SIGNATURE_WORD = np.frombuffer(b"LOBJ", dtype="<u4")[0]
LOG_CONTAINER, CAN_MESSAGE, CAN_ERROR_EXT, CAN_MESSAGE2, CAN_FD_MESSAGE, CAN_FD_MESSAGE_64 = 10, 1, 73, 86, 100, 101
_TIMESTAMP_AT = 24  # header v1 and v2 both keep the timestamp 24 bytes into the object


@dataclass(frozen=True)
class _Frames:
    """The frames of one object type, in columns; ``at`` is each object's byte position, for ordering."""

    at: np.ndarray
    t: np.ndarray
    channel: np.ndarray
    can_id: np.ndarray
    length: np.ndarray
    data: np.ndarray
    fd: np.ndarray
    kind: np.ndarray


class _Objects:
    """Objects of one type: positions, header sizes, total sizes, and their fields. When they all share one
    size and header (what a logger writes), their bytes are gathered once, side by side, and every field is
    a column slice of that block instead of a gather of its own from the stream."""

    def __init__(self, arr: np.ndarray, at: np.ndarray, header: np.ndarray, size: np.ndarray) -> None:
        self.arr, self.at, self.header, self.size = arr, at, header, size
        self.block: np.ndarray | None = None
        self.base = 0
        if at.shape[0] and (header == header[0]).all() and (size == size[0]).all():
            self.block, self.base = gather(arr, at, int(size[0])), int(header[0])

    def raw(self, off: int, width: int, body: bool = True) -> np.ndarray:
        """``width`` bytes at ``off`` in each object's body (or from its start, ``body=False``)."""
        start = off + (self.base if body else 0)
        if self.block is not None and start + width <= self.block.shape[1]:
            return np.ascontiguousarray(self.block[:, start:start + width])
        return gather(self.arr, self.at + (self.header if body else 0) + off, width)

    def field(self, off: int, dtype: str, body: bool = True) -> np.ndarray:
        return self.raw(off, np.dtype(dtype).itemsize, body).view(dtype).ravel()


def _remote_or_data(remote: np.ndarray) -> np.ndarray:
    return np.where(remote, REMOTE, DATA).astype(np.uint8)


def _can_message(o: _Objects) -> tuple:
    """CAN_MESSAGE and CAN_MESSAGE2: channel u16, flags u8, dlc u8, id u32, 8 data bytes."""
    return (o.field(0, "<u2").astype(np.int32) - 1, o.field(4, "<u4"),
            np.minimum(o.field(3, "u1").astype(np.int16), 8), o.raw(8, 8),
            np.zeros(o.at.shape[0], dtype=bool), _remote_or_data(o.field(2, "u1") & 0x80))


def _can_fd_message(o: _Objects) -> tuple:
    """CAN_FD_MESSAGE: channel u16, flags u8, id u32 at 4, FD flags at 13, valid bytes at 14, data at 20."""
    return (o.field(0, "<u2").astype(np.int32) - 1, o.field(4, "<u4"),
            np.minimum(o.field(14, "u1").astype(np.int16), 64), o.raw(20, 64),
            (o.field(13, "u1") & 1) != 0, _remote_or_data(o.field(2, "u1") & 0x80))


def _can_fd_message_64(o: _Objects) -> tuple:
    """CAN_FD_MESSAGE_64: channel u8, valid bytes at 2, id u32 at 4, FD flags u32 at 12, data at 40; bytes
    beyond the object's end are zero."""
    length = np.minimum(o.field(2, "u1").astype(np.int16), 64)
    fd_flags = o.field(12, "<u4")
    available = np.minimum(o.size - o.header - 40, 64)
    data = o.raw(40, 64)  # masked in place below: only bytes no other field reads
    cut = np.minimum(length, available)
    short = np.flatnonzero(cut < 64)  # most frames carry all 64 bytes: only the others are masked
    if short.shape[0]:
        data[short[:, None], np.arange(64)[None, :]] *= np.arange(64)[None, :] < cut[short][:, None]
    return (o.field(0, "u1").astype(np.int32) - 1, o.field(4, "<u4"), length, data,
            (fd_flags & 0x1000) != 0, _remote_or_data(fd_flags & 0x10))


def _can_error_ext(o: _Objects) -> tuple:
    """CAN_ERROR_EXT: channel u16, length u16, flags u32, ECC, position, DLC, a pad byte, frame length u32,
    id u32 at 16; counted as an error frame, its data is not read."""
    n = o.at.shape[0]
    return (o.field(0, "<u2").astype(np.int32) - 1, o.field(16, "<u4"),
            np.zeros(n, dtype=np.int16), np.zeros((n, 8), dtype=np.uint8), np.zeros(n, dtype=bool),
            np.full(n, ERROR_FRAME, dtype=np.uint8))


# object type(s) -> (channel, id, length, data, fd, kind) columns
LAYOUTS: dict[tuple[int, ...], Callable[[_Objects], tuple]] = {
    (CAN_MESSAGE, CAN_MESSAGE2): _can_message,
    (CAN_FD_MESSAGE,): _can_fd_message,
    (CAN_FD_MESSAGE_64,): _can_fd_message_64,
    (CAN_ERROR_EXT,): _can_error_ext,
}


def _blf_start(header: tuple) -> float:
    y, mo, _dow, d, h, mi, s, ms = header[14:22]
    try:
        return dt.datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=dt.timezone.utc).timestamp()
    except ValueError:
        return 0.0


def _blf_walk(stream: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Object positions by walking the chain one object at a time (python-can's rule: the next object
    starts within 8 bytes of the end of this one)."""
    pos, out_p, out_s, end = 0, [], [], len(stream)
    while pos + 16 <= end:
        nxt = stream.find(b"LOBJ", pos, pos + 8)
        if nxt < 0:
            break
        size = _OBJ_BASE.unpack_from(stream, nxt)[3]
        if size < 16:
            break
        out_p.append(nxt)
        out_s.append(size)
        pos = nxt + size
    return np.array(out_p, dtype=np.int64), np.array(out_s, dtype=np.int64)


def _object_chain(arr: np.ndarray, stream_len: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Positions and sizes of the complete objects in the stream, and the bytes they cover."""
    # "LOBJ" as one 32-bit word at each of the four byte alignments: one compare per word, not four per byte
    raw = arr.data if arr.flags.c_contiguous else arr.tobytes()
    found = []
    for k in range(4):
        words = np.frombuffer(raw, dtype="<u4", count=(arr.shape[0] - k) // 4, offset=k)
        found.append(np.flatnonzero(words == _SIGNATURE_WORD) * 4 + k)
    at = np.sort(np.concatenate(found)).astype(np.int64)
    at = at[at + 16 <= stream_len]
    if at.shape[0] == 0:
        return at, at, 0
    size = little_endian(arr, at + 8, "<u4").astype(np.int64)
    # A consistent chain: every object starts where the previous one ended (plus <= 7 padding bytes);
    # a "LOBJ" inside a payload breaks it, and the object-by-object walk decides.
    gaps = at[1:] - (at[:-1] + size[:-1])
    if at[0] != 0 or (gaps < 0).any() or (gaps > 7).any():
        at, size = _blf_walk(bytes(arr[:stream_len]))
    complete = at + size <= stream_len
    if complete.all():
        return at, size, int(at[-1] + size[-1]) if at.shape[0] else 0
    first_incomplete = int(at[~complete][0])
    keep = at < first_incomplete
    return at[keep], size[keep], first_incomplete


def _frames_of(arr: np.ndarray, at: np.ndarray, size: np.ndarray, start_ts: float) -> list[_Frames]:
    base = gather(arr, at, 16)  # "LOBJ", header size u16, header version u16, object size u32, type u32
    header = np.ascontiguousarray(base[:, 4:6]).view("<u2").ravel().astype(np.int64)
    version = np.ascontiguousarray(base[:, 6:8]).view("<u2").ravel()
    otype = np.ascontiguousarray(base[:, 12:16]).view("<u4").ravel()
    known = (version == 1) | (version == 2)
    out = []
    for types, layout in LAYOUTS.items():
        sel = otype == types[0]
        for other in types[1:]:
            sel |= otype == other
        sel &= known
        if not sel.any():
            continue
        o = _Objects(arr, at[sel], header[sel], size[sel])
        flags = o.field(16, "<u4", body=False)
        ticks = o.field(_TIMESTAMP_AT, "<u8", body=False).astype(np.float64)
        t = start_ts + ticks * np.where(flags == 1, 1e-5, 1e-9)  # flag 1: 10 µs ticks, else nanoseconds
        out.append(_Frames(o.at, t, *layout(o)))
    return out


def _blf_objects(stream: bytes, start_ts: float, channels: list[str],
                 before: int | None = None) -> tuple[FrameChunk | None, int]:
    """Parse the objects in ``stream`` (only those starting before ``before``, when given); returns the chunk
    and how many bytes were consumed."""
    if len(stream) < 16:
        return None, 0
    arr = np.frombuffer(stream + bytes(PAD), dtype=np.uint8)
    at, size, consumed = _object_chain(arr, len(stream))
    if before is not None:
        keep = at < before
        at, size = at[keep], size[keep]
        consumed = int(at[-1] + size[-1]) if at.shape[0] else 0
    parts = _frames_of(arr, at, size, start_ts) if at.shape[0] else []
    if not parts:
        return None, consumed
    # each part's rows go straight to their place in file order: one scatter per part, no concatenation
    at_all = np.concatenate([p.at for p in parts])
    rank = np.empty(at_all.shape[0], dtype=np.int64)
    rank[np.argsort(at_all, kind="stable")] = np.arange(at_all.shape[0])
    slots, start = [], 0
    for p in parts:
        slots.append(rank[start:start + p.at.shape[0]])
        start += p.at.shape[0]
    n = at_all.shape[0]
    width = max(p.data.shape[1] for p in parts)

    def column(name: str, dtype) -> np.ndarray:
        first = getattr(parts[0], name)
        if len(parts) == 1:  # one object type: already in file order
            return first.astype(dtype, copy=False)
        out = np.zeros((n, width) if first.ndim == 2 else n, dtype=dtype)
        for p, slot in zip(parts, slots, strict=True):
            values = getattr(p, name)
            if values.ndim == 2:
                out[slot, :values.shape[1]] = values
            else:
                out[slot] = values
        return out

    ch = column("channel", np.int32)
    for c in np.unique(ch).tolist():
        while len(channels) <= c:
            channels.append(str(len(channels)))
    cid = column("can_id", np.uint32)
    kind = column("kind", np.uint8)
    length = np.where(kind == REMOTE, 0, column("length", np.int16)).astype(np.int16)  # remote: no data
    return FrameChunk(column("t", np.float64), np.maximum(ch, 0).astype(np.int16), cid & np.uint32(0x1FFFFFFF),
                      (cid & np.uint32(0x80000000)) != 0, column("fd", bool), length, column("data", np.uint8),
                      kind, channels), consumed


def _containers(f, path: Path) -> Iterator[tuple[int, bytes]]:
    """(file offset, inflated payload) of each log container; a damaged container or truncated object raises
    after everything before it was yielded, never cut silently."""
    while True:
        at = f.tell()
        base = f.read(_OBJ_BASE.size)
        if len(base) < _OBJ_BASE.size:
            return
        sig, _hs, _hv, obj_size, obj_type = _OBJ_BASE.unpack(base)
        if sig != b"LOBJ" or obj_size < _OBJ_BASE.size:
            raise InputError(f"corrupt BLF object at byte {at}", path=str(path))
        body = f.read(obj_size - _OBJ_BASE.size)
        f.read(obj_size % 4)
        if len(body) < obj_size - _OBJ_BASE.size:
            if obj_type == LOG_CONTAINER and len(body) > _CONTAINER.size:
                # inflated as far as it goes: the complete objects in the part that is there are delivered
                method, _ = _CONTAINER.unpack_from(body)
                part = body[_CONTAINER.size:]
                try:
                    inflated = deflate.decompress_partial(part) if method == 2 else part
                except deflate.errors:
                    inflated = b""
                if inflated:
                    yield at, inflated
            raise InputError(f"truncated BLF: the object at byte {at} declares {obj_size} bytes, the file ends "
                             f"after {len(body) + _OBJ_BASE.size}; the frames before it were read (those in the "
                             f"cut container as far as it inflates)", path=str(path))
        if obj_type != LOG_CONTAINER:
            continue
        method, _ = _CONTAINER.unpack_from(body)
        payload = body[_CONTAINER.size:]
        try:
            yield at, (deflate.decompress(payload) if method == 2 else payload)
        except deflate.errors as exc:
            raise InputError(f"corrupt BLF container at byte {at} ({exc}); the frames before it were read",
                             path=str(path)) from None


def _first_object(stream: bytes) -> int:
    """Where the first whole object starts in a container that may begin inside an object carried over from
    the one before it: the first "LOBJ" from which the chain of objects runs consistently (each object's
    declared size leads to the next signature within 8 bytes) to the end of the stream. A signature inside a
    payload almost never starts such a chain; the range before this one reads up to exactly this point."""
    at = stream.find(b"LOBJ")
    while at >= 0:
        pos, ok = at, True
        while pos + 16 <= len(stream):
            if stream[pos:pos + 4] != b"LOBJ":
                ok = False
                break
            size = _OBJ_BASE.unpack_from(stream, pos)[3]
            if size < 16:
                ok = False
                break
            nxt = pos + size
            if nxt >= len(stream):
                break
            found = stream.find(b"LOBJ", nxt, nxt + 8)
            if found < 0:
                ok = nxt + 8 > len(stream)  # the stream ends within the padding
                break
            pos = found
        if ok:
            return at
        at = stream.find(b"LOBJ", at + 1)
    return len(stream)  # the whole container continues an object started before it


def blf_ranges(path: Path, size: int) -> list[tuple[int, int]]:
    """File byte ranges of about ``size`` that start and end at log-container boundaries (a worker reads the
    containers that start in its range and finishes the object that straddles its end)."""
    with open(path, "rb") as f:
        head = f.read(_FILE_HEADER.size)
        if len(head) < _FILE_HEADER.size or head[:4] != b"LOGG":
            raise InputError("not a BLF file (no LOGG signature)", path=str(path))
        pos = _FILE_HEADER.unpack(head)[1]
        total = path.stat().st_size
        cuts, last = [pos], pos
        while pos + _OBJ_BASE.size <= total:
            f.seek(pos)
            base = f.read(_OBJ_BASE.size)
            sig, _hs, _hv, obj_size, _t = _OBJ_BASE.unpack(base)
            if sig != b"LOBJ" or obj_size < _OBJ_BASE.size:
                break  # damage: the last range reads up to it and reports it
            if pos - last >= size:
                cuts.append(pos)
                last = pos
            pos += obj_size + obj_size % 4
    cuts.append(total)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def read_blf(path: Path, chunk_bytes: int = CHUNK_BYTES, start: int | None = None,
             end: int | None = None) -> Iterator[FrameChunk]:
    """BLF frames in chunks of about ``chunk_bytes`` of inflated objects; with ``start``/``end`` (container
    boundaries from :func:`blf_ranges`) only the objects that start in the containers of that range, the
    one straddling its end included."""
    channels: list[str] = []
    with open(path, "rb") as f:
        head = f.read(_FILE_HEADER.size)
        if len(head) < _FILE_HEADER.size or head[:4] != b"LOGG":
            raise InputError("not a BLF file (no LOGG signature)", path=str(path))
        header = _FILE_HEADER.unpack(head)
        first = header[1]
        f.seek(first if start is None else start)
        start_ts = _blf_start(header)
        pending: list[bytes] = []
        pending_len, tail = 0, b""
        damage: InputError | None = None
        lead = start is not None and start > first  # the first container may continue an earlier object
        try:
            for at, inner in _containers(f, path):
                if end is not None and at >= end:
                    yield from _finish_straddler(f, path, tail + b"".join(pending), inner, start_ts, channels)
                    return
                if lead:  # until an object starts here (one object may span whole containers)
                    skip = _first_object(inner)
                    inner, lead = inner[skip:], skip == len(inner)
                pending.append(inner)
                pending_len += len(inner)
                if pending_len < chunk_bytes:
                    continue
                stream = tail + b"".join(pending)
                pending, pending_len = [], 0
                chunk, used = _blf_objects(stream, start_ts, channels)
                tail = stream[used:]
                if chunk is not None:
                    chunk.offset = f.tell()
                    yield chunk
        except InputError as exc:
            damage = exc
        stream = tail + b"".join(pending)
        if stream:
            chunk, _ = _blf_objects(stream, start_ts, channels)
            if chunk is not None:
                chunk.offset = f.tell()
                yield chunk
        if damage is not None:
            raise damage


def _finish_straddler(f, path: Path, stream: bytes, nxt: bytes, start_ts: float,
                      channels: list[str]) -> Iterator[FrameChunk]:
    """The range's own objects, the last of which may continue into the containers after the range: those
    are inflated until it is whole, and only objects starting inside the range are parsed."""
    limit = len(stream)
    chunk, used = _blf_objects(stream, start_ts, channels)
    if chunk is not None:
        chunk.offset = f.tell()
        yield chunk
    rest = stream[used:]
    if not rest:
        return
    limit -= used
    more = [nxt]
    containers = _containers(f, path)
    while True:
        joined = rest + b"".join(more)
        chunk, used = _blf_objects(joined, start_ts, channels, before=limit)
        if used > 0:  # the straddling object is whole (a non-CAN object gives no chunk)
            if chunk is not None:
                chunk.offset = f.tell()
                yield chunk
            return
        try:
            more.append(next(containers)[1])
        except (StopIteration, InputError):
            return  # the file ends or is damaged inside the object: the range that holds the damage reports it
