"""Multi-frame traffic a real vehicle has besides its DBC messages, for the tests, the benchmark and the
demo: J1939 transport sessions (BAM, RTS/CTS, one aborted, one left to time out), ISO-TP diagnostic
responses (classic and CAN FD) carrying the VIN and an ECU serial, an OBD-II VIN, NMEA 2000 fast-packet
GNSS positions, and a VIN paged over an id no DBC describes. Every scenario repeats in a fixed cycle."""

from __future__ import annotations

from collections.abc import Iterator

from .synthetic import Frame

DIAG_VIN = "LFV3A23C1N3012345"  # a valid check digit: what the undocumented-identifier scan looks for
UNDOCUMENTED_VIN = "LSGBL5339HF000241"
ECU_SERIAL = "SN-7731-0042-A"
GNSS = (39.90421234, 116.40741234, 52.5)
UNDOCUMENTED_ID = 0x5F0
STEP = 0.01  # between the frames of one transfer


def _j1939_id(pgn: int, sa: int, da: int = 0xFF, prio: int = 6) -> int:
    pf = (pgn >> 8) & 0xFF
    ps = da if pf < 240 else pgn & 0xFF
    return prio << 26 | (pgn >> 16 & 3) << 24 | pf << 16 | ps << 8 | sa


def _pad(b: bytes, n: int = 8) -> bytes:
    return b + b"\xff" * (n - len(b))


def _tp_dt(t: float, payload: bytes, sa: int, da: int, packets: int | None = None) -> list[Frame]:
    chunks = [payload[i:i + 7] for i in range(0, len(payload), 7)]
    return [Frame(t + STEP * (i + 1), _j1939_id(0xEB00, sa, da, 7), True, False, _pad(bytes([i + 1]) + c))
            for i, c in enumerate(chunks[: packets or len(chunks)])]


def j1939_bam(t: float, pgn: int, payload: bytes, sa: int, packets: int | None = None) -> list[Frame]:
    n = -(-len(payload) // 7)
    cm = bytes([32, len(payload) & 0xFF, len(payload) >> 8, n, 0xFF, pgn & 0xFF, pgn >> 8 & 0xFF, pgn >> 16])
    return [Frame(t, _j1939_id(0xEC00, sa, 0xFF, 7), True, False, cm), *_tp_dt(t, payload, sa, 0xFF, packets)]


def j1939_rts_cts(t: float, pgn: int, payload: bytes, sa: int, da: int, abort_after: int | None = None) -> list[Frame]:
    n = -(-len(payload) // 7)
    p = [pgn & 0xFF, pgn >> 8 & 0xFF, pgn >> 16]
    out = [Frame(t, _j1939_id(0xEC00, sa, da, 7), True, False, bytes([16, len(payload) & 0xFF, len(payload) >> 8, n, 0xFF, *p])),
           Frame(t + STEP / 2, _j1939_id(0xEC00, da, sa, 7), True, False, bytes([17, n, 1, 0xFF, 0xFF, *p]))]
    dts = _tp_dt(t, payload, sa, da, abort_after)
    out += dts
    end = dts[-1].t + STEP
    if abort_after is not None:  # the receiver gives up: Connection Abort (reason 3, timeout)
        out.append(Frame(end, _j1939_id(0xEC00, da, sa, 7), True, False, bytes([255, 3, 0xFF, 0xFF, 0xFF, *p])))
    else:
        out.append(Frame(end, _j1939_id(0xEC00, da, sa, 7), True, False,
                         bytes([19, len(payload) & 0xFF, len(payload) >> 8, n, 0xFF, *p])))
    return out


def isotp(t: float, can_id: int, payload: bytes, fd: bool = False) -> list[Frame]:
    if fd and len(payload) <= 62:
        return [Frame(t, can_id, False, True, _pad(bytes([0, len(payload)]) + payload, 64))]
    if len(payload) <= 7:
        return [Frame(t, can_id, False, False, _pad(bytes([len(payload)]) + payload))]
    out = [Frame(t, can_id, False, False, bytes([0x10 | len(payload) >> 8, len(payload) & 0xFF]) + payload[:6]),
           Frame(t + STEP / 2, can_id - 8, False, False, _pad(b"\x30\x00\x00"))]  # flow control from the tester
    rest, sn = payload[6:], 1
    while rest:
        out.append(Frame(t + STEP * sn, can_id, False, False, _pad(bytes([0x20 | sn & 0xF]) + rest[:7])))
        rest, sn = rest[7:], sn + 1
    return out


def fast_packet(t: float, pgn: int, payload: bytes, sa: int, seq: int = 0) -> list[Frame]:
    can_id = _j1939_id(pgn, sa, prio=3)
    out = [Frame(t, can_id, True, False, bytes([seq << 5, len(payload)]) + payload[:6])]
    rest, k = payload[6:], 1
    while rest:
        out.append(Frame(t + STEP * k, can_id, True, False, _pad(bytes([seq << 5 | k]) + rest[:7])))
        rest, k = rest[7:], k + 1
    return out


def _gnss_payload() -> bytes:
    lat, lon, alt = GNSS
    return (bytes([1]) + (20_454).to_bytes(2, "little") + (360_000_000).to_bytes(4, "little")
            + round(lat * 1e16).to_bytes(8, "little", signed=True) + round(lon * 1e16).to_bytes(8, "little", signed=True)
            + round(alt * 1e6).to_bytes(8, "little", signed=True) + bytes([0x10, 0xFC, 12]) + bytes(12))


def _scenario(k: int, t: float) -> list[Frame]:
    vin = DIAG_VIN.encode()
    match k % 9:
        case 0:
            return j1939_bam(t, 65260, vin + b"*", sa=0x00)
        case 1:
            return [Frame(t - STEP, 0x7E0, False, False, _pad(b"\x03\x22\xf1\x90")), *isotp(t, 0x7E8, b"\x62\xf1\x90" + vin)]
        case 2:
            return fast_packet(t, 129029, _gnss_payload(), sa=0x05, seq=k // 9 % 8)
        case 3:
            return j1939_rts_cts(t, 65259, b"ACME*X1*" + ECU_SERIAL.encode() + b"*7*", sa=0xF9, da=0x00)
        case 4:
            return isotp(t, 0x7E9, b"\x62\xf1\x8c" + ECU_SERIAL.encode(), fd=True)
        case 5:
            return j1939_rts_cts(t, 65259, b"ACME*X1*" + ECU_SERIAL.encode() + b"*7*", sa=0xF9, da=0x00, abort_after=1)
        case 6:
            return isotp(t, 0x7E8, b"\x49\x02\x01" + vin)
        case 7:
            pages = UNDOCUMENTED_VIN.encode() + b"\x00" * 4
            return [Frame(t + STEP * i, UNDOCUMENTED_ID, False, False, bytes([i + 1]) + pages[7 * i:7 * i + 7])
                    for i in range(3)]
        case _:
            return j1939_bam(t, 65260, vin + b"*", sa=0x17, packets=1)  # never finished: times out


def with_transport(main: Iterator[Frame], period: float = 0.25) -> Iterator[Frame]:
    """``main`` with a transport scenario every ``period`` seconds of log time, merged in time order."""
    pending: list[Frame] = []
    k = 0
    next_t: float | None = None
    for fr in main:
        if next_t is None:
            next_t = fr.t + period
        while next_t <= fr.t:
            pending.extend(_scenario(k, next_t))
            pending.sort(key=lambda f: f.t)
            k += 1
            next_t += period
        while pending and pending[0].t <= fr.t:
            yield pending.pop(0)
        yield fr
