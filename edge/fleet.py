"""``vehicle-ds fleet audit``: a fleet's logs replayed by the edge agent's own pipeline on Dask workers
(``dask.distributed``: a LocalCluster of processes by default, or an existing scheduler by address), merged
exactly. The DBCs, the policy and the pseudonymisation key are shipped to the workers once (scattered);
a worker that dies is replaced and its logs retried (Dask's retries); a log that cannot be read is reported
per file, never dropped. Counts are sums, so the merge equals the sum of serial replays exactly. A candump
log larger than ``split_bytes`` is cut into newline-aligned ranges, one task each, as the local parallel
replay cuts it (transfers open at a range's end are finished by reading on, malformed line numbers are
re-based at the merge), so one huge log uses the whole cluster."""

from __future__ import annotations

import csv
import hashlib
import os
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from vehicle_ds.errors import InputError

LOG_SUFFIXES = (".log", ".blf", ".asc", ".trc", ".csv", ".mf4")
SPLIT_BYTES = 64 * 1024 * 1024  # a candump log above this is split across workers
INPUTS = ".inputs"  # the shipped DBCs and policy, under the output folder while the audit runs
ATTEMPT = ".attempt-"  # a task attempt's spool: renamed into place only when the attempt finished


def tasks(logs: list[tuple[str, str]], split_bytes: int = SPLIT_BYTES) -> list[tuple[str, str, int, int | None, int | None]]:
    """(path, vehicle, range number, start, end) per task: whole logs, and large candump logs in byte ranges."""
    from .parallel import ranges

    out: list[tuple[str, str, int, int | None, int | None]] = []
    for path, vehicle in logs:
        p = Path(path)
        if p.suffix.lower() == ".log" and p.is_file() and p.stat().st_size > split_bytes:
            out += [(path, vehicle, seq, a, b) for seq, (a, b) in enumerate(ranges(p, split_bytes))]
        else:
            out.append((path, vehicle, 0, None, None))
    return out


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


def _materialise(out_dir: str, name: str, data: bytes) -> Path:
    """A shipped DBC or policy, written once (keyed by content) into the audit's own input folder, which the
    audit removes at its end: nothing is left in a temp folder."""
    d = Path(out_dir) / INPUTS
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    p = d / f"{hashlib.sha256(data).hexdigest()[:16]}-{name}"
    if not p.exists():
        tmp = p.with_suffix(p.suffix + f".{os.getpid()}")
        tmp.write_bytes(data)
        os.chmod(tmp, 0o600)
        tmp.replace(p)
    return p


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters


def _heap_malloc() -> None:
    """Undo Dask's MALLOC_TRIM_THRESHOLD_=64 KiB in this worker: with it glibc maps and unmaps every large
    numpy buffer per chunk (page faults on each), which made a worker replay at 0.59x a plain process; this
    keeps buffers up to 64 MiB on the heap and returns memory above 256 MiB (measured: back to 1.0x)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024)
        libc.mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024)
    except (OSError, AttributeError):  # not glibc: nothing to undo
        return


def audit_log(path: str, vehicle: str, shipped: dict[str, Any], out_dir: str, seq: int = 0, start: int | None = None,
              end: int | None = None, task: int = 0) -> dict[str, Any]:
    """Runs on a worker: the whole edge pipeline over one log (or the byte range ``start``-``end`` of a candump
    log); returns the agent's counts to be merged. Batches go to this attempt's own spool folder, renamed
    into place only when the replay finished: a retry after a killed worker never adds a second copy."""
    from .batch import SEQ_BITS
    from .frames import coalesce
    from .readers import read_candump, read_log
    from .run import AgentRun
    from .setup import build_agent

    _heap_malloc()
    specs = [(ch, _materialise(out_dir, name, data)) for ch, name, data in shipped["dbc"]]
    policy = _materialise(out_dir, "policy.toml", shipped["policy"]) if shipped["policy"] else None
    # one spool per log: two logs of one vehicle may run at once on two workers
    spool = Path(out_dir) / "uplink" / vehicle / Path(path).name
    final = spool if start is None else spool / f"range-{seq:05d}"
    attempt = final.with_name(f"{final.name}{ATTEMPT}{uuid.uuid4().hex[:8]}")
    agent, _ = build_agent(specs, policy, attempt, consented=shipped["purposes"], device=vehicle,
                           key_file=shipped["key_file"], seq_base=task << SEQ_BITS)

    def chunks():  # opened inside the run, so a damaged or missing log is the run's error, not a crash
        yield from read_log(path) if start is None else read_candump(Path(path), start=start, end=end)

    with AgentRun(agent, range_end=None if start is None else (Path(path), end)) as run:
        run.feed(coalesce(chunks()))  # a damaged log: everything before the damage is kept and counted
    _commit(attempt, final)
    error = str(run.error) if run.error is not None else None
    lines = run.lines if start is not None else 0
    return {"path": path, "vehicle": vehicle, "seq": seq, "lines": lines, "state": agent.state(), "error": error,
            "frames": agent.frames.total}


def _commit(attempt: Path, final: Path) -> None:
    """This attempt's spool becomes the task's. A folder already there is an earlier attempt of the same
    task that finished but whose result never reached the scheduler (the output folder starts empty): the
    two hold the same replay, and exactly one stays."""
    import shutil

    if final.exists():
        shutil.rmtree(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    attempt.rename(final)


def discard_attempts(out: Path) -> list[str]:
    """Spool folders of attempts that never finished (a killed worker's), removed; their names returned."""
    import shutil

    left = sorted(p for p in (out / "uplink").rglob(f"*{ATTEMPT}*") if p.is_dir()) if (out / "uplink").is_dir() else []
    for p in left:
        shutil.rmtree(p, ignore_errors=True)
    return [str(p.relative_to(out)) for p in left]


def ship_inputs(client: Any, shipped: dict[str, Any]) -> Any:
    """The audit's inputs on every worker, once (not once per log), as one future with a key of its own. Never
    the dict itself: Dask scatters a dict's values under the dict's keys ("dbc", "key", ...), so successive
    audits on one cluster shared those keys, and one releasing them cancelled the next one's tasks ("lost
    dependencies": 1 audit in 4 on a warm cluster, measured)."""
    return client.scatter([shipped], broadcast=True, hash=False)[0]


def run_audit(logs: list[tuple[str, str]], dbc: list[tuple[str | None, Path]], out: Path, *, policy: Path | None,
              purposes: list[str], key_file: Path, scheduler: str = "local", workers: int = 2,
              progress=None, client=None, split_bytes: int = SPLIT_BYTES) -> dict[str, Any]:
    from distributed import Client, LocalCluster, as_completed

    # the key is read where it is configured (workers share the output folder's file system as well):
    # key material is never copied
    shipped = {"dbc": [(ch, p.name, p.read_bytes()) for ch, p in dbc],
               "policy": policy.read_bytes() if policy else b"", "key_file": str(key_file.resolve()),
               "purposes": purposes}
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
        ship = ship_inputs(client, shipped)
        run = uuid.uuid4().hex[:8]  # keys unique per audit: a cluster serving several audits never mixes them
        work = tasks(logs, split_bytes)
        futures = [client.submit(audit_log, p, v, ship, str(out), seq, a, b, task=i, retries=3,
                                 key=f"audit-{run}-{i}-{Path(p).name}-{seq}") for i, (p, v, seq, a, b) in enumerate(work)]
        results = []
        for fut in as_completed(futures):
            try:
                results.append(fut.result())
            except Exception as exc:  # the log could not even be opened: reported per file, never dropped
                i = futures.index(fut)
                results.append({"path": work[i][0], "vehicle": work[i][1], "seq": work[i][2], "lines": 0, "state": None,
                                "error": f"{type(exc).__name__}: {exc}", "frames": 0})
            if progress:
                progress(len(results), len(work), sum(r["frames"] for r in results))
    finally:
        if own:
            client.close()
        if cluster is not None:
            cluster.close()
        import shutil

        shutil.rmtree(out / INPUTS, ignore_errors=True)
    return {"results": results, "dashboard": dashboard, "discarded_attempts": discard_attempts(out)}


def merge(results: list[dict[str, Any]], make_agent) -> tuple[Any, dict[str, Any]]:
    """The fleet agent and one agent per vehicle, each the exact merge of its logs' counts."""
    fleet = make_agent("fleet")
    per_vehicle: dict[str, Any] = {}
    base: dict[str, int] = {}  # lines of a split log's earlier ranges: malformed line numbers become the log's
    for r in sorted(results, key=lambda r: (r["path"], r.get("seq", 0))):
        offset = base.get(r["path"], 0)
        base[r["path"]] = offset + r.get("lines", 0)
        if r["state"] is None:
            continue
        if offset:
            r["state"]["frames"].malformed_lines = [offset + n for n in r["state"]["frames"].malformed_lines]
        fleet.merge(r["state"])
        if r["vehicle"] not in per_vehicle:
            per_vehicle[r["vehicle"]] = make_agent(r["vehicle"])
        per_vehicle[r["vehicle"]].merge(r["state"])
    return fleet, per_vehicle


def per_log(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per log (a split log's ranges summed), in path order."""
    rows: dict[str, dict[str, Any]] = {}
    for r in sorted(results, key=lambda r: (r["path"], r.get("seq", 0))):
        row = rows.setdefault(r["path"], {"path": r["path"], "vehicle": r["vehicle"], "frames": 0, "error": None,
                                          "ranges": 0})
        row["frames"] += r["frames"]
        row["ranges"] += 1
        row["error"] = row["error"] or r["error"]
    return list(rows.values())


def dataset_facts(per_vehicle: dict[str, Any]) -> dict[str, Any]:
    """What the fleet's uplink holds per category: values and distinct vehicles (the dataset grading's facts)."""
    values: Counter = Counter()
    vehicles: Counter = Counter()
    for agent in per_vehicle.values():
        cats = agent.handler.stats.by_category
        values.update(cats)
        vehicles.update({c: 1 for c, n in cats.items() if n})
    return {"categories": [{"category": c, "values": values[c], "vehicles": vehicles[c]} for c in sorted(values)]}
