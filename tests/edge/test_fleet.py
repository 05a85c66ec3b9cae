"""The fleet audit on a real Dask scheduler and two workers started on loopback: 20 logs of several
vehicles (candump and BLF) merged exactly as serial replays sum, a worker killed mid-run, an unreadable log
reported; and the LocalCluster default."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge.frames import coalesce
from edge.readers import read_log
from edge.setup import build_agent
from edge.simulate import write_log
from tests.conftest import SAMPLE_DBC, run_cli
from vehicle_ds.errors import InputError

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
        try:
            for c in coalesce(read_log(log)):
                agent.process(c)
        except InputError:
            pass
        agent.end_of_input()
        agent.flush()
        if total is None:
            total = agent
        else:
            total.merge(agent.state())
    return total.summary()


def _cluster(tmp: Path):
    port = 20000 + os.getpid() % 20000
    sched = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                              "--port", str(port), "--no-dashboard"], stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    workers = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}",
                                 "--nthreads", "1", "--no-dashboard", "--local-directory", str(tmp / f"w{i}")],
                                stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL) for i in range(2)]
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
    port, sched, workers = _cluster(tmp_path)
    try:
        out = tmp_path / "out"
        proc = subprocess.Popen([sys.executable, "-m", "vehicle_ds.cli", "fleet", "audit", str(fleet_logs / "logs"),
                                 "--dbc", str(SAMPLE_DBC), "--out", str(out), "--key-file", str(fleet_logs / "k.key"),
                                 "--scheduler", f"tcp://127.0.0.1:{port}"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        workers[0].send_signal(signal.SIGKILL)  # mid-run: its logs are retried on the other worker
        _, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 1), err
        doc = json.loads((out / "results.json").read_text())
    finally:
        for p in (*workers, sched):
            p.kill()
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


def test_local_cluster_is_the_default(fleet_logs, tmp_path):
    out = tmp_path / "out"
    proc = run_cli("fleet", "audit", str(fleet_logs / "logs" / "car1"), "--dbc", str(SAMPLE_DBC), "--out", str(out),
                   "--key-file", str(fleet_logs / "k.key"), "--workers", "2", timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads((out / "results.json").read_text())
    assert doc["settings"]["scheduler"] == "local" and len(doc["summary"]["logs"]) == 5
