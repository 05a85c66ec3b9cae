"""CPU per frame of ``vehicle-ds edge replay`` as a user runs it, on a mixed log, net of start-up; and where
that time goes (a profile of the in-process pipeline).

The log: FRAMES frames of the sample vehicle (dbc/sample_vehicle.dbc: powertrain, body, GNSS, camera, audio
and biometric payloads, diagnostics, J1939) with the multi-frame traffic of edge/simulate_transport.py (J1939
TP BAM and RTS/CTS, ISO-TP, NMEA 2000 fast packets), as candump .log and as .blf. Every feature on: transport
reassembly, identifier scans, a geofence of two areas, the audit.

CPU: the replay's process and its workers (``RUSAGE_CHILDREN``), minus the same command on a 1,000-frame
log of the same vehicle and format (imports, DBC load, policy); the median of REPEATS replays, each net of
the median of STARTUPS start-up runs (``*_runs`` lists every replay). Profile: cProfile of read +
process + flush in one process, cumulative time per stage.

    python benchmarks/edge_replay_cpu.py [FRAMES]

Last line: {"name": "edge_replay_cpu", "frames", "cpu_us_per_frame", "blf_cpu_us_per_frame", "startup_cpu_s_log",
"profile": {stage: share}}.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DBC = ROOT / "dbc" / "sample_vehicle.dbc"
FRAMES = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
REPEATS, STARTUPS = 3, 5  # replays of the log, and of the 1,000-frame start-up log; medians of each
AREAS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"name": "plant"}, "geometry": {"type": "Polygon", "coordinates": [
        [[116.30, 39.80], [116.50, 39.80], [116.50, 40.00], [116.30, 40.00], [116.30, 39.80]]]}},
    {"type": "Feature", "properties": {"name": "base"}, "geometry": {"type": "Polygon", "coordinates": [
        [[121.40, 31.20], [121.50, 31.20], [121.50, 31.30], [121.40, 31.30], [121.40, 31.20]]]}}]}
# the pipeline's stages, by the module a function lives in
STAGES = {"edge/readers": "read (parse the log)", "edge/decode": "decode (DBC signals)",
          "edge/transport": "transport reassembly", "edge/scan": "identifier scans",
          "edge/handling": "classify + handle (drop, coarsen, pseudonymise)", "vehicle_ds/geofence": "geofence",
          "edge/audit": "audit of what leaves", "edge/batch": "batches (encode, sign)", "edge/spool": "spool (write)",
          "edge/agent": "agent (counters, routing)", "edge/frames": "frame chunks"}


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _replay(log: Path, out: Path, areas: Path) -> float:
    """CPU seconds of one ``vehicle-ds edge replay`` (its workers included)."""
    c0 = _cpu_children()
    subprocess.run([sys.executable, "-m", "vehicle_ds.cli", "edge", "replay", str(log), "--dbc", str(DBC), "--out",
                    str(out), "--geofence", str(areas), "--key-file", str(out.parent / f"{out.name}.key")],
                   check=False, capture_output=True)
    if not (out / "results.json").is_file():
        raise SystemExit(f"the replay of {log.name} wrote no results.json")
    return _cpu_children() - c0


def _profile(log: Path, tmp: Path, areas: Path) -> dict[str, float]:
    from edge.frames import coalesce
    from edge.readers import read_log
    from edge.setup import build_agent

    agent, _ = build_agent([DBC], None, tmp / "prof", key_file=tmp / "prof.key", geofence=areas)
    prof = cProfile.Profile()
    prof.enable()
    for chunk in coalesce(read_log(log)):
        agent.process(chunk)
    agent.end_of_input()
    agent.flush()
    prof.disable()
    stats = pstats.Stats(prof).stats  # (file, line, name) -> (cc, nc, tottime, cumtime, callers)
    total = sum(v[2] for v in stats.values())
    own: dict[str, float] = {}
    for fn, v in stats.items():
        for stage, share in _stages_of(fn, stats, 0).items():
            own[stage] = own.get(stage, 0.0) + v[2] * share
    return {k: round(v / total, 3) for k, v in sorted(own.items(), key=lambda kv: -kv[1])}


def _stage(file: str) -> str | None:
    file = file.replace("\\", "/")
    return next((label for key, label in STAGES.items() if key in file), None)


def _stages_of(fn: tuple, stats: dict, depth: int) -> dict[str, float]:
    """Which stages a function's own time belongs to: its module's, or (numpy, cantools, builtins) its
    callers' stages in proportion to the time each caller spent in it, up to 8 levels."""
    stage = _stage(fn[0])
    if stage is not None:
        return {stage: 1.0}
    callers = stats[fn][4] if fn in stats else {}
    weights = {c: w[3] for c, w in callers.items() if w[3] > 0}
    if depth >= 8 or not weights:
        return {"other (Python runtime)": 1.0}
    out: dict[str, float] = {}
    whole = sum(weights.values())
    for c, w in weights.items():
        for st, share in _stages_of(c, stats, depth + 1).items():
            out[st] = out.get(st, 0.0) + share * w / whole
    return out


def main() -> None:
    from edge.simulate import write_log

    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        areas = tmp / "areas.geojson"
        areas.write_text(json.dumps(AREAS))
        result: dict[str, object] = {"name": "edge_replay_cpu", "frames": FRAMES}
        for suffix, key in ((".log", "cpu_us_per_frame"), (".blf", "blf_cpu_us_per_frame")):
            tag = suffix.replace(".", "_")
            small = tmp / f"small{suffix}"
            write_log([DBC], small, 1000, seed=5, transport=True)
            startup = statistics.median(_replay(small, tmp / f"s{tag}{i}", areas) for i in range(STARTUPS))
            result[f"startup_cpu_s{tag}"] = round(startup, 3)
            log = tmp / f"mixed{suffix}"
            t0 = time.perf_counter()
            n = write_log([DBC], log, FRAMES, seed=5, transport=True)
            result[f"gen_s{tag}"] = round(time.perf_counter() - t0, 1)
            cpus = [_replay(log, tmp / f"out{tag}{i}", areas) for i in range(REPEATS)]
            total = json.loads((tmp / f"out{tag}0" / "results.json").read_text())["summary"]["frames_total"]
            result[f"frames{tag}"] = total
            runs = [round((c - startup) / total * 1e6, 3) for c in cpus]
            result[f"{key}_runs"] = runs
            result[key] = statistics.median(runs)
            if suffix == ".log":
                result["written"] = n
                result["profile"] = _profile(log, tmp, areas)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
