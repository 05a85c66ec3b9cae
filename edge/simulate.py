"""Realistic CAN traffic for a DBC: messages at their cycle times with plausible values (a GNSS track
around Beijing, a VIN paged over its multiplexed message, cabin streams, ADAS objects), plus the defects
real captures have: unknown ids, truncated frames, error frames and J1939 from another source address.
Used by the tests, the benchmark and ``vehicle-ds demo``; seeded, so a log can be made again exactly."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from pathlib import Path

import cantools

from .synthetic import Frame

SAMPLE_VIN = "LFV3A23C8N3012345"
SAMPLE_IMEI = 356938035643809


def _value(msg, sig, k: int, rnd: random.Random, t: float):
    """A plausible physical value for ``sig`` in the k-th variant."""
    name = sig.name.lower()
    lo = sig.minimum if sig.minimum is not None else 0
    hi = sig.maximum if sig.maximum is not None else lo + 1
    if sig.is_multiplexer:
        ids = sorted({i for s in msg.signals for i in (s.multiplexer_ids or [])})
        return ids[k % len(ids)] if ids else 0
    if "vin_char" in name:
        return ord(SAMPLE_VIN[int(sig.name[-2:]) - 1])
    if "imei" in name:
        return SAMPLE_IMEI
    if "iccid" in name:
        return 8986001234567890 % (1 << sig.length)
    if "serial" in name or "sensorid" in name:
        return 0x5EED0001 % (1 << sig.length)
    angle = 2 * math.pi * (k / 64.0)
    if name.endswith("latitude") or name == "weidu":
        return round(39.9042 + 0.01 * math.sin(angle) + 1e-7 * rnd.randrange(100), 7)
    if name.endswith("longitude") or name == "jingdu":
        return round(116.4074 + 0.01 * math.cos(angle) + 1e-7 * rnd.randrange(100), 7)
    if "lattdeg" in name:
        return 39
    if "longdeg" in name:
        return 116
    if "frct" in name:
        return round(rnd.random() * 0.999999, 6)
    if "status" in name and ("cam" in name or "mic" in name):
        return 1  # collection on (consented)
    if sig.choices:
        return list(sig.choices)[k % len(sig.choices)]
    span = hi - lo
    return lo + span * ((k * 37 % 64) / 64.0) if span > 0 else lo


def _variants(msg, n: int, rnd: random.Random) -> list[bytes]:
    out = []
    for k in range(n):
        values = {s.name: _value(msg, s, k, rnd, 0.0) for s in msg.signals}
        if any(s.is_multiplexer for s in msg.signals):
            sel = next(s for s in msg.signals if s.is_multiplexer)
            page = values[sel.name]
            values = {s.name: v for s, v in ((s, values[s.name]) for s in msg.signals)
                      if not s.multiplexer_ids or page in s.multiplexer_ids}
        try:
            out.append(msg.encode(values, scaling=True, strict=False, padding=False))
        except Exception:
            out.append(bytes(rnd.randrange(256) for _ in range(msg.length)))
    return out


def frames(dbc_paths: list[Path], n_frames: int, seed: int = 1, defects: bool = True,
           t0: float = 1_767_225_600.0) -> Iterator[Frame]:
    """``n_frames`` frames in time order; message rates follow each message's cycle time."""
    rnd = random.Random(seed)
    msgs = []
    for p in dbc_paths:
        db = cantools.database.load_file(str(p), strict=False)
        msgs.extend(db.messages)
    variants = {m.name: _variants(m, 64, rnd) for m in msgs}
    periods = [max((m.cycle_time or 100), 1) / 1000.0 for m in msgs]
    rate = sum(1.0 / p for p in periods)
    duration = n_frames / rate
    # next due time per message, advanced by its period: a merge of periodic schedules
    import heapq

    heap = [(rnd.random() * p, i) for i, p in enumerate(periods)]
    heapq.heapify(heap)
    counters = [0] * len(msgs)
    produced = 0
    while produced < n_frames:
        t, i = heapq.heappop(heap)
        m = msgs[i]
        heapq.heappush(heap, (t + periods[i], i))
        k = counters[i]
        counters[i] += 1
        data = variants[m.name][k % 64]
        can_id = m.frame_id
        if defects and produced % 997 == 0 and produced:
            yield Frame(t0 + t, 0x7A0 if produced % 2 else 0x1FFFAA17, produced % 2 == 0, False,
                        bytes(8))  # ids no DBC describes
            produced += 1
            continue
        if defects and produced % 4999 == 0 and produced:
            yield Frame(t0 + t, 0, False, False, b"", kind="error")
            produced += 1
            continue
        if defects and m.protocol == "j1939" and k % 2:
            can_id = (can_id & ~0xFF) | 0x27  # the same PGN from another source address
        if defects and produced % 1999 == 0 and produced and len(data) > 4:
            data = data[: len(data) // 2]  # truncated frame
        yield Frame(t0 + t, can_id, bool(m.is_extended_frame), bool(m.is_fd), data)
        produced += 1
    _ = duration


def write_candump(path: Path, it: Iterator[Frame], channel: str = "can0") -> int:
    n = 0
    with open(path, "w", encoding="ascii", newline="\n") as f:
        lines = []
        for fr in it:
            if fr.kind == "error":
                lines.append(f"({fr.t:.6f}) {channel} 20000080#0000000000000000\n")
            else:
                ident = f"{fr.can_id:08X}" if fr.extended else f"{fr.can_id:03X}"
                sep = "##1" if fr.fd else "#"
                lines.append(f"({fr.t:.6f}) {channel} {ident}{sep}{fr.data.hex().upper()}\n")
            n += 1
            if len(lines) >= 65536:
                f.writelines(lines)
                lines = []
        f.writelines(lines)
    return n


def write_blf(path: Path, it: Iterator[Frame]) -> int:
    import can

    n = 0
    with can.BLFWriter(str(path)) as w:
        for fr in it:
            if fr.kind == "error":
                w.on_message_received(can.Message(timestamp=fr.t, is_error_frame=True, channel=0))
            else:
                w.on_message_received(can.Message(timestamp=fr.t, arbitration_id=fr.can_id, is_extended_id=fr.extended,
                                                  is_fd=fr.fd, bitrate_switch=fr.fd, data=fr.data,
                                                  channel=int(fr.channel[3:] or 0) if fr.channel.startswith("can") else 0))
            n += 1
    return n


def write_log(dbc_paths: list[Path], path: Path, n_frames: int, seed: int = 1, defects: bool = True,
              transport: bool = False) -> int:
    """A log of ``n_frames`` DBC frames (plus the multi-frame traffic of :mod:`edge.simulate_transport`
    with ``transport``); returns the number of frames written."""
    it = frames(dbc_paths, n_frames, seed, defects)
    if transport:
        from .simulate_transport import with_transport

        it = with_transport(it)
    if path.suffix == ".blf":
        return write_blf(path, it)
    if path.suffix == ".log":
        return write_candump(path, it)
    import can

    if path.suffix.lower() == ".mf4":
        from vehicle_ds.deferred_imports import enable_mf4

        enable_mf4()
    n = 0
    with can.Logger(str(path)) as w:
        for fr in it:
            w.on_message_received(can.Message(timestamp=fr.t, arbitration_id=fr.can_id, is_extended_id=fr.extended,
                                              is_fd=fr.fd, data=fr.data, is_error_frame=fr.kind == "error"))
            n += 1
    return n
