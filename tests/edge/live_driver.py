"""Driver for the two-process live test; runs inside a private network namespace (only ``lo``), so the
multicast frames never leave this machine. Usage: live_driver.py WORKDIR SECONDS RATE.
Prints one JSON line with what was sent, what the agent counted and what the kernel dropped.

The sender writes python-can's own udp_multicast datagrams (``pack_message``) from a plain socket that
receives nothing, so the namespace's UDP receive-buffer drops (``/proc/net/snmp``) are exactly the agent's:
on a busy machine a frame may be lost at the socket, but every frame is either counted or reported lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DBC = ROOT / "dbc" / "sample_vehicle.dbc"
GROUP = "239.74.163.9"
PORT = 43119

SENDER = r'''
import socket, sys, time, can, cantools
from can.interfaces.udp_multicast.utils import pack_message
db = cantools.database.load_file(sys.argv[1])
frames = []
for name, values in [("VCU_VehicleMotion", {"VehSpd": 42.5, "VehLatAActl": 0.1, "VehLongAActl": 0.2, "VehYawRate": 1.0}),
                     ("GNSS_Position", {"GNSS_Latitude": 39.9042123, "GNSS_Longitude": 116.4074321}),
                     ("ABS_WheelSpeeds", {"WhlSpd_FL": 40, "WhlSpd_FR": 40, "WhlSpd_RL": 40, "WhlSpd_RR": 40}),
                     ("DMS_Status", {"DMS_CameraStatus": 1, "DMS_GazeZone": 2, "DMS_DrowsinessLevel": 1,
                                     "DMS_DistractionScore": 5, "DMS_EyelidOpening": 50, "DMS_FaceIdMatch": 7})]:
    m = db.get_message_by_name(name)
    frames.append(can.Message(arbitration_id=m.frame_id, data=m.encode(values), is_extended_id=False))
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
target = (sys.argv[2], int(sys.argv[3]))
packed = [pack_message(f) for f in frames]
rate, seconds = float(sys.argv[4]), float(sys.argv[5])
n = int(rate * seconds)
start = time.perf_counter()
for i in range(n):
    due = start + i / rate
    delay = due - time.perf_counter()
    if delay > 0.0005:
        time.sleep(delay)
    sock.sendto(packed[i % len(packed)], target)
sock.close()
print(n, round(time.perf_counter() - start, 3))
'''


def config(work: Path, interval: float = 5.0) -> Path:
    cfg = work / "edge.toml"
    cfg.write_text(f"""
[agent]
device_id = "rig-1"
dbc = ["{DBC}"]
spool_dir = "spool"
results = "results.json"
key_file = "pseudonym.key"
batch_seconds = {interval}
log_format = "json"

[[bus]]
interface = "udp_multicast"
channel = "{GROUP}"
port = {PORT}
fd = true
""")
    return cfg


def start_agent(cfg: Path, log: Path) -> subprocess.Popen:
    with open(log, "w") as err:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "-m", "vehicle_ds.cli", "edge", "run", "--config", str(cfg)],
                                stderr=err, stdout=subprocess.DEVNULL, cwd=cfg.parent)
    deadline = time.time() + 60
    while time.time() < deadline:
        if "edge agent started" in log.read_text():
            return proc
        if proc.poll() is not None:
            raise SystemExit(f"agent exited early: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("agent did not start")


def udp_receive_drops() -> int:
    """Datagrams the kernel dropped for a full receive buffer, in this network namespace."""
    lines = [ln.split() for ln in Path("/proc/net/snmp").read_text().splitlines() if ln.startswith("Udp:")]
    return int(lines[1][lines[0].index("RcvbufErrors")])


def wait_drained(port: int, timeout: float = 120) -> None:
    """Until the agent has read every datagram queued on its socket (rx_queue 0 in /proc/net/udp)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        queued = [int(f[4].split(":")[1], 16) for f in (ln.split() for ln in
                  Path("/proc/net/udp").read_text().splitlines()[1:]) if int(f[1].split(":")[1], 16) == port]
        if queued and not any(queued):
            return
        time.sleep(0.1)


def send(rate: float, seconds: float) -> int:
    out = subprocess.run([sys.executable, "-c", SENDER, str(DBC), GROUP, str(PORT), str(rate), str(seconds)],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def main() -> None:
    work, seconds, rate = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    # 1. clean run: everything sent is counted, then SIGTERM flushes and exits 0
    cfg = config(work)
    agent = start_agent(cfg, work / "agent.log")
    drops_before = udp_receive_drops()
    sent = send(rate, seconds)
    wait_drained(PORT)
    time.sleep(0.5)  # the agent's receive thread hands its last frames to the decoder
    lost = udp_receive_drops() - drops_before
    agent.send_signal(signal.SIGTERM)
    rc = agent.wait(timeout=60)
    results = json.loads((work / "results.json").read_text())
    s = results["summary"]
    # 2. kill -9 while running: every acknowledged batch on the spool stays complete and readable
    kill_dir = work / "kill"
    kill_dir.mkdir()
    cfg2 = config(kill_dir, interval=0.5)
    agent2 = start_agent(cfg2, kill_dir / "agent.log")
    send(rate, 3.0)
    os.kill(agent2.pid, signal.SIGKILL)
    agent2.wait(timeout=30)
    sys.path.insert(0, str(ROOT))
    from edge.batch import decode_batch_bytes, records

    spooled = sorted((kill_dir / "spool").glob("*.vdsb"))
    readable = sum(1 for p in spooled if sum(1 for _ in records(decode_batch_bytes(p.read_bytes()))) > 0)
    print(json.dumps({"sent": sent, "lost_at_socket": lost, "rc": rc, "frames_total": s["frames_total"],
                      "frames_decoded": s["frames_decoded"],
                      "records_out": s["uplink"]["records"], "cpu_us_per_frame": s["rates"]["cpu_us_per_frame"],
                      "checks": {c["id"]: c["status"] for c in results["checks"]},
                      "kill_spooled": len(spooled), "kill_readable": readable,
                      "log_lines_json": all(line.startswith("{") for line in
                                            (work / "agent.log").read_text().splitlines() if line.strip())}))


if __name__ == "__main__":
    main()
