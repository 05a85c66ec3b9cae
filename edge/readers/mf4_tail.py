"""Where an unfinalised MF4 ends. A CANedge (and any logger that loses power) leaves its last data block
open: the block's length field is never updated and readers take the data to the end of the file, so a
file cut short reads as a shorter log, silently. This walks the open block's records (record id, then a
fixed-size record or a length-prefixed VLSD one) to the end of the file and says where the last complete
record ends, whether a record is cut, and whether a finalised block claims more bytes than the file holds.
Plain structs over a memory map; no asammdf internals."""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

_HEADER = struct.Struct("<4s4xQQ")  # block id, length, link count
UNFIN_LAST_DT_LENGTH = 1 << 2  # id_unfin_flags: "update of length for last DT block required"


@dataclass(frozen=True)
class Tail:
    complete_to: int  # byte after the last complete record
    cut_at: int | None  # start of a record the file ends inside of, or of bytes that are no record
    reason: str = ""
    earlier: tuple[int, ...] = ()  # the ends of the records before, latest first (a frame whose VLSD bytes
    # were cut needs its own record dropped too)


def _block(m: mmap.mmap, at: int) -> tuple[bytes, int, list[int], int]:
    bid, length, nlinks = _HEADER.unpack_from(m, at)
    links = list(struct.unpack_from(f"<{nlinks}Q", m, at + 24)) if nlinks else []
    return bid, length, links, at + 24 + 8 * nlinks


def check_tail(path: Path) -> Tail | None:
    """None when the file is finalised and every data block fits, or not an MF4 this understands (its
    reader then says what is wrong); else where its data really ends."""
    try:
        return _check(path)
    except (struct.error, ValueError, IndexError, OSError):
        return None


def _check(path: Path) -> Tail | None:
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        size = len(m)
        if size < 64 + 24 or m[:3] not in (b"MDF", b"UnF"):
            return None
        unfinished = m[:8] == b"UnFinMF " and struct.unpack_from("<H", m, 60)[0] & UNFIN_LAST_DT_LENGTH
        _, _, hd_links, _ = _block(m, 64)
        dg = hd_links[0] if hd_links else 0
        while dg:
            bid, _, links, data_at = _block(m, dg)
            if bid != b"##DG":
                return None
            next_dg, cg_first, data = links[0], links[1], links[2]
            rec_id_size = m[data_at]
            cgs: dict[int, int | None] = {}  # record id -> record bytes (None: VLSD, length-prefixed)
            cg = cg_first
            while cg:
                cbid, _, clinks, cdata = _block(m, cg)
                if cbid != b"##CG":
                    return None
                rid, _cycles, flags, _sep, data_bytes, inval = struct.unpack_from("<QQHH4xII", m, cdata)
                cgs[rid] = None if flags & 1 else data_bytes + inval
                cg = clinks[0]
            if data and data + 24 <= size:
                dbid, dlen, _, _ = _block(m, data)
                if dbid == b"##DT":
                    if unfinished and dlen <= 24:  # the open block: its data runs to the end of the file
                        tail = _walk(m, data + 24, size, rec_id_size, cgs)
                        if tail.cut_at is not None:
                            return tail
                    elif data + dlen > size:
                        return Tail(size, data + 24, f"its data block at byte {data} declares {dlen:,} bytes, "
                                                     f"the file holds {size - data:,}")
            dg = next_dg
    return None


def _walk(m: mmap.mmap, pos: int, end: int, id_size: int, cgs: dict[int, int | None]) -> Tail:
    if id_size not in (1, 2, 4, 8) or not cgs:
        return Tail(end, None)
    fmt = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}[id_size]
    ends: list[int] = []

    def cut(reason: str) -> Tail:
        return Tail(pos, pos, reason, tuple(reversed(ends[-32:-1])))

    while pos < end:
        if pos + id_size > end:
            return cut(f"the last record at byte {pos:,} is cut ({end - pos} of at least {id_size + 1} bytes)")
        rid = struct.unpack_from(fmt, m, pos)[0]
        if rid not in cgs:
            if not any(m[pos:end]):  # space the logger reserved and never wrote: no record is missing
                return Tail(pos, None)
            return cut(f"bytes at {pos:,} are no record of this file (record id {rid})")
        n = cgs[rid]
        if n is None:  # VLSD: a 4-byte length, then the bytes
            if pos + id_size + 4 > end:
                return cut(f"the last record at byte {pos:,} is cut")
            n = 4 + struct.unpack_from("<I", m, pos + id_size)[0]
        if pos + id_size + n > end:
            return cut(f"the last record at byte {pos:,} is cut ({end - pos} of {id_size + n} bytes)")
        pos += id_size + n
        ends.append(pos)
        if len(ends) > 64:
            del ends[:32]
    return Tail(pos, None)
