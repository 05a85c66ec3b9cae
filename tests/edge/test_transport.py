"""Multi-frame payloads: J1939 TP, ISO-TP (classic and CAN FD), NMEA 2000 fast packets, reassembled from
generated traffic; identifiers found only in diagnostic traffic are pseudonymised, never in clear."""

from __future__ import annotations

import json

import can
import numpy as np
import pytest

from edge.builtin import _gnss_position, _uds
from edge.frames import FrameChunk
from edge.scan import find_identifiers
from edge.simulate import write_log
from edge.simulate_transport import (
    DIAG_VIN,
    ECU_SERIAL,
    GNSS,
    UNDOCUMENTED_VIN,
    _gnss_payload,
    fast_packet,
    isotp,
    j1939_bam,
    j1939_rts_cts,
)
from edge.transport import Reassembler
from tests.conftest import SAMPLE_DBC, run_cli
from vehicle_ds.results import validate_results


def _chunk(frames) -> FrameChunk:
    msgs = [can.Message(timestamp=f.t, arbitration_id=f.can_id, is_extended_id=f.extended, is_fd=f.fd,
                        data=f.data, channel="can0") for f in sorted(frames, key=lambda f: f.t)]
    return FrameChunk.from_messages(msgs, [])


def _feed(frames, r: Reassembler | None = None):
    r = r or Reassembler()
    c = _chunk(frames)
    rows = np.flatnonzero(r.select(c))
    assert rows.shape[0] == len(c), "every frame of these transfers belongs to the transport"
    return r, r.feed(c, rows)


def test_j1939_bam_reassembles_the_vin():
    r, out = _feed(j1939_bam(10.0, 65260, DIAG_VIN.encode() + b"*", sa=0x00))
    assert [(m.protocol, m.key, m.payload) for m in out] == [("j1939", 65260, DIAG_VIN.encode() + b"*")]
    assert r.stats.sessions == {"j1939.completed": 1}


def test_j1939_rts_cts_complete_and_aborted():
    payload = b"ACME*X1*" + ECU_SERIAL.encode() + b"*7*"
    r, out = _feed(j1939_rts_cts(1.0, 65259, payload, sa=0xF9, da=0x00)
                   + j1939_rts_cts(5.0, 65259, payload, sa=0xF9, da=0x00, abort_after=1))
    assert [m.payload for m in out] == [payload]
    assert r.stats.sessions == {"j1939.completed": 1, "j1939.aborted": 1}


def test_j1939_timeout_and_sequence_gap():
    vin = DIAG_VIN.encode() + b"*"
    lost = [f for f in j1939_bam(1.0, 65260, vin, sa=0x10) if f.data[0] != 2 or f.can_id >> 16 & 0xFF != 0xEB]
    late = j1939_bam(3.0, 65260, vin, sa=0x11, packets=1) + j1939_bam(5.0, 65260, vin, sa=0x11)
    r, out = _feed(lost + late)
    # the gap aborts sa 0x10; sa 0x11's first session is timed out by the second, which completes
    assert r.stats.sessions == {"j1939.aborted": 1, "j1939.timed_out": 1, "j1939.completed": 1}
    assert len(out) == 1
    r2, _ = _feed(j1939_bam(1.0, 65260, vin, sa=0x12, packets=2))
    r2.finish()
    assert r2.stats.sessions == {"j1939.timed_out": 1}


def test_isotp_classic_fd_and_out_of_sequence():
    vin_resp = b"\x62\xf1\x90" + DIAG_VIN.encode()
    serial_resp = b"\x62\xf1\x8c" + ECU_SERIAL.encode()
    broken = [f for f in isotp(9.0, 0x7E8, vin_resp) if f.data[0] != 0x21]  # first consecutive frame lost
    r, out = _feed(isotp(1.0, 0x7E8, vin_resp) + isotp(2.0, 0x7E9, serial_resp, fd=True) + broken)
    assert [m.payload for m in out] == [vin_resp, serial_resp]
    assert r.stats.sessions == {"isotp.completed": 2, "isotp.aborted": 1}
    assert _uds(out[0].payload) == {"VIN": DIAG_VIN} and _uds(out[1].payload) == {"ECUSerialNumber": ECU_SERIAL}


def test_nmea2000_fast_packet_gnss_position():
    r, out = _feed(fast_packet(1.0, 129029, _gnss_payload(), sa=5, seq=3))
    assert r.stats.sessions == {"nmea2000.completed": 1}
    pos = _gnss_position(out[0].payload)
    assert pos["Latitude"] == pytest.approx(GNSS[0], abs=1e-9) and pos["Longitude"] == pytest.approx(GNSS[1], abs=1e-9)


def test_identifier_scan_finds_valid_vins_only():
    assert find_identifiers(b"\x01" + UNDOCUMENTED_VIN.encode() + b"\x00") == {"vin"}
    near_miss = UNDOCUMENTED_VIN[:8] + ("0" if UNDOCUMENTED_VIN[8] != "0" else "1") + UNDOCUMENTED_VIN[9:]
    assert find_identifiers(near_miss.encode()) == set()
    assert find_identifiers(b"356938035643809") == {"imei"}  # Luhn-valid
    assert find_identifiers(b"356938035643808") == set()
    assert find_identifiers(np.random.default_rng(1).integers(0, 256, 200_000, dtype=np.uint8).tobytes()) == set()


@pytest.fixture(scope="module")
def transport_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tp")
    log = tmp / "drive.log"
    write_log([SAMPLE_DBC], log, 30_000, seed=4, transport=True)
    out = tmp / "out"
    proc = run_cli("edge", "replay", str(log), "--dbc", str(SAMPLE_DBC), "--out", str(out), "--purpose", "navigation",
                   "--key-file", str(tmp / "k.key"))
    assert proc.returncode == 0, proc.stderr
    inspect = run_cli("edge", "inspect", str(out), "--jsonl")
    assert inspect.returncode == 0, inspect.stderr
    doc = validate_results(json.loads((out / "results.json").read_text()))
    return doc, [json.loads(x) for x in inspect.stdout.splitlines()], inspect.stdout


def test_vin_only_in_diagnostic_traffic_leaves_pseudonymised(transport_run):
    doc, records, text = transport_run
    assert DIAG_VIN not in text and ECU_SERIAL not in text and UNDOCUMENTED_VIN not in text
    by_msg = {}
    for r in records:
        by_msg.setdefault(r["message"], []).append(r["signals"])
    every = set()
    for name in ("J1939_VehicleIdentification", "UDS_ReadDataByIdentifier", "OBD_VehicleInformation"):
        vins = {s["VIN"] for s in by_msg[name] if "VIN" in s}
        assert len(vins) == 1 and all(len(v) == 24 for v in vins), name  # one pseudonym, not the VIN
        every |= vins
    # one VIN, one pseudonym whichever transport carried it (J1939 BAM with its '*' delimiter, UDS F190, OBD)
    assert len(every) == 1
    lat = [s["Latitude"] for s in by_msg["NMEA2000_GNSSPositionData"]]
    assert lat and all(round(v, 3) == v for v in lat)  # coarsened to the consented purpose's 3 decimals
    status = {c["id"]: c for c in doc["checks"]}
    assert status["edge.uplink.no_clear_vin"]["status"] == "pass"
    assert status["edge.uplink.no_clear_vin"]["observed"]["identifier_frames_decoded"] > 0


def test_sessions_are_counted_and_undocumented_vin_named(transport_run):
    doc, _, _ = transport_run
    s = doc["summary"]["transport"]["sessions"]
    assert s["j1939.completed"] > 0 and s["j1939.aborted"] > 0 and s["j1939.timed_out"] > 0
    assert s["isotp.completed"] > 0 and s["nmea2000.completed"] > 0
    fs = doc["summary"]
    assert fs["frames_total"] == fs["frames_decoded"] + fs["frames_unknown"] + fs["frames_error"] + fs["frames_transport"]
    checks = {c["id"]: c for c in doc["checks"]}
    assert checks["edge.transport.sessions"]["status"] == "warn"
    und = checks["edge.frames.undocumented_identifiers"]
    assert und["status"] == "warn" and [h["id"] for h in und["evidence"]["ids"]] == ["0x5F0"]


DIAG_DBC = """VERSION ""
NS_ :
BS_:
BU_: ECU
BO_ 2024 DiagResp: 16 ECU
 SG_ SID_DID M : 7|24@0+ (1,0) [0|16777215] "" Vector__XXX
 SG_ ChargeLocationLatitude m6422785 : 31|32@0- (1e-07,0) [-90|90] "deg" Vector__XXX
 SG_ ChargeLocationLongitude m6422785 : 63|32@0- (1e-07,0) [-180|180] "deg" Vector__XXX
"""


def test_a_dbc_message_describes_a_reassembled_payload(tmp_path):
    """The convention for diagnostic payloads: a DBC message on the response id, multiplexed on service and
    data identifier (0x62 0x01 0x01 here), decodes the reassembled payload; the position is coarsened."""
    dbc = tmp_path / "diag.dbc"
    dbc.write_text(DIAG_DBC)
    payload = bytes([0x62, 0x01, 0x01]) + (399042123).to_bytes(4, "big", signed=True) \
        + (1164074123).to_bytes(4, "big", signed=True)
    lines = []
    for k in range(20):
        for f in isotp(100.0 + k, 0x7E8, payload):
            lines.append(f"({f.t:.6f}) can0 {f.can_id:03X}#{f.data.hex().upper()}\n")
    log = tmp_path / "diag.log"
    log.write_text("".join(lines))
    out = tmp_path / "out"
    proc = run_cli("edge", "replay", str(log), "--dbc", str(dbc), "--out", str(out), "--purpose", "navigation",
                   "--key-file", str(tmp_path / "k"))
    assert proc.returncode == 0, proc.stderr
    recs = [json.loads(x) for x in run_cli("edge", "inspect", str(out), "--jsonl").stdout.splitlines()]
    assert len(recs) == 20 and recs[0]["signals"]["ChargeLocationLatitude"] == pytest.approx(39.904)
    assert recs[0]["signals"]["ChargeLocationLongitude"] == pytest.approx(116.407)


def test_the_precision_audit_sees_one_extra_decimal():
    """39.90001 has five decimals: a relative tolerance of 1e-6 once called it three (a missed violation)."""
    from edge.audit import _decimals

    assert _decimals(np.array([39.90001]), 3) == 5 and _decimals(np.array([np.round(39.9042123, 3)]), 3) == 3
    # from the most seen so far (3): a column needing fewer does not lower it, one needing more is caught
    assert _decimals(np.array([39.9]), 3) == 1 and _decimals(np.array([39.9]), 3, seen=3) == 3
    assert _decimals(np.array([39.90001]), 3, seen=3) == 5 and _decimals(np.array([39.9001]), 3, seen=5) == 4
