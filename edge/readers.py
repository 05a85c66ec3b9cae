"""Log readers. candump ``-L`` text and BLF have vectorised readers of our own (python-can's readers
manage 80k-215k frames/s on the development machine, can.md §3.4); every other format python-can reads
(.asc, .trc, .csv, .mf4 with asammdf) goes through ``can.LogReader``. All yield :class:`FrameChunk` s of
bounded size, so memory stays flat whatever the size of the log."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vehicle_ds.errors import InputError

from .frames import DATA, ERROR_FRAME, MALFORMED, REMOTE, FrameChunk

CHUNK_BYTES = 2 * 1024 * 1024  # small blocks stay in cache: 2.2M lines/s here against 1.5M at 16 MB
FALLBACK_CHUNK_FRAMES = 100_000

_HEX = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX[_c] = 10 + _i
_CAN_ERR_FLAG = 0x20000000


def _first_after(positions: np.ndarray, starts: np.ndarray, none: int) -> np.ndarray:
    """For each start, the first position >= start (``none`` where there is none)."""
    idx = np.searchsorted(positions, starts)
    out = np.full(starts.shape, none, dtype=np.int64)
    ok = idx < positions.shape[0]
    out[ok] = positions[idx[ok]]
    return out


_PAD = 160  # zero bytes after every block, so fixed-width gathers near its end stay inside the buffer


def _gather(arr: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """Rows of ``width`` bytes starting at ``starts``; a window view avoids an index matrix."""
    return np.lib.stride_tricks.sliding_window_view(arr, width)[starts]


def _hex_value(arr: np.ndarray, starts: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    nib = _HEX[_gather(arr, starts, width)].astype(np.uint64)
    ok = (nib != 255).all(axis=1)
    shifts = (np.uint64(4) * np.arange(width - 1, -1, -1, dtype=np.uint64))[None, :]
    return (np.where(nib == 255, 0, nib) << shifts).sum(axis=1, dtype=np.uint64), ok


def _fixed_layout(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray):
    """Positions of ``.``, ``)``, the second space, ``#`` and the data end when every line has the first
    line's timestamp and interface widths (3- or 8-digit ids, optional one-letter direction flag);
    None when any line differs, and the general search runs instead."""
    first = bytes(arr[starts[0]:ends[0]])
    close0, dot0 = first.find(b")"), first.find(b".")
    sp20 = first.find(b" ", close0 + 2)
    if close0 < 0 or dot0 < 0 or dot0 > close0 or sp20 < 0:
        return None
    last = arr.shape[0] - 1
    close, dots, sp2 = starts + close0, starts + dot0, starts + sp20
    fits = (close < ends) & (sp2 < ends)
    if not fits.all():
        return None
    if not ((arr[close] == ord(")")).all() and (arr[dots] == ord(".")).all() and (arr[sp2] == 32).all()):
        return None
    h3, h8 = sp2 + 4, np.minimum(sp2 + 9, last)
    is3 = arr[np.minimum(h3, last)] == ord("#")
    is8 = ~is3 & (arr[h8] == ord("#"))
    if not (is3 | is8).all():
        return None
    hashes = np.where(is3, h3, h8)
    flag = (ends - 2 > hashes) & (arr[np.maximum(ends - 2, 0)] == 32)  # "… R" / "… T" direction flags
    # exactly the spaces this layout predicts (two per line, one more per flag), or the general search
    if int(np.count_nonzero(arr[starts[0]:ends[-1]] == 32)) != 2 * starts.shape[0] + int(flag.sum()):
        return None
    return close, sp2, hashes, dots, np.where(flag, ends - 2, ends)


def _candump_block(arr: np.ndarray, first_line: int, channels: list[str]) -> FrameChunk:
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], nl[:-1] + 1)).astype(np.int64)
    ends = nl.astype(np.int64)
    cr = (ends > starts) & (arr[np.maximum(ends - 1, 0)] == 13)
    ends = ends - cr
    line_no = first_line + np.arange(starts.shape[0])
    # empty lines and comments ("#", ";", "//") are not frames
    first = arr[np.minimum(starts, arr.shape[0] - 1)]
    nonempty = (ends > starts) & (first != ord("#")) & (first != ord(";")) & (first != ord("/"))
    starts, ends, line_no = starts[nonempty], ends[nonempty], line_no[nonempty]
    n = starts.shape[0]
    last = arr.shape[0] - 1
    none = arr.shape[0]  # "not found": beyond every line end
    ok = arr[starts] == ord("(")
    layout = _fixed_layout(arr, starts, ends) if n else None
    if layout is not None:  # the common case: every line laid out like the first (no position searches)
        close, sp2, hashes, dots, data_end = layout
    else:
        close = _first_after(np.flatnonzero(arr == ord(")")), starts, none)
        spaces = np.flatnonzero(arr == ord(" "))
        sp2 = _first_after(spaces, np.minimum(close + 2, last), none)
        hashes = _first_after(np.flatnonzero(arr == ord("#")), np.minimum(sp2, last), none)
        # data ends at the line end or at a following space (direction flags of newer candump)
        data_end = np.minimum(_first_after(spaces, np.minimum(hashes, last), none), ends)
        dots = _first_after(np.flatnonzero(arr == ord(".")), starts, none)
    ok &= (close < ends) & (sp2 < ends) & (hashes < ends) & (arr[np.minimum(close + 1, last)] == 32)
    fd = ok & (arr[np.minimum(hashes + 1, last)] == ord("#"))
    data_start = np.where(fd, hashes + 3, hashes + 1)
    remote = ok & ~fd & (data_start < data_end) & ((arr[np.minimum(data_start, last)] | 32) == ord("r"))

    # timestamp: "(" int "." frac ")"
    t = np.zeros(n, dtype=np.float64)
    ok &= dots < close
    int_len, frac_len = dots - starts - 1, close - dots - 1
    for il, fl in set(zip(int_len[ok].tolist(), frac_len[ok].tolist(), strict=True)):
        sel = ok & (int_len == il) & (frac_len == fl)
        if il <= 0 or il > 10 or fl < 0 or fl > 6:
            ok &= ~sel
            continue
        ip = _gather(arr, starts[sel] + 1, il) - np.uint8(48)
        fp = _gather(arr, dots[sel] + 1, fl) - np.uint8(48)
        good = (ip.max(axis=1) <= 9) & ((fp.max(axis=1) <= 9) if fl else True)
        # int * 10**fl + frac stays below 2**53, so this is exact and the one division correctly rounded
        ival = ip.astype(np.float64) @ (10.0 ** np.arange(il - 1, -1, -1))
        fval = fp.astype(np.float64) @ (10.0 ** np.arange(fl - 1, -1, -1)) if fl else 0.0
        idx = np.flatnonzero(sel)
        t[idx] = (ival * 10.0 ** fl + fval) / 10.0 ** fl
        ok[idx[~good]] = False

    # identifier: 3 hex digits standard, 8 extended
    id_len = hashes - sp2 - 1
    can_id = np.zeros(n, dtype=np.uint32)
    ext = np.zeros(n, dtype=bool)
    errframe = np.zeros(n, dtype=bool)
    ok &= (id_len == 3) | (id_len == 8)
    for L in (3, 8):
        sel = ok & (id_len == L)
        if sel.any():
            v, good = _hex_value(arr, sp2[sel] + 1, L)
            idx = np.flatnonzero(sel)
            can_id[idx] = (v & np.uint64(0x1FFFFFFF)).astype(np.uint32)
            ext[idx] = L == 8
            ok[idx[~good]] = False
            if L == 8:  # SocketCAN error frames carry CAN_ERR_FLAG in the id
                errframe[idx] = (v & np.uint64(_CAN_ERR_FLAG)) != 0
    errframe &= ok
    remote &= ~errframe
    fd &= ~errframe

    # data bytes
    nchars = np.where(remote, 0, data_end - data_start)
    ok &= (nchars >= 0) & (nchars % 2 == 0) & (nchars <= 128)
    width = 64 if (ok & fd).any() or (nchars[ok] > 16).any() else 8
    data = np.zeros((n, width), dtype=np.uint8)
    length = np.where(ok, nchars // 2, 0).astype(np.int16)
    for nc in np.unique(nchars[ok & ~remote]).tolist():
        if nc == 0:
            continue
        sel = ok & ~remote & (nchars == nc)
        nib = _HEX[_gather(arr, data_start[sel], nc)]
        good = (nib != 255).all(axis=1)
        idx = np.flatnonzero(sel)
        data[idx, : nc // 2] = (nib[:, 0::2] << 4) | (nib[:, 1::2] & 15)
        ok[idx[~good]] = False

    # interface name -> channel index
    channel = np.zeros(n, dtype=np.int16)
    iface_len = sp2 - close - 2
    okc = ok & (iface_len > 0) & (iface_len <= 32)
    if okc.any():
        width_c = 8 if int(iface_len[okc].max()) <= 8 else 32
        names = _gather(arr, np.where(okc, close + 2, 0), width_c).copy()
        names[np.arange(width_c)[None, :] >= iface_len[:, None]] = 0
        keys = names[okc].view("<u8") if width_c == 8 else names[okc].view("S32")
        keys = keys.ravel()
        if (keys == keys[0]).all():  # the common case: one interface per block
            uniq, inv = keys[:1], np.zeros(keys.shape[0], dtype=np.intp)
        else:
            uniq, inv = np.unique(keys, return_inverse=True)
        index = {c: i for i, c in enumerate(channels)}
        mapping = np.empty(uniq.shape[0], dtype=np.int16)
        for j, u in enumerate(uniq.tolist()):
            raw = u.to_bytes(8, "little") if isinstance(u, int) else u
            name = raw.rstrip(b"\x00").decode("ascii", "replace")
            if name not in index:
                index[name] = len(channels)
                channels.append(name)
            mapping[j] = index[name]
        channel[okc] = mapping[inv]

    kind = np.full(n, DATA, dtype=np.uint8)
    kind[remote] = REMOTE
    kind[errframe] = ERROR_FRAME
    kind[~ok] = MALFORMED
    bad_lines = line_no[~ok][:20].tolist()
    return FrameChunk(t, channel, can_id, ext, fd & ok, length, data, kind, channels, bad_lines, int(nl.shape[0]))


def read_candump(path: Path, chunk_bytes: int = CHUNK_BYTES, start: int = 0, end: int | None = None,
                 channels: list[str] | None = None) -> Iterator[FrameChunk]:
    """candump ``-L`` log lines ``(ts) iface id#data`` (``##`` for CAN FD), vectorised per block; optionally
    only the bytes [start, end) (newline-aligned), with line numbers counted from ``start``."""
    channels = [] if channels is None else channels
    line = 1
    with open(path, "rb") as f:
        f.seek(start)
        remaining = None if end is None else end - start
        tail = b""
        while True:
            want = chunk_bytes if remaining is None else min(chunk_bytes, remaining)
            block = f.read(want) if want > 0 else b""
            if remaining is not None:
                remaining -= len(block)
            if not block:
                if tail.strip():
                    last = _candump_block(np.frombuffer(tail + b"\n" + bytes(_PAD), dtype=np.uint8), line, channels)
                    last.offset = f.tell()
                    yield last
                return
            block = tail + block
            cut = block.rfind(b"\n")
            if cut < 0:
                tail = block
                continue
            body, tail = block[: cut + 1], block[cut + 1:]
            arr = np.frombuffer(body + bytes(_PAD), dtype=np.uint8)
            chunk = _candump_block(arr, line, channels)
            chunk.offset = f.tell() - len(tail)
            line += chunk.lines
            yield chunk


# --- BLF ----------------------------------------------------------------------------------------------------

_FILE_HEADER = struct.Struct("<4sLBBBBBBBBQQLL8H8H")
_OBJ_BASE = struct.Struct("<4sHHLL")
_CONTAINER = struct.Struct("<H6xL4x")
LOG_CONTAINER, CAN_MESSAGE, CAN_ERROR_EXT, CAN_MESSAGE2, CAN_FD_MESSAGE, CAN_FD_MESSAGE_64 = 10, 1, 73, 86, 100, 101


def _blf_start(header: tuple) -> float:
    import datetime as dt

    y, mo, _dow, d, h, mi, s, ms = header[14:22]
    try:
        return dt.datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=dt.timezone.utc).timestamp()
    except ValueError:
        return 0.0


def _u(arr: np.ndarray, pos: np.ndarray, dtype: str) -> np.ndarray:
    size = np.dtype(dtype).itemsize
    return _gather(arr, pos, size).copy().view(dtype).ravel()


def _blf_objects(stream: bytes, start_ts: float, channels: list[str]) -> tuple[FrameChunk | None, int]:
    """Parse the objects in ``stream``; returns the chunk and how many bytes were consumed."""
    if len(stream) < 16:
        return None, 0
    arr = np.frombuffer(stream + bytes(_PAD), dtype=np.uint8)
    m = (arr[:-3] == 76) & (arr[1:-2] == 79) & (arr[2:-1] == 66) & (arr[3:] == 74)
    cand = np.flatnonzero(m).astype(np.int64)
    cand = cand[cand + 16 <= len(stream)]
    if cand.shape[0] == 0:
        return None, 0
    size = _u(arr, cand + 8, "<u4").astype(np.int64)
    # A consistent chain: every object starts where the previous one ended (plus <= 7 padding bytes).
    gaps = cand[1:] - (cand[:-1] + size[:-1])
    if cand[0] != 0 or (gaps < 0).any() or (gaps > 7).any():
        cand, size = _blf_walk(stream)
    complete = cand + size <= len(stream)
    consumed = int(cand[complete][-1] + size[complete][-1]) if complete.any() else 0
    if not complete.all():
        first_incomplete = int(cand[~complete][0])
        consumed = first_incomplete
        keep = cand < first_incomplete
        cand, size = cand[keep], size[keep]
    hsize = _u(arr, cand + 4, "<u2").astype(np.int64)
    hver = _u(arr, cand + 6, "<u2")
    otype = _u(arr, cand + 12, "<u4")
    frames = []
    for types, layout in (((CAN_MESSAGE, CAN_MESSAGE2), "can"), ((CAN_FD_MESSAGE,), "fd"),
                          ((CAN_FD_MESSAGE_64,), "fd64"), ((CAN_ERROR_EXT,), "err")):
        sel = np.isin(otype, types) & ((hver == 1) | (hver == 2))
        if not sel.any():
            continue
        pos, hs, hv = cand[sel], hsize[sel], hver[sel]
        flags = _u(arr, pos + 16, "<u4")
        ts_off = np.where(hv == 1, 24, 24)  # v1: flags,client,version,ts ; v2 keeps ts at the same place
        ts = _u(arr, pos + ts_off, "<u8").astype(np.float64)
        t = start_ts + ts * np.where(flags == 1, 1e-5, 1e-9)
        p = pos + hs
        n = pos.shape[0]
        if layout == "can":
            ch = _u(arr, p, "<u2").astype(np.int32) - 1
            fl = arr[p + 2]
            dlc = arr[p + 3].astype(np.int16)
            cid = _u(arr, p + 4, "<u4")
            data = _gather(arr, p + 8, 8)
            length = np.minimum(dlc, 8)
            fd = np.zeros(n, dtype=bool)
            kind = np.where(fl & 0x80, REMOTE, DATA).astype(np.uint8)
        elif layout == "fd":
            ch = _u(arr, p, "<u2").astype(np.int32) - 1
            fl = arr[p + 2]
            cid = _u(arr, p + 4, "<u4")
            fd_flags = arr[p + 13]
            length = np.minimum(arr[p + 14].astype(np.int16), 64)
            data = _gather(arr, p + 20, 64)
            fd = (fd_flags & 1) != 0
            kind = np.where(fl & 0x80, REMOTE, DATA).astype(np.uint8)
        elif layout == "fd64":
            ch = arr[p].astype(np.int32) - 1
            length = np.minimum(arr[p + 2].astype(np.int16), 64)
            cid = _u(arr, p + 4, "<u4")
            fd_flags = _u(arr, p + 12, "<u4")
            avail = np.minimum(size[sel] - hs - 40, 64)
            data = _gather(arr, p + 40, 64).copy()
            data[np.arange(64)[None, :] >= np.minimum(length, avail)[:, None]] = 0
            fd = (fd_flags & 0x1000) != 0
            kind = np.where(fd_flags & 0x10, REMOTE, DATA).astype(np.uint8)
        else:
            ch = _u(arr, p, "<u2").astype(np.int32) - 1
            cid = _u(arr, p + 12, "<u4")
            length = np.zeros(n, dtype=np.int16)
            data = np.zeros((n, 8), dtype=np.uint8)
            fd = np.zeros(n, dtype=bool)
            kind = np.full(n, ERROR_FRAME, dtype=np.uint8)
        frames.append((pos, t, ch, cid, length, data, fd, kind))
    if not frames:
        return None, consumed
    order = np.argsort(np.concatenate([f[0] for f in frames]), kind="stable")
    width = max(f[5].shape[1] for f in frames)

    def cat(i, dtype=None):
        parts = [f[i] if f[i].ndim == 1 else np.pad(f[i], ((0, 0), (0, width - f[i].shape[1]))) for f in frames]
        out = np.concatenate(parts)[order]
        return out.astype(dtype) if dtype else out

    ch = cat(2)
    for c in np.unique(ch).tolist():
        while len(channels) <= c:
            channels.append(str(len(channels)))
    cid = cat(3, np.uint32)
    kind = cat(7, np.uint8)
    length = np.where(kind == REMOTE, 0, cat(4, np.int16)).astype(np.int16)  # a remote frame carries no data
    return FrameChunk(cat(1, np.float64), np.maximum(ch, 0).astype(np.int16), cid & np.uint32(0x1FFFFFFF),
                      (cid & np.uint32(0x80000000)) != 0, cat(6, bool), length, cat(5, np.uint8),
                      kind, channels), consumed


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


def read_blf(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[FrameChunk]:
    """BLF: the containers are inflated with zlib and the objects inside parsed with numpy."""
    channels: list[str] = []
    with open(path, "rb") as f:
        head = f.read(_FILE_HEADER.size)
        if len(head) < _FILE_HEADER.size or head[:4] != b"LOGG":
            raise InputError("not a BLF file (no LOGG signature)", path=str(path))
        header = _FILE_HEADER.unpack(head)
        f.read(header[1] - _FILE_HEADER.size)
        start_ts = _blf_start(header)
        pending: list[bytes] = []
        pending_len = 0
        tail = b""
        damage = ""  # a damaged container is reported after everything before it was yielded, never cut silently
        while True:
            at = f.tell()
            base = f.read(_OBJ_BASE.size)
            if len(base) < _OBJ_BASE.size:
                break
            sig, _hs, _hv, obj_size, obj_type = _OBJ_BASE.unpack(base)
            if sig != b"LOBJ" or obj_size < _OBJ_BASE.size:
                raise InputError(f"corrupt BLF object at byte {f.tell() - _OBJ_BASE.size}", path=str(path))
            body = f.read(obj_size - _OBJ_BASE.size)
            f.read(obj_size % 4)
            if len(body) < obj_size - _OBJ_BASE.size:
                damage = (f"truncated BLF: the object at byte {at} declares {obj_size} bytes, the file ends after "
                          f"{len(body) + _OBJ_BASE.size}; the frames before it were read")
                break
            if obj_type != LOG_CONTAINER:
                continue
            method, _ = _CONTAINER.unpack_from(body)
            payload = body[_CONTAINER.size:]
            try:
                inner = zlib.decompress(payload) if method == 2 else payload
            except zlib.error as exc:
                damage = f"corrupt BLF container at byte {at} ({exc}); the frames before it were read"
                break
            pending.append(inner)
            pending_len += len(inner)
            if pending_len >= chunk_bytes:
                stream = tail + b"".join(pending)
                pending, pending_len = [], 0
                chunk, used = _blf_objects(stream, start_ts, channels)
                tail = stream[used:]
                if chunk is not None:
                    chunk.offset = f.tell()
                    yield chunk
        stream = tail + b"".join(pending)
        if stream:
            chunk, _ = _blf_objects(stream, start_ts, channels)
            if chunk is not None:
                chunk.offset = f.tell()
                yield chunk
        if damage:
            raise InputError(damage, path=str(path))


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


def _position(f) -> int:
    try:
        return int(f.buffer.tell() if hasattr(f, "buffer") else f.tell())
    except (AttributeError, OSError, ValueError):
        return -1


def sniff_candump(path: Path) -> None:
    """A ``.log`` that is not candump ``-L`` (BusMaster, Microchip, PCAN-View text) is named as such before
    anything is written, instead of reading every line as malformed."""
    with open(path, "rb") as f:
        head = f.read(8192)
    lines = [ln.strip() for ln in head.splitlines()[:-1] or head.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith((b"#", b";", b"//"))]
    if lines and not any(ln.startswith(b"(") for ln in lines[:50]):
        hint = ("BusMaster" if head.lstrip().startswith(b"***") else
                "a text log of another tool")
        raise InputError(f"not a candump -L log: line {lines[0][:60].decode('ascii', 'replace')!r} does not start "
                         f"with '(timestamp)'; it looks like {hint}: convert it with python-can's `can.logconvert` "
                         f"to .asc or .blf", path=str(path))


def _sniffed_candump(path: Path) -> Iterator[FrameChunk]:
    sniff_candump(path)  # raised on the first read, so results.json still records the failure
    yield from read_candump(path)


def read_log(path: str | Path) -> Iterator[FrameChunk]:
    p = Path(path)
    if not p.exists():
        raise InputError("no such log file", path=str(p))
    suffix = p.suffix.lower()
    if suffix == ".log":
        return _sniffed_candump(p)
    if suffix == ".blf":
        return read_blf(p)
    if suffix == ".mf4":
        from .mf4 import read_mf4

        return read_mf4(p)
    if suffix in (".asc", ".trc", ".csv", ".db", ".txt"):
        return read_python_can(p)
    raise InputError(f"unknown log format {p.suffix!r} (.log .blf .asc .trc .csv .mf4)", path=str(p))
