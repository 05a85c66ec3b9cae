"""The fleet audit on a real Dask scheduler and two workers started on loopback: 20 logs of several
vehicles (candump and BLF) merged exactly as serial replays sum, a worker killed mid-run, an unreadable log
reported; and the LocalCluster default."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from edge.frames import coalesce
from edge.readers import read_log
from edge.run import AgentRun
from edge.setup import build_agent
from edge.simulate import write_log
from tests.conftest import SAMPLE_DBC, run_cli

pytest.importorskip("distributed")
KEYS = ("frames_total", "frames_decoded", "frames_unknown", "frames_error", "frames_transport",
        "signals_by_category", "signals_by_handling", "dropped_by_reason", "transport")


@pytest.fixture(scope="module")
def fleet_logs(tmp_path_factory):
    root = tmp_path_factory.mktemp("fleet")
    logs = root / "logs"
    for v in range(4):
        d = logs / f"car{v}"
        d.mkdir(parents=True)
        for k in range(5):
            write_log([SAMPLE_DBC], d / f"d{k}.{'blf' if k % 2 else 'log'}", 4_000, seed=100 * v + k, transport=True)
    (logs / "car0" / "broken.blf").write_bytes(b"NOPE" + bytes(200))
    return root


def _serial(root: Path) -> dict:
    """Every readable log replayed alone, the counts summed: what the fleet audit must equal."""
    total = None
    for log in sorted((root / "logs").rglob("*")):
        if not log.is_file():
            continue
        agent, _ = build_agent([SAMPLE_DBC], None, root / "serial" / log.parent.name / log.name,
                               key_file=root / "k.key", device=log.parent.name)
        with AgentRun(agent) as run:  # a damaged log: what was read before the damage counts
            run.feed(coalesce(read_log(log)))
        if total is None:
            total = agent
        else:
            total.merge(agent.state())
    return total.summary()


def _outbound(folder: Path) -> tuple[list[str], dict[tuple[str, str], int]]:
    """Every record the spools under ``folder`` would send, per device and record (a multiset: a batch sent
    twice counts twice), and every batch's (device, seq)."""
    from collections import Counter

    from vehicle_ds.uplink_format import decode_batch_bytes, records

    seen, recs = [], Counter()
    for f in sorted(folder.rglob("*.vdsb")):
        doc = decode_batch_bytes(f.read_bytes())
        seen.append(f"{doc['device']}#{doc['seq']}")
        recs.update((doc["device"], json.dumps(r, sort_keys=True)) for r in records(doc))
    return seen, dict(recs)


def _cluster(tmp: Path):
    port = 20000 + os.getpid() % 20000
    # each in a session of its own, so killing it kills the worker process a nanny spawns too: an orphaned
    # worker would keep trying to reach the dead scheduler and slow every later test
    sched = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                              "--port", str(port), "--no-dashboard"], stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             start_new_session=True)
    workers = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}",
                                 "--nthreads", "1", "--no-dashboard", "--local-directory", str(tmp / f"w{i}")],
                                stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
               for i in range(2)]
    from distributed import Client

    for _ in range(200):
        try:
            with Client(f"tcp://127.0.0.1:{port}", timeout=2) as c:
                if len(c.scheduler_info()["workers"]) == 2:
                    break
        except OSError:
            pass
        time.sleep(0.1)
    return port, sched, workers


def test_fleet_audit_on_a_scheduler_equals_serial_replays_even_when_a_worker_dies(fleet_logs, tmp_path):
    temp_before = set(Path(tempfile.gettempdir()).glob("vehicle-ds-fleet/*"))
    port, sched, workers = _cluster(tmp_path)
    try:
        out = tmp_path / "out"
        proc = subprocess.Popen([sys.executable, "-m", "vehicle_ds.cli", "fleet", "audit", str(fleet_logs / "logs"),
                                 "--dbc", str(SAMPLE_DBC), "--out", str(out), "--key-file", str(fleet_logs / "k.key"),
                                 "--scheduler", f"tcp://127.0.0.1:{port}"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        os.killpg(workers[0].pid, signal.SIGKILL)  # mid-run: its logs are retried on the other worker
        _, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 1), err
        doc = json.loads((out / "results.json").read_text())
    finally:
        for p in (*workers, sched):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    s = doc["summary"]
    serial = _serial(fleet_logs)
    for k in KEYS:
        assert s[k] == serial[k], k
    assert [u["path"].endswith("broken.blf") for u in s["unreadable"]] == [True]  # reported, never dropped
    assert len(s["logs"]) == 21 and sorted(p.name for p in (out / "vehicles").iterdir()) == [f"car{v}" for v in range(4)]
    per = [json.loads((out / "vehicles" / f"car{v}" / "results.json").read_text())["summary"]["frames_total"]
           for v in range(4)]
    assert sum(per) == s["frames_total"]
    assert {c["category"]: c["vehicles"] for c in s["datasets"]["categories"]}["location"] == 4
    # exactly once: what would leave equals the serial replays' outbound record for record, no batch twice
    # under two ids, no seq used twice for one vehicle, and a killed attempt's spool is gone
    seqs, fleet_out = _outbound(out / "uplink")
    _, serial_out = _outbound(fleet_logs / "serial")
    assert fleet_out == serial_out and sum(fleet_out.values()) > 0
    assert len(seqs) == len(set(seqs))
    assert not list((out / "uplink").rglob("*.attempt-*")) and not (out / ".inputs").exists()
    assert set(Path(tempfile.gettempdir()).glob("vehicle-ds-fleet/*")) <= temp_before  # no key copied to /tmp


def test_local_cluster_is_the_default_and_a_log_without_frames_is_flagged(fleet_logs, tmp_path):
    logs = tmp_path / "logs" / "car1"
    shutil.copytree(fleet_logs / "logs" / "car1", logs)
    (logs / "empty.log").write_text("")  # read cleanly, holds nothing: no evidence of car1
    out = tmp_path / "out"
    proc = run_cli("fleet", "audit", str(logs), "--dbc", str(SAMPLE_DBC), "--out", str(out),
                   "--key-file", str(fleet_logs / "k.key"), "--workers", "2", timeout=300)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads((out / "results.json").read_text())
    assert doc["settings"]["scheduler"] == "local" and len(doc["summary"]["logs"]) == 6
    assert [e["path"].endswith("empty.log") for e in doc["summary"]["empty"]] == [True]
    assert "no frame in" in proc.stderr and "empty.log" in proc.stderr


def test_a_large_candump_log_split_across_workers_equals_its_serial_replay(tmp_path):
    """One log cut into many newline-aligned ranges (split at 256 kB here, 64 MB by default), with multi-frame
    transfers crossing the cuts and malformed lines: the merged counts and line numbers are the serial ones."""
    from edge.fleet import tasks

    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "big.log"
    write_log([SAMPLE_DBC], log, 60_000, seed=77, transport=True)
    with open(log, "ab") as f:
        f.write(b"(1.0) can0 12#ZZ\n")  # a malformed line at the very end: its line number must survive the split
    assert len(tasks([(str(log), "big")], 256 * 1024)) >= 8
    out = tmp_path / "out"
    proc = run_cli("fleet", "audit", str(log), "--dbc", str(SAMPLE_DBC), "--out", str(out), "--key-file",
                   str(tmp_path / "k.key"), "--workers", "2", "--split-mb", "0.25", timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads((out / "results.json").read_text())
    agent, _ = build_agent([SAMPLE_DBC], None, tmp_path / "serial", key_file=tmp_path / "k.key", device="big")
    for c in coalesce(read_log(log)):
        agent.process(c)
    agent.end_of_input()
    agent.flush()
    serial = agent.summary()
    for k in KEYS:
        assert doc["summary"][k] == json.loads(json.dumps(serial[k])), k
    assert doc["summary"]["logs"][0]["ranges"] >= 8
    assert doc["summary"]["frames_error_reasons"] == json.loads(json.dumps(serial["frames_error_reasons"]))

    def malformed(checks):
        return next(c["evidence"]["malformed_lines"] for c in checks if c["id"] == "edge.frames.errors")

    assert malformed(doc["checks"]) == malformed(agent.checks()) and malformed(agent.checks())


def test_each_audit_ships_its_inputs_under_a_key_of_its_own(fleet_logs, tmp_path):
    """Successive audits on one cluster: each ships its DBC, policy and key as one future with a unique key, so
    one audit releasing its inputs never cancels the next one's tasks ("lost dependencies" before the fix,
    when the dict's own keys "dbc", "key", ... were the Dask keys of every audit); and four audits in a row
    on one warm worker all finish."""
    from distributed import Client, Future, LocalCluster

    from edge.fleet import list_logs, run_audit, ship_inputs
    from edge.keys import KeyRing

    KeyRing.from_file(tmp_path / "k.key")
    logs = list_logs([str(fleet_logs / "logs" / "car2")])
    shipped = {"dbc": [(None, "v.dbc", b"VERSION")], "policy": b"", "key": b"k", "purposes": []}
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        a, b = ship_inputs(client, shipped), ship_inputs(client, shipped)
        assert isinstance(a, Future) and a.key != b.key and not {a.key, b.key} & set(shipped)
        frames = []
        for k in range(4):
            res = run_audit(logs, [(None, SAMPLE_DBC)], tmp_path / f"o{k}", policy=None, purposes=[],
                            key_file=tmp_path / "k.key", client=client)
            assert not [r["error"] for r in res["results"] if r["error"]]
            frames.append(sum(r["frames"] for r in res["results"]))
    assert len(set(frames)) == 1 and frames[0] > 0


def test_a_retried_task_leaves_one_copy_and_a_killed_attempt_leaves_none(fleet_logs, tmp_path):
    """Two attempts of one task both finishing (the first's result lost with its worker) keep one replay's
    batches; an attempt killed before it finished leaves a spool folder the audit discards."""
    from edge.fleet import ATTEMPT, audit_log, discard_attempts

    log = fleet_logs / "logs" / "car1" / "d0.log"
    shipped = {"dbc": [(None, SAMPLE_DBC.name, SAMPLE_DBC.read_bytes())], "policy": b"",
               "key_file": str(fleet_logs / "k.key"), "purposes": []}
    out = tmp_path / "out"
    for _ in range(2):
        audit_log(str(log), "car1", shipped, str(out), task=7)
    killed = out / "uplink" / "car1" / f"d1.log{ATTEMPT}dead0001"
    killed.mkdir(parents=True)
    (killed / "000000000000-x.vdsb").write_bytes(b"partial")
    assert discard_attempts(out) == [str(killed.relative_to(out))] and not killed.exists()
    seqs, once = _outbound(out / "uplink")
    agent, _ = build_agent([SAMPLE_DBC], None, tmp_path / "serial", key_file=fleet_logs / "k.key", device="car1")
    for c in coalesce(read_log(log)):
        agent.process(c)
    agent.end_of_input()
    agent.flush()
    assert once == _outbound(tmp_path / "serial")[1]
    assert all(int(s.split("#")[1]) >> 32 == 7 for s in seqs)  # numbered under its task
