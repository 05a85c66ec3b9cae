"""Transport protocols: payloads longer than one frame, reassembled before they are decoded.

- J1939 transport protocol (SAE J1939-21): BAM and RTS/CTS sessions per (channel, source, destination),
  announced by TP.CM (PGN 0xEC00) and carried by TP.DT (PGN 0xEB00); a session ends complete, aborted
  (Connection Abort, a sequence gap, or a new announcement replacing it) or timed out (no packet within
  T1 = 750 ms for BAM, T2 = 1,250 ms for RTS/CTS).
- ISO-TP (ISO 15765-2) on the diagnostic ids: single, first and consecutive frames, classic and CAN FD
  (escape lengths), per (channel, id); a consecutive frame out of sequence aborts, N_Cr = 1,000 ms times out.
- NMEA 2000 fast packets: a sequence counter and a frame counter in the first byte, the total length in
  the first frame, per (channel, PGN, source, sequence).

Only the rows the transport owns (selected vectorised) go through this per-frame code: on a vehicle bus
they are a few per cent of the traffic. The frames of a session are counted as ``transport`` frames; the
payload is handed back as a :class:`Reassembled` message for decoding.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .frames import DATA, FrameChunk

TP_CM, TP_DT = 0xEC00, 0xEB00
J1939_T1_S, J1939_T2_S = 0.75, 1.25
ISOTP_N_CR_S = 1.0
FAST_PACKET_S = 0.75
DEFAULT_ISOTP_IDS = tuple(range(0x7DF, 0x7F0))  # functional 0x7DF, requests 0x7E0-7, responses 0x7E8-F
# NMEA 2000 PGNs sent as fast packets that matter here: product information (serial), GNSS position,
# navigation data, GNSS satellites, AIS position reports.
DEFAULT_FAST_PACKET_PGNS = (126996, 129029, 129038, 129039, 129284, 129285, 129540)


@dataclass(frozen=True)
class TransportConfig:
    j1939: bool = True
    isotp_ids: tuple[int, ...] = DEFAULT_ISOTP_IDS  # 11-bit ids; 29-bit 0x18DA/0x18DB ids always
    isotp_extended: bool = True
    fast_packet_pgns: tuple[int, ...] = DEFAULT_FAST_PACKET_PGNS


@dataclass
class Reassembled:
    """One reassembled payload: ``key`` is the PGN (J1939, NMEA 2000) or the CAN id (ISO-TP)."""

    protocol: str  # j1939 | isotp | nmea2000
    key: int
    extended: bool
    t: float
    channel: int
    source: int
    payload: bytes
    pci: int = 0  # ISO-TP: the length byte before the service id (single frame: the PCI; first frame: length & 0xFF)
    frames: int = 1  # the CAN frames that carried it


@dataclass
class TransportStats:
    frames: int = 0
    sessions: Counter = field(default_factory=Counter)  # "j1939.completed", "isotp.aborted", ...

    def merge(self, o: TransportStats) -> None:
        self.frames += o.frames
        self.sessions.update(o.sessions)


def pgn_of(ids: np.ndarray) -> np.ndarray:
    """J1939 PGN of 29-bit ids (PDU1, PF < 240, drops the destination address byte)."""
    pgn = (ids.astype(np.uint32) >> np.uint32(8)) & np.uint32(0x3FFFF)
    pdu1 = ((pgn >> np.uint32(8)) & np.uint32(0xFF)) < 240
    return np.where(pdu1, pgn & np.uint32(0x3FF00), pgn)


@dataclass
class _Session:
    t_last: float
    size: int
    parts: list[bytes]
    have: int = 0
    expect: int = 1  # next sequence / packet number
    packets: int = 0
    pgn: int = 0
    timeout: float = J1939_T1_S


class Reassembler:
    """Stateful across chunks (a session may span two); one per agent, fed in time order."""

    def __init__(self, config: TransportConfig | None = None) -> None:
        self.config = config or TransportConfig()
        self._isotp_ids = np.array(sorted(self.config.isotp_ids), dtype=np.uint32)
        self._fast = np.array(sorted(self.config.fast_packet_pgns), dtype=np.uint32)
        self.stats = TransportStats()
        self._open: dict[tuple, _Session] = {}

    # -- which rows belong to the transport ---------------------------------------------------------------
    def select(self, chunk: FrameChunk) -> np.ndarray:
        ids, ext = chunk.can_id, chunk.extended
        data = chunk.kind == DATA
        mine = np.zeros(ids.shape[0], dtype=bool)
        if self._isotp_ids.shape[0]:
            mine |= ~ext & np.isin(ids, self._isotp_ids)
        if ext.any():
            pgn = pgn_of(ids)
            pf = (ids >> np.uint32(16)) & np.uint32(0xFF)
            if self.config.isotp_extended:  # normal fixed addressing: 0x18DA (physical), 0x18DB (functional)
                mine |= ext & ((pf == 0xDA) | (pf == 0xDB))
            if self.config.j1939:
                mine |= ext & ((pgn == TP_CM) | (pgn == TP_DT))
            if self._fast.shape[0]:
                mine |= ext & np.isin(pgn, self._fast)
        return mine & data

    # -- per frame ------------------------------------------------------------------------------------------
    def feed(self, chunk: FrameChunk, rows: np.ndarray, open_only: bool = False) -> list[Reassembled]:
        """Feed the transport ``rows`` of ``chunk`` (in time order); ``open_only`` continues sessions already
        open and starts none (a parallel worker reading past the end of its range)."""
        out: list[Reassembled] = []
        if not open_only:
            self.stats.frames += int(rows.shape[0])
        # one conversion to Python values for all rows, not one numpy scalar access per field and row
        ts, chs = chunk.t[rows].tolist(), chunk.channel[rows].tolist()
        ids, exts, lens = chunk.can_id[rows].tolist(), chunk.extended[rows].tolist(), chunk.length[rows].tolist()
        width = chunk.data.shape[1]
        raw = chunk.data[rows].tobytes()
        for i, (t, ch, cid, ext, n) in enumerate(zip(ts, chs, ids, exts, lens, strict=True)):
            payload = raw[i * width:i * width + n]
            if ext:
                pf = (cid >> 16) & 0xFF
                if pf in (0xDA, 0xDB) and self.config.isotp_extended:
                    self._isotp(out, t, ch, cid, True, payload, open_only)
                    continue
                pgn = (cid >> 8) & (0x3FF00 if pf < 240 else 0x3FFFF)
                if pgn == TP_CM:
                    self._j1939_cm(out, t, ch, cid, payload, open_only)
                elif pgn == TP_DT:
                    self._j1939_dt(out, t, ch, cid, payload)
                else:
                    self._fast_packet(out, t, ch, cid, pgn, payload, open_only)
            else:
                self._isotp(out, t, ch, cid, False, payload, open_only)
        return out

    def open_sessions(self) -> int:
        return len(self._open)

    def last_activity(self) -> float:
        return max((s.t_last for s in self._open.values()), default=float("-inf"))

    def finish(self) -> None:
        """End of input: sessions still open never completed."""
        for key in list(self._open):
            self.stats.sessions[f"{key[0]}.timed_out"] += 1
        self._open.clear()

    def _end(self, key: tuple, how: str) -> None:
        if self._open.pop(key, None) is not None:
            self.stats.sessions[f"{key[0]}.{how}"] += 1

    def _expired(self, key: tuple, t: float) -> None:
        s = self._open.get(key)
        if s is not None and t - s.t_last > s.timeout:
            self._end(key, "timed_out")

    # -- J1939 ------------------------------------------------------------------------------------------------
    def _j1939_cm(self, out: list, t: float, ch: int, cid: int, p: bytes, open_only: bool) -> None:
        if len(p) < 8:
            return
        sa, da, ctrl = cid & 0xFF, (cid >> 8) & 0xFF, p[0]
        key = ("j1939", ch, sa, da)
        if ctrl in (16, 32):  # RTS, BAM: a new session (replacing one still open: that one is aborted)
            self._expired(key, t)
            self._end(key, "aborted")
            if open_only:
                return
            size, packets = p[1] | p[2] << 8, p[3]
            if size < 9 or packets == 0 or packets * 7 < size:
                self.stats.sessions["j1939.aborted"] += 1
                return
            self._open[key] = _Session(t, size, [], packets=packets, pgn=p[5] | p[6] << 8 | p[7] << 16,
                                       timeout=J1939_T1_S if ctrl == 32 else J1939_T2_S)
        elif ctrl == 255:  # Connection Abort, sent by either side
            self._end(key, "aborted")
            self._end(("j1939", ch, da, sa), "aborted")

    def _j1939_dt(self, out: list, t: float, ch: int, cid: int, p: bytes) -> None:
        key = ("j1939", ch, cid & 0xFF, (cid >> 8) & 0xFF)
        self._expired(key, t)
        s = self._open.get(key)
        if s is None or len(p) < 2:
            return
        if p[0] != s.expect:  # a lost or repeated packet: the payload cannot be trusted
            self._end(key, "aborted")
            return
        s.parts.append(p[1:8])
        s.expect += 1
        s.t_last = t
        if s.expect > s.packets:
            self._open.pop(key)
            self.stats.sessions["j1939.completed"] += 1
            out.append(Reassembled("j1939", s.pgn, True, t, ch, key[2], b"".join(s.parts)[: s.size]))

    # -- ISO-TP -----------------------------------------------------------------------------------------------
    def _isotp(self, out: list, t: float, ch: int, cid: int, ext: bool, p: bytes, open_only: bool) -> None:
        if not p:
            return
        key = ("isotp", ch, cid, ext)
        self._expired(key, t)
        kind, low = p[0] >> 4, p[0] & 0x0F
        if kind in (0, 1):  # a new message ends one still being received (aborted)
            self._end(key, "aborted")
            if open_only:
                return
        if kind == 0:  # single frame; CAN FD escape: length in the second byte
            size, start = (low, 1) if low else ((p[1], 2) if len(p) > 1 else (0, 1))
            if 0 < size <= len(p) - start:
                self.stats.sessions["isotp.completed"] += 1
                out.append(Reassembled("isotp", cid, ext, t, ch, cid & 0xFF, p[start:start + size], size & 0xFF))
        elif kind == 1:  # first frame; a 12-bit length, or 0 and a 32-bit length
            size, start = (low << 8 | p[1], 2) if len(p) > 1 else (0, 2)
            if size == 0 and len(p) >= 6:
                size, start = int.from_bytes(p[2:6], "big"), 6
            if size <= len(p) - start or size > 1 << 20:
                self.stats.sessions["isotp.aborted"] += 1
                return
            self._open[key] = _Session(t, size, [p[start:]], have=len(p) - start, expect=1, timeout=ISOTP_N_CR_S)
        elif kind == 2:  # consecutive frame
            s = self._open.get(key)
            if s is None:
                return
            if low != s.expect:
                self._end(key, "aborted")
                return
            s.parts.append(p[1:])
            s.have += len(p) - 1
            s.expect = (s.expect + 1) & 0x0F
            s.t_last = t
            if s.have >= s.size:
                self._open.pop(key)
                self.stats.sessions["isotp.completed"] += 1
                out.append(Reassembled("isotp", cid, ext, t, ch, cid & 0xFF, b"".join(s.parts)[: s.size],
                                       s.size & 0xFF, len(s.parts)))
        # kind 3 (flow control) carries no payload

    # -- NMEA 2000 fast packet -----------------------------------------------------------------------------
    def _fast_packet(self, out: list, t: float, ch: int, cid: int, pgn: int, p: bytes, open_only: bool) -> None:
        if len(p) < 2:
            return
        seq, frame = p[0] >> 5, p[0] & 0x1F
        key = ("nmea2000", ch, pgn, cid & 0xFF, seq)
        self._expired(key, t)
        if frame == 0:
            self._end(key, "aborted")
            if open_only:
                return
            size = p[1]
            if size <= 6:
                if size:
                    self.stats.sessions["nmea2000.completed"] += 1
                    out.append(Reassembled("nmea2000", pgn, True, t, ch, cid & 0xFF, p[2:2 + size]))
                return
            self._open[key] = _Session(t, size, [p[2:8]], have=len(p[2:8]), expect=1, timeout=FAST_PACKET_S)
            return
        s = self._open.get(key)
        if s is None:
            return
        if frame != s.expect:
            self._end(key, "aborted")
            return
        s.parts.append(p[1:8])
        s.have += len(p[1:8])
        s.expect += 1
        s.t_last = t
        if s.have >= s.size:
            self._open.pop(key)
            self.stats.sessions["nmea2000.completed"] += 1
            out.append(Reassembled("nmea2000", pgn, True, t, ch, cid & 0xFF, b"".join(s.parts)[: s.size]))
