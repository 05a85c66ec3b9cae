"""Live: two processes over python-can's udp_multicast, inside a private network namespace.

Every frame sent at 4,000 frames/s for 10 s (VEHICLE_DS_LIVE_SECONDS overrides) is accounted for: counted
by the agent or reported lost by the kernel at the socket, never counted twice, whatever else the machine
does (loss figures live in benchmarks/); SIGTERM flushes and exits cleanly; kill -9 loses no acknowledged
batch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _namespace_available() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _namespace_available(), reason="needs root, unshare and ip for a private network namespace")
def test_two_process_live_agent_accounts_for_every_frame_sent(tmp_path):
    seconds = float(os.environ.get("VEHICLE_DS_LIVE_SECONDS", "10"))
    rate = 4000
    script = ("ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && "
              f"exec {sys.executable} {HERE / 'live_driver.py'} {tmp_path} {seconds} {rate}")
    proc = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True,
                          timeout=seconds + 240, cwd=HERE.parents[1])
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["sent"] == int(seconds * rate)
    assert r["frames_total"] + r["lost_at_socket"] == r["sent"], r  # received + reported lost = sent: no duplicate
    assert r["frames_decoded"] == r["frames_total"] and r["rc"] == 0
    assert r["frames_total"] >= r["sent"] // 2, r  # a loss that large is a broken receiver, not a busy machine
    assert r["records_out"] > 0 and r["cpu_us_per_frame"] is not None
    assert r["checks"]["edge.uplink.no_cabin_biometric_exterior_media"] == "pass"
    assert r["checks"]["edge.uplink.location_precision"] == "pass"
    assert r["kill_spooled"] >= 1 and r["kill_readable"] == r["kill_spooled"]
    assert r["log_lines_json"]
    print(f"live: {r['sent']} frames at {rate}/s, {r['lost_at_socket']} lost at the socket")
