"""``vehicle-ds fleet audit``: a fleet's logs replayed by the edge agent's own pipeline on Dask workers
(``dask.distributed``: a LocalCluster of processes by default, or an existing scheduler by address), merged
exactly. The DBCs, the policy and the pseudonymisation key are shipped to the workers once (scattered);
a worker that dies is replaced and its logs retried (Dask's retries); a log that cannot be read is reported
per file, never dropped. Counts are sums, so the merge equals the sum of serial replays exactly."""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from vehicle_ds.errors import InputError

LOG_SUFFIXES = (".log", ".blf", ".asc", ".trc", ".csv", ".mf4")


def list_logs(items: list[str]) -> list[tuple[str, str]]:
    """(path, vehicle) pairs from files, folders, globs, or a manifest CSV with ``path,vehicle`` columns; the
    vehicle defaults to the folder a log sits in (one folder per vehicle), else its file stem."""
    out: list[tuple[str, str]] = []
    for item in items:
        p = Path(item)
        if p.suffix.lower() == ".csv" and p.is_file() and p.read_text("utf-8").startswith("path,"):
            with open(p, newline="", encoding="utf-8") as f:
                out += [(str((p.parent / r["path"]) if not Path(r["path"]).is_absolute() else r["path"]),
                         r.get("vehicle") or Path(r["path"]).stem) for r in csv.DictReader(f)]
        elif p.is_dir():
            out += [(str(f), f.parent.name if f.parent != p else f.stem) for f in sorted(p.rglob("*"))
                    if f.suffix.lower() in LOG_SUFFIXES]
        elif any(ch in item for ch in "*?["):
            out += [(str(f), f.stem) for f in sorted(Path().glob(item))]
        elif p.exists():
            out.append((str(p), p.stem))
        else:
            raise InputError("no such log, folder or manifest", path=item)
    if not out:
        raise InputError("no logs to audit")
    return out


def _materialise(name: str, data: bytes) -> Path:
    """A shipped file, written once per worker process (keyed by content)."""
    d = Path(tempfile.gettempdir()) / "vehicle-ds-fleet"
    d.mkdir(exist_ok=True)
    p = d / f"{hashlib.sha256(data).hexdigest()[:16]}-{name}"
    if not p.exists():
        tmp = p.with_suffix(p.suffix + f".{os.getpid()}")
        tmp.write_bytes(data)
        os.chmod(tmp, 0o600)
        tmp.replace(p)
    return p


def audit_log(path: str, vehicle: str, shipped: dict[str, Any], out_dir: str) -> dict[str, Any]:
    """Runs on a worker: the whole edge pipeline over one log; returns the agent's counts to be merged."""
    from .frames import coalesce
    from .readers import read_log
    from .setup import build_agent

    specs = [(ch, _materialise(name, data)) for ch, name, data in shipped["dbc"]]
    policy = _materialise("policy.toml", shipped["policy"]) if shipped["policy"] else None
    key = _materialise("pseudonym.key", shipped["key"])
    # one spool per log: two logs of one vehicle may run at once on two workers
    agent, _ = build_agent(specs, policy, Path(out_dir) / "uplink" / vehicle / Path(path).name,
                           consented=shipped["purposes"], device=vehicle, key_file=key)
    error = None
    try:
        for chunk in coalesce(read_log(path)):
            agent.process(chunk)
    except InputError as exc:  # a damaged log: everything before the damage is kept and counted
        error = str(exc)
    agent.end_of_input()
    agent.flush()
    return {"path": path, "vehicle": vehicle, "state": agent.state(), "error": error, "frames": agent.frames.total}


def run_audit(logs: list[tuple[str, str]], dbc: list[tuple[str | None, Path]], out: Path, *, policy: Path | None,
              purposes: list[str], key_file: Path, scheduler: str = "local", workers: int = 2,
              progress=None, client=None) -> dict[str, Any]:
    from distributed import Client, LocalCluster, as_completed

    shipped = {"dbc": [(ch, p.name, p.read_bytes()) for ch, p in dbc],
               "policy": policy.read_bytes() if policy else b"", "key": key_file.read_bytes(), "purposes": purposes}
    cluster = None
    own = client is None  # a caller's client (a benchmark's warm cluster) is left running
    if own and scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    elif own:
        client = Client(scheduler)
    try:
        port = client.scheduler_info().get("services", {}).get("dashboard")
        dashboard = client.dashboard_link if port else None
        ship = client.scatter(shipped, broadcast=True)  # once per worker, not once per log
        run = uuid.uuid4().hex[:8]  # keys unique per audit: a cluster serving several audits never mixes them
        futures = [client.submit(audit_log, p, v, ship, str(out), retries=3, key=f"audit-{run}-{i}-{Path(p).name}")
                   for i, (p, v) in enumerate(logs)]
        results = []
        for fut in as_completed(futures):
            try:
                results.append(fut.result())
            except Exception as exc:  # the log could not even be opened: reported per file, never dropped
                i = futures.index(fut)
                results.append({"path": logs[i][0], "vehicle": logs[i][1], "state": None,
                                "error": f"{type(exc).__name__}: {exc}", "frames": 0})
            if progress:
                progress(len(results), len(logs), sum(r["frames"] for r in results))
    finally:
        if own:
            client.close()
        if cluster is not None:
            cluster.close()
    return {"results": results, "dashboard": dashboard}


def merge(results: list[dict[str, Any]], make_agent) -> tuple[Any, dict[str, Any]]:
    """The fleet agent and one agent per vehicle, each the exact merge of its logs' counts."""
    fleet = make_agent("fleet")
    per_vehicle: dict[str, Any] = {}
    for r in sorted(results, key=lambda r: r["path"]):
        if r["state"] is None:
            continue
        fleet.merge(r["state"])
        if r["vehicle"] not in per_vehicle:
            per_vehicle[r["vehicle"]] = make_agent(r["vehicle"])
        per_vehicle[r["vehicle"]].merge(r["state"])
    return fleet, per_vehicle


def dataset_facts(per_vehicle: dict[str, Any]) -> dict[str, Any]:
    """What the fleet's uplink holds per category: values and distinct vehicles (the dataset grading's facts)."""
    values: Counter = Counter()
    vehicles: Counter = Counter()
    for agent in per_vehicle.values():
        cats = agent.handler.stats.by_category
        values.update(cats)
        vehicles.update({c: 1 for c, n in cats.items() if n})
    return {"categories": [{"category": c, "values": values[c], "vehicles": vehicles[c]} for c in sorted(values)]}
