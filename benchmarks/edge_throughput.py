"""Edge throughput: log file on disk -> uplink batches on disk, the agent against a naive baseline.

Logs: >= 1M frames each, as candump .log and as .blf, from a DBC of >= 100 messages at their own cycle
rates (with CAN FD, J1939, multiplexing, unknown ids and truncated frames) and multi-frame traffic (J1939
TP BAM and RTS/CTS, ISO-TP diagnostics, NMEA 2000 fast packets) reassembled on the way.
MF4: the same pipeline with the asammdf fast path against python-can's MF4 reader on one MF4 log of
MF4_FRAMES frames (``mf4_ratio``, in this process).
Baseline: python-can LogReader, cantools decode_message per frame, the per-signal policy in a Python loop
(drop / coarsen / keyed hash / keep, precomputed per signal), records written as JSON lines.
Candidate: ``vehicle-ds edge replay``'s pipeline (read + decode + classify + handle + batch out; a large
candump or BLF log is replayed by one worker per core over ranges, as the command does).
The baseline runs on the first BASELINE_FRAMES frames (its rate does not depend on log length), the agent
on the whole log; every run is a fresh process timed by its own clock after its imports, as a user runs
the command, so neither side inherits the other's heap. They run REPEATS times in pairs (agent, then
baseline): ``ratio`` is the median of the pairs' ratios, since a busy moment of the machine slows both
sides of a pair; ``*_runs`` lists every pair's ratio, ``agent_fps`` and ``baseline_fps`` are each side's
median. ``peak_rss_mb``: the largest process or replay worker of all runs.
Last line: {"name": "edge_throughput", "agent_fps", "baseline_fps", "ratio", "cpu_us_per_frame", "peak_rss_mb", ...}.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.dbcgen import big_dbc
from edge.frames import coalesce, prefetch
from edge.parallel import replay_parallel, worth_it
from edge.readers import read_log, read_python_can
from edge.setup import build_agent
from edge.simulate import write_log

N_FRAMES = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "--one" else 1_000_000
BASELINE_FRAMES = 200_000
MF4_FRAMES = 200_000
REPEATS = 5


def _cpu() -> float:
    """CPU seconds of this process and of its reaped children (the parallel replay's workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


CPU: dict[str, float] = {}  # agent CPU µs per frame by log, filled by agent_run


def agent_run(log: Path, dbc: Path, out: Path, reader=read_log) -> tuple[float, int]:
    t0, c0 = time.perf_counter(), _cpu()
    agent, _ = build_agent([dbc], None, out, consented=["navigation"], key_file=out.parent / f"{out.name}.key")
    if worth_it(log) and reader is read_log:  # what `vehicle-ds edge replay` does with a large candump log
        replay_parallel(agent, log)
    else:
        for chunk in prefetch(coalesce(reader(log))):
            agent.process(chunk)
        agent.end_of_input()
        agent.flush()
    dt = time.perf_counter() - t0
    fs = agent.frames
    CPU[log.suffix if reader is read_log else "pycan"] = round((_cpu() - c0) / max(fs.total, 1) * 1e6, 3)
    assert fs.total == fs.decoded + fs.unknown + fs.error + fs.transport
    assert agent.transport.stats.sessions["j1939.completed"] > 0 and fs.reassembled > 0
    return dt, fs.total


def baseline_run(log: Path, dbc: Path, out: Path, limit: int) -> tuple[float, int]:
    import can
    import cantools

    from vehicle_ds.catalog import build_catalog

    t0 = time.perf_counter()
    db = cantools.database.load_file(str(dbc), strict=False)
    actions = {(e["message"], e["signal"]): e["handling"] for e in build_catalog([dbc])["entries"]}
    key = b"k" * 32
    n = 0
    with open(out, "w") as f:
        for msg in itertools.islice(can.LogReader(str(log)), limit):
            n += 1
            try:
                m = db.get_message_by_frame_id(msg.arbitration_id)
                values = m.decode(msg.data, decode_choices=False, allow_truncated=True)
            except Exception:
                continue
            rec = {}
            for name, v in values.items():
                a = actions.get((m.name, name), "drop")
                if a == "keep":
                    rec[name] = v
                elif a == "coarsen":
                    rec[name] = round(float(v), 3)
                elif a == "pseudonymize":
                    rec[name] = hmac.new(key, str(v).encode(), hashlib.sha256).hexdigest()[:24]
            f.write(json.dumps({"t": msg.timestamp, "message": m.name, "signals": rec}) + "\n")
    return time.perf_counter() - t0, n


def _one(kind: str, log: Path, dbc: Path, out: Path) -> tuple[float, int]:
    """One measured run in a fresh process, as a user runs the command (and so neither side inherits the
    other's heap, nor a warm cache of the other's): seconds and frames, from its own clock after imports."""
    proc = subprocess.run([sys.executable, __file__, "--one", kind, str(log), str(dbc), str(out)],
                          capture_output=True, text=True, check=True)
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    if "cpu_us_per_frame" in got:
        CPU[log.suffix] = got["cpu_us_per_frame"]
    return got["seconds"], got["frames"]


def _one_here(kind: str, log: Path, dbc: Path, out: Path) -> None:  # the child side of _one
    if kind == "agent":
        dt, n = agent_run(log, dbc, out)
        print(json.dumps({"seconds": dt, "frames": n, "cpu_us_per_frame": CPU[log.suffix]}))
    else:
        dt, n = baseline_run(log, dbc, out, BASELINE_FRAMES)
        print(json.dumps({"seconds": dt, "frames": n}))


def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        dbc = big_dbc(120, tmpd / "vehicle120.dbc")
        result: dict[str, object] = {"name": "edge_throughput", "frames": N_FRAMES, "dbc_messages": 120,
                                     "repeats": REPEATS}
        cpu: dict[str, list[float]] = {}
        logs = {}
        for suffix in (".log", ".blf"):
            t0 = time.perf_counter()
            logs[suffix] = tmpd / f"drive{suffix}"
            write_log([dbc], logs[suffix], N_FRAMES, seed=3, transport=True)
            result[f"gen_s{suffix.replace('.', '_')}"] = round(time.perf_counter() - t0, 1)
        for suffix, label in ((".log", ""), (".blf", "blf_")):
            agent, base = [], []
            for k in range(REPEATS):  # alternating, so a busy moment of the machine hits both sides alike
                dt, n = _one("agent", logs[suffix], dbc, tmpd / f"spool{suffix}{k}")
                agent.append(n / dt)
                cpu.setdefault(suffix, []).append(CPU[suffix])
                dt, n = _one("baseline", logs[suffix], dbc, tmpd / f"baseline{suffix}.jsonl")
                base.append(n / dt)
            result[f"{label}agent_fps"] = round(statistics.median(agent))
            result[f"{label}baseline_fps"] = round(statistics.median(base))
            result[f"{label}ratio_runs"] = [round(a / b, 1) for a, b in zip(agent, base, strict=True)]
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest run's process or worker
        result["peak_rss_mb"] = round(peak / 1024, 1)
        mf4 = tmpd / "drive.mf4"
        write_log([dbc], mf4, MF4_FRAMES, seed=3, transport=True)
        fast_dt, n_fast = agent_run(mf4, dbc, tmpd / "spool_mf4")
        slow_dt, n_slow = agent_run(mf4, dbc, tmpd / "spool_mf4_pycan", reader=read_python_can)
        assert n_fast == n_slow
        result.update(mf4_frames=n_fast, mf4_agent_fps=round(n_fast / fast_dt), mf4_python_can_fps=round(n_slow / slow_dt),
                      mf4_ratio=round(slow_dt / fast_dt, 1))
        result["ratio"] = statistics.median(result["ratio_runs"])
        result["blf_ratio"] = statistics.median(result["blf_ratio_runs"])
        result["baseline_frames"] = BASELINE_FRAMES
        # CPU per frame of the whole replay (reader, decode, classify, handle, batches; workers included)
        result["cpu_us_per_frame"] = statistics.median(cpu[".log"])
        result["blf_cpu_us_per_frame"] = statistics.median(cpu[".blf"])
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        _one_here(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
    else:
        main()
