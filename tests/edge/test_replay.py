"""Replaying a realistic log accounts for every frame and lets out only compliant data (issue #3)."""

from __future__ import annotations

import json
import re

import pytest

from edge.simulate import SAMPLE_IMEI, SAMPLE_VIN, write_log
from tests.conftest import SAMPLE_DBC, run_cli
from vehicle_ds.catalog import build_catalog
from vehicle_ds.results import validate_results


@pytest.fixture(scope="module")
def sample_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("logs") / "drive.log"
    write_log([SAMPLE_DBC], path, 60_000, seed=11)
    return path


def _replay(tmp_path, log, *extra, rc=0):
    out = tmp_path / "out"
    proc = run_cli("edge", "replay", str(log), "--dbc", str(SAMPLE_DBC), "--out", str(out),
                   "--key-file", str(tmp_path / "k.key"), *extra)
    assert proc.returncode == rc, proc.stderr
    doc = json.loads((out / "results.json").read_text())
    return out, validate_results(doc)


def _outbound(out):
    proc = run_cli("edge", "inspect", str(out), "--jsonl")
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_every_frame_is_accounted_for(tmp_path, sample_log):
    _, doc = _replay(tmp_path, sample_log)
    s = doc["summary"]
    assert s["frames_total"] == 60_000
    assert s["frames_decoded"] + s["frames_unknown"] + s["frames_error"] == s["frames_total"]
    assert s["frames_unknown"] > 0 and s["frames_error"] > 0 and s["frames_truncated"] > 0
    assert {u["id"] for u in s["unknown_ids"]} == {"0x7A0", "0x1FFFAA17"}
    assert s["policy"]["sha256"] and s["signals_by_handling"]["drop"] > 0
    checks = {c["id"]: c for c in doc["checks"]}
    assert checks["edge.frames.unknown_ids"]["status"] == "warn"
    for cid in ("edge.uplink.location_precision", "edge.uplink.no_clear_vin",
                "edge.uplink.no_cabin_biometric_exterior_media", "edge.uplink.technical_data_leaves",
                "edge.spool.no_loss"):
        assert checks[cid]["status"] == "pass", checks[cid]


def test_nothing_forbidden_leaves_and_technical_data_does(tmp_path, sample_log):
    out, _ = _replay(tmp_path, sample_log)
    recs = _outbound(out)
    assert recs and all(set(r) == {"t", "message", "signals"} for r in recs)
    catalog = {(e["message"], e["signal"]): e for e in build_catalog([SAMPLE_DBC])["entries"]}
    seen = {(r["message"], k) for r in recs for k in r["signals"]}
    messages = {m for m, _ in seen}
    # no position without consent, no cabin/biometric/exterior media, no VIN characters
    for m, s in seen:
        e = catalog.get((m, s))
        if e is None:
            assert s == "VIN"
            continue
        assert e["category"] not in ("location", "cabin", "biometric", "security", "unclassified") or \
            e["rule"] == "location.position_meta", (m, s)
        assert e["rule"] != "exterior.raw_media" and e["rule"] != "identifier.vin"
    blob = json.dumps([r["signals"] for r in recs])
    assert SAMPLE_VIN not in blob and str(SAMPLE_IMEI) not in blob
    assert not re.search(r"39\.90\d", blob)  # not even a coarse latitude without consent
    # technical data still leaves, J1939 from a foreign source address included
    assert {"VCU_VehicleMotion", "ABS_WheelSpeeds", "CCVS1", "BMS_Charging"} <= messages
    vins = {r["signals"]["VIN"] for r in recs if "VIN" in r["signals"]}
    assert len(vins) == 1 and len(next(iter(vins))) == 24  # one keyed pseudonym for the whole VIN
    imeis = {r["signals"]["TBOX_IMEI"] for r in recs if "TBOX_IMEI" in r["signals"]}
    assert len(imeis) == 1 and str(SAMPLE_IMEI) not in next(iter(imeis))


def test_consented_navigation_lets_coarse_positions_out(tmp_path, sample_log):
    out, doc = _replay(tmp_path, sample_log, "--purpose", "navigation")
    lats = [r["signals"]["GNSS_Latitude"] for r in _outbound(out) if "GNSS_Latitude" in r["signals"]]
    assert lats and all(round(v, 3) == v for v in lats)
    assert any(abs(v - 39.904) < 0.02 for v in lats)
    check = next(c for c in doc["checks"] if c["id"] == "edge.uplink.location_precision")
    assert check["status"] == "pass" and check["evidence"]["allowed_decimals"] == 3


def test_pseudonyms_are_keyed(tmp_path, sample_log):
    out1, _ = _replay(tmp_path / "a", sample_log)
    out2, _ = _replay(tmp_path / "b", sample_log)  # another device key
    v1 = {r["signals"]["VIN"] for r in _outbound(out1) if "VIN" in r["signals"]}
    v2 = {r["signals"]["VIN"] for r in _outbound(out2) if "VIN" in r["signals"]}
    assert v1 and v2 and v1 != v2


def test_blf_and_candump_give_the_same_result(tmp_path):
    log, blf = tmp_path / "d.log", tmp_path / "d.blf"
    write_log([SAMPLE_DBC], log, 20_000, seed=5)
    write_log([SAMPLE_DBC], blf, 20_000, seed=5)
    _, a = _replay(tmp_path / "a", log)
    _, b = _replay(tmp_path / "b", blf)
    for k in ("frames_total", "frames_decoded", "frames_unknown", "frames_error", "frames_truncated",
              "signals_by_handling"):
        assert a["summary"][k] == b["summary"][k], k


def test_cabin_data_while_sensor_off_is_a_finding(tmp_path):
    log = tmp_path / "off.log"
    # OMS_CabinMedia (0x601, CAN FD): mic status 0 (off) at bits 80-81, audio bytes non-zero
    payload = bytearray(64)
    payload[11:19] = b"\x11" * 8
    log.write_text("".join(f"(1767225600.{i:06d}) can0 601##1{payload.hex().upper()}\n" for i in range(50)))
    _, doc = _replay(tmp_path, log, rc=1)  # a failed check: exit 1
    check = next(c for c in doc["checks"] if c["id"] == "edge.cabin.default_off")
    assert check["status"] == "fail" and check["evidence"]["frames_by_message"]["OMS_CabinMedia"] == 50
    # only cabin frames were seen: the checks about positions and identifiers could not be judged
    status = {c["id"]: c["status"] for c in doc["checks"]}
    assert status["edge.uplink.location_precision"] == status["edge.uplink.no_clear_vin"] == "not_assessed"


@pytest.mark.parametrize("content", [b"", None, b"# a comment only\n"], ids=["zero_bytes", "random_bytes", "comment"])
def test_a_log_with_nothing_decodable_earns_no_pass(tmp_path, content):
    import random

    log = tmp_path / "x.log"
    log.write_bytes(content if content is not None else random.Random(5).randbytes(100_000))
    out, doc = _replay(tmp_path, log, rc=2)  # results.json is written before the error
    status = {c["id"]: c["status"] for c in doc["checks"]}
    assert "pass" not in status.values(), status
    assert status["edge.input.frames"] == "error"
    for cid in ("edge.uplink.location_precision", "edge.uplink.no_clear_vin", "edge.cabin.default_off",
                "edge.uplink.no_cabin_biometric_exterior_media", "edge.spool.no_loss"):
        c = next(c for c in doc["checks"] if c["id"] == cid)
        assert c["status"] == "not_assessed" and "too little evidence" in c["reason"], c
        assert c["criterion"]["minimum"] and c["observed"]
    assert doc["summary"]["warnings"] and doc["subject"]["asset"] == {"kind": "vehicle", "name": "sample_vehicle",
                                                                      "version": ""}
    json.loads((out / "results.json").read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))


def test_bad_inputs_fail_cleanly(tmp_path, sample_log):
    proc = run_cli("edge", "replay", str(tmp_path / "missing.log"), "--dbc", str(SAMPLE_DBC), "--out", str(tmp_path))
    assert proc.returncode == 2 and "missing.log" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("edge", "replay", str(sample_log), "--dbc", str(SAMPLE_DBC), "--out", str(tmp_path / "o"),
                   "--purpose", "spying", "--key-file", str(tmp_path / "k"))
    assert proc.returncode == 2 and "spying" in proc.stderr
    bad_blf = tmp_path / "bad.blf"
    bad_blf.write_bytes(b"NOPE" + bytes(200))
    proc = run_cli("edge", "replay", str(bad_blf), "--dbc", str(SAMPLE_DBC), "--out", str(tmp_path / "o2"),
                   "--key-file", str(tmp_path / "k"))
    assert proc.returncode == 2 and "bad.blf" in proc.stderr and "Traceback" not in proc.stderr


def test_malformed_lines_do_not_distort_the_time_span(tmp_path):
    log = tmp_path / "m.log"
    log.write_text("(1767225600.000000) can0 100#0000800080008000\n"
                   "garbage\n"
                   "(1767225610.000000) can0 100#0000800080008000\n")
    _, doc = _replay(tmp_path, log)
    assert doc["summary"]["rates"]["log_seconds"] == 10.0
    assert doc["summary"]["frames_error_reasons"] == {"malformed": 1}


def test_truncated_log_keeps_what_was_produced(tmp_path):
    blf = tmp_path / "cut.blf"
    write_log([SAMPLE_DBC], blf, 30_000, seed=2)
    raw = blf.read_bytes()
    blf.write_bytes(raw[: int(len(raw) * 0.6)])
    out, doc = _replay(tmp_path, blf, rc=1)  # the damage is a failed check; what was read is kept and uplinked
    assert 10_000 < doc["summary"]["frames_total"] < 30_000
    assert _outbound(out)


def test_parallel_replay_equals_serial(tmp_path):
    """A large candump log replayed by one worker per core gives exactly the serial counts (multi-frame
    transfers cut by a range boundary included), and malformed lines keep their file-wide line numbers."""
    from edge.frames import coalesce
    from edge.parallel import RANGE_BYTES, replay_parallel, worth_it
    from edge.readers import read_log
    from edge.setup import build_agent

    log = tmp_path / "big.log"
    write_log([SAMPLE_DBC], log, 700_000, seed=21, transport=True)
    lines = log.read_bytes().split(b"\n")
    bad_at = [1234, len(lines) // 2, len(lines) - 10]
    for i in bad_at:
        lines[i - 1] = b"this line is not candump"
    log.write_bytes(b"\n".join(lines))
    assert worth_it(log) and log.stat().st_size > 4 * RANGE_BYTES

    def agent(name):
        a, _ = build_agent([SAMPLE_DBC], None, tmp_path / name, consented=["navigation"], key_file=tmp_path / "k.key")
        return a

    serial = agent("serial")
    for chunk in coalesce(read_log(log)):
        serial.process(chunk)
    serial.end_of_input()
    serial.flush()
    parallel = agent("parallel")
    replay_parallel(parallel, log, range_bytes=RANGE_BYTES // 16)  # many boundaries: transfers are cut by some
    s, p = serial.summary(), parallel.summary()
    for k in ("frames_total", "frames_decoded", "frames_unknown", "frames_error", "frames_truncated",
              "frames_error_reasons", "signals_by_category", "signals_by_handling", "dropped_by_reason", "unknown_ids",
              "frames_transport", "transport"):
        assert s[k] == p[k], k
    assert s["transport"]["sessions"]["j1939.completed"] > 100
    assert s["rates"]["log_seconds"] == p["rates"]["log_seconds"]
    assert parallel.frames.malformed_lines == serial.frames.malformed_lines == bad_at
    assert [c["status"] for c in parallel.checks()] == [c["status"] for c in serial.checks()]
    assert len(list((tmp_path / "parallel").glob("*.vdsb"))) == p["uplink"]["batches"] >= 2


def test_a_damaged_blf_fails_readable_keeps_what_was_read_and_exits_1(tmp_path):
    log = tmp_path / "drive.blf"
    write_log([SAMPLE_DBC], log, 20_000, seed=3)
    data = log.read_bytes()
    (tmp_path / "cut.blf").write_bytes(data[: len(data) * 2 // 3])
    _, doc = _replay(tmp_path, tmp_path / "cut.blf", rc=1)
    readable = next(c for c in doc["checks"] if c["id"] == "edge.input.readable")
    assert readable["status"] == "fail" and "truncated BLF" in readable["evidence"]["error"]
    assert 0 < doc["summary"]["frames_total"] < 20_000 and readable["observed"]["frames_read"] > 0


def test_parallel_blf_replay_equals_serial_and_keeps_what_a_damaged_tail_allows(tmp_path):
    """A BLF cut into container ranges (objects straddle containers; the straddler is read by the range it
    starts in) gives exactly the serial counts; cut short, the workers' frames are all kept, the same as a
    serial read's, and the damage is raised after the merge."""
    from edge.frames import coalesce
    from edge.parallel import ranges, replay_parallel
    from edge.readers import read_log
    from edge.run import AgentRun
    from edge.setup import build_agent
    from vehicle_ds.errors import InputError

    log = tmp_path / "big.blf"
    written = write_log([SAMPLE_DBC], log, 300_000, seed=22, transport=True)
    size = log.stat().st_size // 12
    assert len(ranges(log, size)) >= 8

    def agent(name):
        a, _ = build_agent([SAMPLE_DBC], None, tmp_path / name, consented=["navigation"], key_file=tmp_path / "k.key")
        return a

    def serial_of(path, name):  # one pass as the command makes it: damage kept in run.error, then the end
        a = agent(name)
        with AgentRun(a) as run:
            run.feed(coalesce(read_log(path)))
        return a

    serial, parallel = serial_of(log, "serial"), agent("parallel")
    replay_parallel(parallel, log, range_bytes=size)
    s, p = serial.summary(), parallel.summary()
    for k in ("frames_total", "frames_decoded", "frames_unknown", "frames_error", "frames_error_reasons",
              "signals_by_category", "signals_by_handling", "unknown_ids", "frames_transport", "transport"):
        assert s[k] == p[k], k
    assert s["frames_total"] == written  # every frame read once: no straddling object lost or read twice
    assert s["transport"]["sessions"]["j1939.completed"] > 50
    cut = tmp_path / "cut.blf"
    cut.write_bytes(log.read_bytes()[: log.stat().st_size * 2 // 3])
    serial_cut, parallel_cut = serial_of(cut, "serial_cut"), agent("parallel_cut")
    with pytest.raises(InputError, match="truncated BLF"):
        replay_parallel(parallel_cut, cut, range_bytes=size)
    assert 0 < parallel_cut.frames.total == serial_cut.frames.total < serial.frames.total
