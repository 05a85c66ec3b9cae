"""Live CPU per frame: the edge agent (`vehicle-ds edge run`) against a bare python-can receiver on the same
udp_multicast interface, at the same rate, in one run. Needs root and ``unshare`` (a private network namespace
with only ``lo``, so no frame leaves this machine); it re-executes itself inside one.

    python benchmarks/edge_live.py [RATE] [SECONDS]      (default 6000 frames/s for 10 s)

Bare receiver: ``can.Bus(interface="udp_multicast").recv()`` in a loop, CPU time from the first frame to the
last. Agent: the summary's ``rates.cpu_us_per_frame`` (its process CPU over the frames it counted). Frames the
kernel dropped for a full socket buffer are counted for each (``/proc/net/snmp`` RcvbufErrors), never silent.
Last line: {"name": "edge_live", "rate", "bare_cpu_us_per_frame", "agent_cpu_us_per_frame", "cpu_ratio",
"bare_lost", "agent_lost", ...}."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BARE = r'''
import sys, time, can
bus = can.Bus(interface="udp_multicast", channel=sys.argv[1], port=int(sys.argv[2]), fd=True)
want = int(sys.argv[3])
print("ready", flush=True)
n, t_first, c_first = 0, None, None
last = time.monotonic()
while n < want and time.monotonic() - last < 3.0:
    msg = bus.recv(timeout=0.2)
    if msg is None:
        continue
    if t_first is None:
        t_first, c_first = time.monotonic(), time.process_time()
    n += 1
    last = time.monotonic()
cpu = time.process_time() - (c_first or time.process_time())
bus.shutdown()
print(n, cpu)
'''


def _inner(rate: float, seconds: float) -> dict:
    from tests.edge.live_driver import GROUP, PORT, config, send, start_agent, udp_receive_drops, wait_drained

    want = int(rate * seconds)
    out: dict = {"name": "edge_live", "rate": rate, "seconds": seconds, "sent_each": want}
    bare = subprocess.Popen([sys.executable, "-c", BARE, GROUP, str(PORT), str(want)], stdout=subprocess.PIPE,
                            text=True)
    assert bare.stdout is not None and bare.stdout.readline().strip() == "ready"
    drops = udp_receive_drops()
    send(rate, seconds)
    n, cpu = bare.communicate(timeout=120)[0].split()
    out.update(bare_frames=int(n), bare_lost=udp_receive_drops() - drops,
               bare_cpu_us_per_frame=round(float(cpu) / max(int(n) - 1, 1) * 1e6, 2))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cfg = config(work)
        agent = start_agent(cfg, work / "agent.log")
        drops = udp_receive_drops()
        send(rate, seconds)
        wait_drained(PORT)
        time.sleep(0.5)
        lost = udp_receive_drops() - drops
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=60)
        s = json.loads((work / "results.json").read_text())["summary"]
    out.update(agent_frames=s["frames_total"], agent_lost=lost, agent_cpu_us_per_frame=s["rates"]["cpu_us_per_frame"])
    out["cpu_ratio"] = round(out["agent_cpu_us_per_frame"] / out["bare_cpu_us_per_frame"], 2)
    return out


def main() -> None:
    rate = float(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "--inner" else 6000.0
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[1] != "--inner" else 10.0
    if "--inner" in sys.argv:
        print(json.dumps(_inner(float(sys.argv[2]), float(sys.argv[3]))))
        return
    script = ("ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && "
              f"exec {sys.executable} {Path(__file__).resolve()} --inner {rate} {seconds}")
    proc = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True, cwd=ROOT,
                          timeout=seconds * 2 + 300)
    sys.stderr.write(proc.stderr[-3000:])
    print(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else json.dumps({"error": proc.returncode}))


if __name__ == "__main__":
    main()
