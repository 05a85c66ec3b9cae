"""Fleet audit scaling: LOGS generated logs (candump and BLF, several vehicles, with multi-frame traffic)
audited by the edge pipeline on a Dask LocalCluster of 1 worker and of 2 workers in the same run, and by a
single process with no Dask at all. The clusters are started and warmed (the pipeline imported) before
the clock starts: a fleet's cluster is up before its audits run. Prints frames/s of each, the scaling efficiency (2-worker rate /
(2 x 1-worker rate), target >= 0.8) and the per-worker rate against the single process (target >= 0.9:
the distribution overhead stays small). The last line is JSON.

    python benchmarks/fleet_audit.py [logs] [frames_per_log]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.fleet import list_logs, run_audit
from edge.frames import coalesce
from edge.readers import read_log
from edge.setup import build_agent
from edge.simulate import write_log

LOGS = int(sys.argv[1]) if len(sys.argv) > 1 else 16
FRAMES = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
DBC = Path(__file__).resolve().parent.parent / "vehicle_ds" / "data" / "sample_vehicle.dbc"


def main() -> dict:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for i in range(LOGS):
            v = tmp / "logs" / f"car{i % 4}"
            v.mkdir(parents=True, exist_ok=True)
            write_log([DBC], v / f"d{i}.{'blf' if i % 2 else 'log'}", FRAMES, seed=i, transport=True)
        logs = list_logs([str(tmp / "logs")])
        key = tmp / "k.key"
        t0 = time.perf_counter()
        frames = 0
        for path, vehicle in logs:  # one process, no Dask
            agent, _ = build_agent([DBC], None, tmp / "single" / vehicle / Path(path).name, key_file=key)
            for c in coalesce(read_log(path)):
                agent.process(c)
            agent.end_of_input()
            agent.flush()
            frames += agent.frames.total
        single = frames / (time.perf_counter() - t0)
        rates = {}
        from distributed import Client, LocalCluster

        for n in (1, 2):
            # a warm cluster (started, the pipeline imported by a first small log), as a fleet's would be
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                    Client(cluster) as client:
                run_audit(logs[:n], [(None, DBC)], tmp / f"warm{n}", policy=None, purposes=[], key_file=key,
                          client=client)
                t0 = time.perf_counter()
                res = run_audit(logs, [(None, DBC)], tmp / f"out{n}", policy=None, purposes=[], key_file=key,
                                client=client)
                dt = time.perf_counter() - t0
            got = sum(r["frames"] for r in res["results"])
            assert got == frames, (got, frames, [r["error"] for r in res["results"] if r["error"]][:3])
            rates[n] = frames / dt
    out = {"name": "fleet_audit", "logs": LOGS, "frames": frames, "single_process_fps": round(single),
           "one_worker_fps": round(rates[1]), "two_workers_fps": round(rates[2]),
           "scaling_efficiency": round(rates[2] / (2 * rates[1]), 2),
           "per_worker_vs_single": round(rates[1] / single, 2)}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
