"""The live agent's end: a multi-frame transfer still open when the agent stops is counted as timed out in
the summary and in the checks alike (end of input comes before the summary). python-can's ``virtual`` bus
in one process, so the frames are exactly those sent."""

from __future__ import annotations

import json
import logging
import threading

import can
import pytest

from edge.live import run_live
from edge.simulate_transport import j1939_bam
from tests.conftest import SAMPLE_DBC


def test_a_transfer_open_at_shutdown_is_timed_out_in_both_the_summary_and_the_checks(tmp_path):
    cfg = tmp_path / "edge.toml"
    cfg.write_text(f'[agent]\ndevice_id = "rig"\ndbc = ["{SAMPLE_DBC.as_posix()}"]\n'
                   f'spool_dir = "{(tmp_path / "spool").as_posix()}"\n'
                   f'results = "{(tmp_path / "results.json").as_posix()}"\nkey_file = "{(tmp_path / "k").as_posix()}"\n'
                   'batch_seconds = 60\n[[bus]]\ninterface = "virtual"\nchannel = "vds-shutdown"\n')
    stop, started = threading.Event(), threading.Event()

    class Started(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "edge agent started" in record.getMessage():
                started.set()

    watcher = Started()
    logging.getLogger("vehicle_ds.edge").addHandler(watcher)
    result: dict = {}
    agent = threading.Thread(target=lambda: result.update(run_live(cfg, stop)), daemon=True)
    agent.start()
    # a J1939 broadcast announcing 3 packets, of which only the first is sent: still open at shutdown
    frames = j1939_bam(0.0, 0xFEEC, b"LSGBL5339HF000241", sa=0x17)[:2]
    try:
        assert started.wait(60), "the agent did not start"  # its bus is open: nothing sent from here is lost
        with can.Bus(interface="virtual", channel="vds-shutdown") as bus:
            for f in frames:
                bus.send(can.Message(arbitration_id=f.can_id, data=f.data, is_extended_id=f.extended))
        stop.set()  # at once: the agent takes what its bus already holds before it ends
        agent.join(timeout=60)
    finally:
        logging.getLogger("vehicle_ds.edge").removeHandler(watcher)
    assert not agent.is_alive()
    assert result["frames_total"] == len(frames)
    timed_out = {k: v for k, v in result["transport"]["sessions"].items() if k.endswith("timed_out")}
    assert timed_out and sum(timed_out.values()) == 1, result["transport"]
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["summary"]["transport"]["sessions"] == result["transport"]["sessions"]
    check = next(c for c in doc["checks"] if c["id"] == "edge.transport.sessions")
    assert check["status"] == "warn", check


def _config(tmp_path, bus: str, extra: str = "") -> object:
    cfg = tmp_path / "edge.toml"
    cfg.write_text(f'[agent]\ndevice_id = "rig"\ndbc = ["{SAMPLE_DBC.as_posix()}"]\n'
                   f'spool_dir = "{(tmp_path / "spool").as_posix()}"\n'
                   f'results = "{(tmp_path / "results.json").as_posix()}"\nkey_file = "{(tmp_path / "k").as_posix()}"\n'
                   f'batch_seconds = 60\nsnapshot_seconds = 0.2\n[[bus]]\n{bus}{extra}')
    return cfg


def test_results_are_snapshotted_while_running_and_replaced_at_shutdown(tmp_path):
    """A power cut loses at most one snapshot interval of the account: results.json exists, marked running,
    with the frames counted so far, before the agent stops."""
    cfg = _config(tmp_path, 'interface = "virtual"\nchannel = "vds-snapshot"\n')
    stop = threading.Event()
    agent = threading.Thread(target=lambda: run_live(cfg, stop), daemon=True)
    agent.start()
    results = tmp_path / "results.json"
    try:
        with can.Bus(interface="virtual", channel="vds-snapshot") as bus:
            snap = None
            for _ in range(600):  # until a snapshot counts what was sent (a busy machine may take a while)
                bus.send(can.Message(arbitration_id=0x123, data=bytes(8)))
                if results.exists():
                    doc = json.loads(results.read_text())
                    if doc["summary"].get("snapshot") and doc["summary"]["frames_total"] > 0:
                        snap = doc
                        break
                threading.Event().wait(0.05)
        assert snap is not None and snap["summary"]["snapshot"]["running"] is True
        assert {c["id"] for c in snap["checks"]}  # the checks so far ride along
    finally:
        stop.set()
        agent.join(timeout=60)
    final = json.loads(results.read_text())
    assert "snapshot" not in final["summary"] and final["summary"]["frames_total"] >= snap["summary"]["frames_total"]


def test_a_bitrate_the_interface_would_ignore_is_refused_with_the_way_to_set_it(tmp_path):
    from edge.config import load_config
    from edge.live import open_buses
    from vehicle_ds.errors import InputError

    cfg = load_config(_config(tmp_path, 'interface = "socketcan"\nchannel = "can0"\n', "bitrate = 500000\n"))
    with pytest.raises(InputError, match=r"socketcan:can0.*ip link set can0 type can bitrate 500000"):
        open_buses(cfg)
