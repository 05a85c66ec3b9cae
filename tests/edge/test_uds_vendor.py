"""Diagnostics as vendors define them, on a real EV: CSS Electronics' Hyundai Kona EV UDS log (MIT, see
tests/data/css_electronics/README.md) with both of their UDS DBC conventions. The responses on 0x7BB are
ISO-TP because the DBC declares that message longer than 8 bytes; the payload layout (starting at the service
id, or one length byte before it) is read from where the DBC puts its service selector. An independent
reassembler written here from the vendor's description (first frame from its 3rd byte, consecutive frames
from their 2nd) and cantools decode the same log: the state of charge and temperatures must agree, record
for record."""

from __future__ import annotations

import json
from pathlib import Path

import cantools
import pytest

from edge.readers import read_log
from edge.simulate import Frame, write_candump
from tests.conftest import run_cli

DATA = Path(__file__).resolve().parents[1] / "data" / "css_electronics"
LOG = DATA / "hyundai_kona_ev_uds.MF4"


def _independent(dbc: Path, vendor: bool) -> dict[str, list[float]]:
    """Reassemble by the vendor's own description and decode with cantools: per signal, values in time order."""
    db = cantools.database.load_file(dbc)
    ids = {m.frame_id for m in db.messages}
    frames = []
    for c in read_log(LOG):
        for i in range(len(c)):
            if int(c.can_id[i]) in ids:
                frames.append((float(c.t[i]), int(c.can_id[i]), bytes(c.data[i, :int(c.length[i])])))
    frames.sort(key=lambda f: f[0])
    open_: dict[int, tuple[int, bytearray]] = {}
    out: dict[str, list[float]] = {}
    for _, cid, d in frames:
        kind = d[0] >> 4
        if kind == 1:
            size = ((d[0] & 0xF) << 8) | d[1]
            open_[cid] = (size, bytearray(d[1:] if vendor else d[2:]))
        elif kind == 2 and cid in open_:
            open_[cid][1].extend(d[1:])
        else:
            continue
        size, buf = open_[cid]
        if len(buf) >= size + vendor:
            del open_[cid]
            msg = db.get_message_by_frame_id(cid)
            body = bytes(buf[:size + vendor]).ljust(msg.length, b"\0")
            for k, v in msg.decode(body, decode_choices=False).items():
                if k not in ("service", "response"):
                    out.setdefault(f"{msg.name}.{k}", []).append(float(v))
    return out


def _replayed(dbc: Path, tmp: Path) -> tuple[dict, dict[str, list[float]]]:
    out = tmp / dbc.stem
    proc = run_cli("edge", "replay", str(LOG), "--dbc", str(dbc), "--out", str(out), "--key-file", str(tmp / "k"))
    assert proc.returncode in (0, 1), proc.stderr
    recs = [json.loads(x) for x in run_cli("edge", "inspect", str(out), "--jsonl").stdout.splitlines()]
    got: dict[str, list[float]] = {}
    for r in sorted(recs, key=lambda r: r["t"]):
        for k, v in r["signals"].items():
            if k not in ("service", "response"):
                got.setdefault(f"{r['message']}.{k}", []).append(float(v))
    return json.loads((out / "results.json").read_text()), got


@pytest.mark.parametrize(("dbc", "layout"), [("tp_uds_hyundai_soc.dbc", "bare"), ("tp_uds.dbc", "vendor")])
def test_a_real_evs_uds_responses_decode_as_the_vendors_convention_says(tmp_path, dbc, layout):
    doc, got = _replayed(DATA / dbc, tmp_path)
    t = doc["summary"]["transport"]
    assert t["isotp_ids"]["from_dbc"] == ["0x7BB"]  # not in the built-in range: the DBC says it is ISO-TP
    assert all(v.startswith(layout) for v in t["isotp_layouts"].values()), t["isotp_layouts"]
    expected = _independent(DATA / dbc, vendor=layout == "vendor")
    assert got == expected
    soc = got["Battery.M_SID_0x220101_StateOfChargeBMS"]
    assert len(soc) == 120 and set(soc) == {50.0}  # the Kona's state of charge, 50 %
    assert set(got["Temperature.M_SID_0x220100_OutdoorTemp"]) == {7.0}


def test_a_dbc_frame_on_a_diagnostic_id_is_decoded_as_a_frame_and_undocumented_traffic_counts_as_unknown(tmp_path):
    dbc = tmp_path / "obd.dbc"
    dbc.write_text('VERSION ""\nNS_ :\nBS_:\nBU_:\nBO_ 2024 ECU_Status: 8 Vector__XXX\n'
                   ' SG_ CoolantTemp : 0|8@1+ (1,-40) [-40|215] "degC" Vector__XXX\n'
                   ' SG_ EngineLoad : 8|8@1+ (0.392157,0) [0|100] "%" Vector__XXX\n')
    log = tmp_path / "diag.log"
    frames = [Frame(0.01 * i, 0x7E8, False, False, bytes([0x10 + i % 3, 0x20, 0x10, 0x03, 0x41, 0x0C, 0, 0])) for i in range(50)]
    # ISO-TP on 0x7E9, which nobody describes: a first frame and its consecutive frame
    frames += [Frame(1.0, 0x7E9, False, False, bytes([0x10, 0x0A, 0xAB, 0xCD, 0xEF, 1, 2, 3])),
               Frame(1.01, 0x7E9, False, False, bytes([0x21, 4, 5, 6, 7, 0, 0, 0]))]
    write_candump(log, iter(frames))
    out = tmp_path / "o"
    proc = run_cli("edge", "replay", str(log), "--dbc", str(dbc), "--out", str(out), "--key-file", str(tmp_path / "k"))
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads((out / "results.json").read_text())
    s = doc["summary"]
    assert s["transport"]["isotp_ids"]["dbc_defines_as_frames"] == ["0x7E8"]
    assert s["frames_decoded"] == 50  # every 0x7E8 frame decoded by its DBC, none taken for ISO-TP
    recs = [json.loads(x) for x in run_cli("edge", "inspect", str(out), "--jsonl").stdout.splitlines()]
    temps = sorted({r["signals"]["CoolantTemp"] for r in recs if "CoolantTemp" in r["signals"]})
    assert temps == [-24.0, -23.0, -22.0]  # 0x10..0x12 - 40
    assert {"id": "0x7E9", "extended": False, "frames": 2} in s["unknown_ids"]


def test_a_j1939_payload_matches_its_dbc_message_by_pgn_without_the_j1939_attribute(tmp_path):
    from edge.simulate_transport import j1939_bam

    dbc = tmp_path / "plain.dbc"  # no J1939PG frame format: a plain extended-id DBC, as many J1939 files are
    dbc.write_text('VERSION ""\nNS_ :\nBS_:\nBU_:\nBO_ 2566852641 PackTemps: 12 Vector__XXX\n'
                   ' SG_ CellTempMax : 0|8@1+ (1,-40) [-40|215] "degC" Vector__XXX\n'
                   ' SG_ CellTempMin : 88|8@1+ (1,-40) [-40|215] "degC" Vector__XXX\n')
    payload = bytes([65] + [0] * 10 + [55])  # 25 degC max, 15 degC min, twelve bytes: a BAM session
    log = tmp_path / "bam.log"
    write_candump(log, iter(j1939_bam(0.0, 0xFF10, payload, sa=0x21)))
    out = tmp_path / "o"
    proc = run_cli("edge", "replay", str(log), "--dbc", str(dbc), "--out", str(out), "--key-file", str(tmp_path / "k"))
    assert proc.returncode in (0, 1), proc.stderr
    s = json.loads((out / "results.json").read_text())["summary"]
    assert s["transport"]["j1939_matched_by_pgn_only"] == ["PackTemps"]  # said, not silent
    recs = [json.loads(x) for x in run_cli("edge", "inspect", str(out), "--jsonl").stdout.splitlines()]
    assert [r["signals"] for r in recs if r["message"] == "PackTemps"] == [{"CellTempMax": 25.0, "CellTempMin": 15.0}]


@pytest.mark.parametrize("cut", [50_000, 50_001, 79_830])
def test_a_canedge_file_cut_short_is_reported_with_its_offset_and_loses_no_complete_frame(tmp_path, cut):
    """CANedge files are unfinalised (their last data block runs to the end of the file): cut short, they used
    to read as a shorter log with exit 0. The cut record is named by its byte offset, every complete record
    before it is delivered (as many as the whole file holds before that offset), exit 1."""
    short = tmp_path / "cut.MF4"
    short.write_bytes(LOG.read_bytes()[:cut])
    out = tmp_path / "o"
    proc = run_cli("edge", "replay", str(short), "--dbc", str(DATA / "tp_uds.dbc"), "--out", str(out),
                   "--key-file", str(tmp_path / "k"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    doc = json.loads((out / "results.json").read_text())
    readable = next(c for c in doc["checks"] if c["id"] == "edge.input.readable")
    assert readable["status"] == "fail" and "truncated MF4: the last record at byte" in readable["evidence"]["error"]
    whole = sum(len(c) for c in read_log(LOG))
    assert 0 < doc["summary"]["frames_total"] < whole
    from edge.readers.mf4_tail import check_tail

    tail = check_tail(short)
    assert tail is not None and tail.complete_to <= cut and check_tail(LOG) is None
