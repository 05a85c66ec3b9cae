"""What real captures and real users do to the replay: several buses with their own DBCs, damaged MF4 files,
other tools' text logs, comment lines, a reused output folder, Ctrl-C, and progress that tracks the file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from edge.frames import concat
from edge.readers import read_blf, read_candump, read_python_can
from edge.simulate import write_log
from tests.conftest import SAMPLE_DBC, run_cli

POWERTRAIN = """VERSION ""
NS_ :
BS_:
BU_: VCU
BO_ 262 VCU_Torque: 8 VCU
 SG_ MotorTorque : 0|16@1- (0.1,0) [-3000|3000] "Nm" Vector__XXX
"""
INFOTAINMENT = """VERSION ""
NS_ :
BS_:
BU_: IVI
BO_ 262 IVI_ChargeStationPosition: 8 IVI
 SG_ ChargeStationLatitude : 0|32@1- (1e-07,0) [-90|90] "deg" Vector__XXX
 SG_ ChargeStationLongitude : 32|32@1- (1e-07,0) [-180|180] "deg" Vector__XXX
"""


def _two_bus_log(path: Path) -> None:
    torque = (1234).to_bytes(2, "little", signed=True) + bytes(6)
    pos = (399042123).to_bytes(4, "little", signed=True) + (1164074123).to_bytes(4, "little", signed=True)
    lines = []
    for i in range(100):
        lines.append(f"(1767225600.{i:06d}) can0 106#{torque.hex().upper()}\n")
        lines.append(f"(1767225600.{i:06d}) can1 106#{pos.hex().upper()}\n")
    path.write_text("".join(lines))


def test_two_dbcs_defining_one_id_are_refused_unless_bound(tmp_path):
    pt, ivi = tmp_path / "powertrain.dbc", tmp_path / "infotainment.dbc"
    pt.write_text(POWERTRAIN)
    ivi.write_text(INFOTAINMENT)
    log = tmp_path / "two.log"
    _two_bus_log(log)
    key = str(tmp_path / "k")
    proc = run_cli("edge", "replay", str(log), "--dbc", str(pt), "--dbc", str(ivi), "--out", str(tmp_path / "a"),
                   "--key-file", key)
    assert proc.returncode == 2 and "powertrain.dbc" in proc.stderr and "infotainment.dbc" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    out = tmp_path / "b"
    proc = run_cli("edge", "replay", str(log), "--dbc", f"can0={pt}", "--dbc", f"can1={ivi}", "--out", str(out),
                   "--purpose", "navigation", "--key-file", key)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "results.json").read_text())
    assert doc["summary"]["frames_decoded"] == 200
    assert [d.get("channel") for d in doc["subject"]["dbc"]] == ["can0", "can1"]
    recs = [json.loads(x) for x in run_cli("edge", "inspect", str(out), "--jsonl").stdout.splitlines()]
    by = {r["message"]: r["signals"] for r in recs}
    assert by["VCU_Torque"]["MotorTorque"] == pytest.approx(123.4)
    assert by["IVI_ChargeStationPosition"]["ChargeStationLatitude"] == pytest.approx(39.904)  # coarsened


def test_a_dbc_bound_to_a_channel_the_log_never_carries_names_the_channels_it_does(tmp_path):
    log = tmp_path / "vcan.log"
    write_log([SAMPLE_DBC], log, 500, seed=3)
    log.write_text(log.read_text().replace(" can0 ", " vcan0 "))
    out = tmp_path / "o"
    proc = run_cli("edge", "replay", str(log), "--dbc", f"can0={SAMPLE_DBC}", "--out", str(out),
                   "--key-file", str(tmp_path / "k"))
    doc = json.loads((out / "results.json").read_text())
    [warning] = [w for w in doc["summary"]["warnings"] if "can0" in w]
    assert "no frame on channel can0" in warning and "vcan0 (" in warning
    assert "no frame on channel can0" in proc.stderr and doc["summary"]["frames_decoded"] == 0
    # bound to the channel it carries: no such warning
    proc = run_cli("edge", "replay", str(log), "--dbc", f"vcan0={SAMPLE_DBC}", "--out", str(tmp_path / "p"),
                   "--key-file", str(tmp_path / "k"))
    doc = json.loads((tmp_path / "p" / "results.json").read_text())
    assert doc["summary"]["frames_decoded"] > 0 and not [w for w in doc["summary"]["warnings"] if "channel" in w]


def test_live_config_binds_dbcs_per_bus(tmp_path):
    from edge.config import load_config

    (tmp_path / "pt.dbc").write_text(POWERTRAIN)
    cfg = tmp_path / "edge.toml"
    cfg.write_text('[agent]\ndevice_id = "gw"\n[[bus]]\ninterface = "virtual"\nchannel = "pt"\ndbc = "pt.dbc"\n'
                   '[[bus]]\ninterface = "virtual"\nchannel = "body"\n')
    assert load_config(cfg).dbc_specs() == [("virtual:pt", tmp_path / "pt.dbc")]


@pytest.fixture(scope="module")
def mf4_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("mf4") / "drive.mf4"
    write_log([SAMPLE_DBC], path, 20_000, seed=8, transport=True)
    return path


def test_mf4_fast_path_equals_python_can(mf4_log):
    from edge.readers.mf4 import read_mf4

    a, b = concat(list(read_mf4(mf4_log))), concat(list(read_python_can(mf4_log)))
    oa, ob = np.lexsort((a.can_id, a.t)), np.lexsort((b.can_id, b.t))
    assert len(a) == len(b) > 20_000
    for f in ("t", "can_id", "extended", "fd", "length", "kind"):
        assert np.array_equal(getattr(a, f)[oa], getattr(b, f)[ob]), f
    assert np.array_equal(a.data[oa][:, :8], b.data[ob][:, :8])


def test_damaged_mf4_is_reported_not_cut_silently(tmp_path, mf4_log):
    data = bytearray(mf4_log.read_bytes())
    corrupt = tmp_path / "corrupt.mf4"
    mid = len(data) // 2
    data[mid:mid + 64] = bytes(b ^ 0x5A for b in data[mid:mid + 64])
    corrupt.write_bytes(bytes(data))
    out = tmp_path / "c"
    proc = run_cli("edge", "replay", str(corrupt), "--dbc", str(SAMPLE_DBC), "--out", str(out),
                   "--key-file", str(tmp_path / "k"))
    doc = json.loads((out / "results.json").read_text())
    readable = next(c for c in doc["checks"] if c["id"] == "edge.input.readable")
    if doc["summary"]["frames_total"]:  # damage after the first data block: what came before is kept
        assert proc.returncode == 1 and "byte" in readable["evidence"]["error"]
    else:
        assert proc.returncode == 2
    assert readable["status"] == "fail" and "Traceback" not in proc.stderr
    cut = tmp_path / "cut.mf4"
    cut.write_bytes(mf4_log.read_bytes()[: len(data) * 2 // 3])
    proc = run_cli("edge", "replay", str(cut), "--dbc", str(SAMPLE_DBC), "--out", str(tmp_path / "t"),
                   "--key-file", str(tmp_path / "k"))
    assert proc.returncode == 2 and "cut.mf4" in proc.stderr and "Traceback" not in proc.stderr
    assert "not a readable MF4" in proc.stderr.strip().splitlines()[-1]  # one line after the summary table


def test_other_tools_text_logs_and_comments(tmp_path):
    busmaster = tmp_path / "busmaster.log"
    busmaster.write_text("***BUSMASTER Ver 3.2.2***\n***PROTOCOL CAN***\n"
                         "11:22:33:4444 Rx 1 0x100 s 8 00 00 00 00 00 00 00 00\n")
    proc = run_cli("edge", "replay", str(busmaster), "--dbc", str(SAMPLE_DBC), "--out", str(tmp_path / "o"),
                   "--key-file", str(tmp_path / "k"))
    assert proc.returncode == 2 and "not a candump -L log" in proc.stderr and "BusMaster" in proc.stderr
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert next(c for c in doc["checks"] if c["id"] == "edge.input.readable")["status"] == "fail"
    commented = tmp_path / "c.log"
    commented.write_text("# recorded on the rig\n; another comment\n"
                         "(1767225600.000000) can0 100#0000800080008000\n# end\n")
    chunk = concat(list(read_candump(commented)))
    assert len(chunk) == 1 and (chunk.kind == 0).all()


def test_readers_report_progress_in_bytes(tmp_path):
    log, blf, asc = tmp_path / "p.log", tmp_path / "p.blf", tmp_path / "p.asc"
    for p in (log, blf, asc):
        write_log([SAMPLE_DBC], p, 40_000, seed=6)
    offsets = [c.offset for c in read_candump(log, chunk_bytes=256 * 1024)]
    assert len(offsets) > 3 and offsets == sorted(offsets) and offsets[-1] == log.stat().st_size
    offsets = [c.offset for c in read_blf(blf, chunk_bytes=256 * 1024)]
    assert len(offsets) > 1 and offsets == sorted(offsets) and 0 < offsets[0] <= blf.stat().st_size
    offsets = [c.offset for c in read_python_can(asc, chunk_frames=10_000)]
    assert 0 < offsets[0] < offsets[1] <= asc.stat().st_size


def test_output_folder_rules(tmp_path):
    log = tmp_path / "d.log"
    write_log([SAMPLE_DBC], log, 5_000, seed=2)
    out, key = tmp_path / "out", str(tmp_path / "k")
    args = ("edge", "replay", str(log), "--dbc", str(SAMPLE_DBC), "--out", str(out), "--key-file", key)
    assert run_cli(*args).returncode == 0
    first = sorted(p.name for p in (out / "batches").iterdir())
    proc = run_cli(*args)
    assert proc.returncode == 2 and "not empty" in proc.stderr and "--force" in proc.stderr
    assert run_cli(*args, "--force").returncode == 0
    assert len(list((out / "batches").iterdir())) == len(first)  # the first run's batches were cleared
    (out / "notes.txt").write_text("mine")
    proc = run_cli(*args, "--force")
    assert proc.returncode == 2 and "notes.txt" in proc.stderr and (out / "notes.txt").exists()
    proc = run_cli(*args[:-4], "--out", str(tmp_path / "fresh"), "--key-file", key, "--resume")
    assert proc.returncode == 2 and "nothing to resume" in proc.stderr


@pytest.mark.parametrize("frames", [300_000, 1_000_000], ids=["serial", "parallel"])
def test_ctrl_c_writes_interrupted_results_and_resume_completes_exactly(tmp_path, frames):
    from edge.parallel import worth_it

    log = tmp_path / "long.log"
    write_log([SAMPLE_DBC], log, frames, seed=12)
    assert worth_it(log) == (frames > 500_000)  # a large candump log is replayed in parallel ranges
    key = str(tmp_path / "k")
    whole = tmp_path / "whole"
    assert run_cli("edge", "replay", str(log), "--dbc", str(SAMPLE_DBC), "--out", str(whole), "--key-file", key).returncode == 0
    expected = json.loads((whole / "results.json").read_text())["summary"]
    out = tmp_path / "out"
    args = [sys.executable, "-m", "vehicle_ds.cli", "edge", "replay", str(log), "--dbc", str(SAMPLE_DBC),
            "--out", str(out), "--key-file", key]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def has_log_open(pid: int) -> bool:
        try:
            return any(os.readlink(fd) == str(log) for fd in Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            return False

    def started() -> bool:
        """The replay or one of its parallel workers has the log open (hashing or reading it: its handler is
        installed), or a first batch is spooled: seen either way, so a busy machine that delays this loop
        past the parent's hashing still interrupts a replay with most of its (1M-frame) log ahead of it."""
        try:
            workers = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        except OSError:
            workers = []
        if has_log_open(proc.pid) or any(has_log_open(int(w)) for w in workers):
            return True
        return (out / "batches").is_dir() and any((out / "batches").iterdir())

    while not started() and proc.poll() is None:
        time.sleep(0.002)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err, err
    part = json.loads((out / "results.json").read_text())["summary"]
    assert part["interrupted"] is True and part["frames_total"] < expected["frames_total"]
    resumed = subprocess.run(args + ["--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    final = json.loads((out / "results.json").read_text())["summary"]
    for k in ("frames_total", "frames_decoded", "frames_unknown", "frames_error", "signals_by_handling"):
        assert final[k] == expected[k], k
    assert "interrupted" not in final and not (out / "resume.state").exists()
