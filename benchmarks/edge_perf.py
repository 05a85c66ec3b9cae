"""Issue 32's three figures from one run: the throughput ratio to the naive loop (candump and BLF,
``edge_throughput.py``), the CPU per frame of ``vehicle-ds edge replay`` on the mixed log
(``edge_replay_cpu.py``) and the live CPU ratio to a bare python-can receiver (``edge_live.py``, which
needs root and ``unshare``). Each runs as its own process, one after the other, on an otherwise idle machine.

    python benchmarks/edge_perf.py [--write]

``--write`` puts the figures of this run into README.md and docs/performance.md, between
``<!-- edge-figures -->`` and ``<!-- /edge-figures -->``, so what the documents say is what one run measured.
Last line: {"name": "edge_perf", "ratio", "blf_ratio", "mixed_cpu_us_per_frame", "blf_mixed_cpu_us_per_frame",
"live_cpu_ratio", "live_lost", "targets_met", "runs": {...}}.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- edge-figures -->", "<!-- /edge-figures -->"
TARGETS = {"ratio": (">=", 20.0), "blf_ratio": (">=", 20.0), "mixed_cpu_us_per_frame": ("<=", 1.0),
           "blf_mixed_cpu_us_per_frame": ("<=", 1.0), "live_cpu_ratio": ("<=", 2.0)}


def _run(script: str) -> dict:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script)], capture_output=True, text=True,
                          cwd=ROOT, timeout=1800)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode or not lines:
        raise SystemExit(f"{script} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return json.loads(lines[-1])


def _met(value: float | None, rule: tuple[str, float]) -> bool:
    op, bound = rule
    return value is not None and (value >= bound if op == ">=" else value <= bound)


def figures(r: dict) -> str:
    """The Markdown block: the three targets with this run's numbers, and where the replay's time goes."""
    t, c, live = r["runs"]["edge_throughput"], r["runs"]["edge_replay_cpu"], r["runs"]["edge_live"]
    yes = {True: "met", False: "**not met**"}
    rows = [
        ("throughput against the naive loop, candump (median of 5 pairs)", f"{t['ratio']}× "
         f"(pairs {', '.join(map(str, t['ratio_runs']))}; {t['agent_fps']:,} against {t['baseline_fps']:,} frames/s)",
         "≥ 20×", yes[_met(r["ratio"], TARGETS["ratio"])]),
        ("throughput against the naive loop, BLF", f"{t['blf_ratio']}× (pairs {', '.join(map(str, t['blf_ratio_runs']))}; "
         f"{t['blf_agent_fps']:,} against {t['blf_baseline_fps']:,} frames/s)", "≥ 20×",
         yes[_met(r["blf_ratio"], TARGETS["blf_ratio"])]),
        ("CPU per frame, `edge replay` of the mixed log, candump (net of start-up)", f"{c['cpu_us_per_frame']} µs "
         f"(runs {', '.join(map(str, c['cpu_us_per_frame_runs']))})", "≤ 1.0 µs",
         yes[_met(r["mixed_cpu_us_per_frame"], TARGETS["mixed_cpu_us_per_frame"])]),
        ("CPU per frame, mixed log, BLF", f"{c['blf_cpu_us_per_frame']} µs "
         f"(runs {', '.join(map(str, c['blf_cpu_us_per_frame_runs']))})", "≤ 1.0 µs",
         yes[_met(r["blf_mixed_cpu_us_per_frame"], TARGETS["blf_mixed_cpu_us_per_frame"])]),
        (f"live over udp_multicast at {live.get('rate', 0):,.0f} frames/s: agent CPU per frame / bare python-can",
         f"{live.get('cpu_ratio')} ({live.get('agent_cpu_us_per_frame')} / {live.get('bare_cpu_us_per_frame')} µs; "
         f"lost {live.get('agent_lost')} and {live.get('bare_lost')})", "≤ 2", yes[_met(r["live_cpu_ratio"],
                                                                                           TARGETS["live_cpu_ratio"])]),
    ]
    out = [START, "| measured (one run of `python benchmarks/edge_perf.py`) | this run | target | |",
           "|---|---|---|---|", *(f"| {a} | {b} | {c_} | {d} |" for a, b, c_, d in rows), "",
           "Where the replay's CPU goes on the mixed candump log (cProfile of the in-process pipeline; numpy and "
           "library time counted to the stage that called it):", "", "| stage | share |", "|---|---:|",
           *(f"| {k} | {v * 100:.1f} % |" for k, v in c["profile"].items() if v >= 0.001), END]
    return "\n".join(out)


def _write(block: str) -> None:
    for path in (ROOT / "README.md", ROOT / "docs" / "performance.md"):
        text = path.read_text("utf-8")
        if START not in text or END not in text:
            raise SystemExit(f"{path.name} has no {START} … {END} block")
        path.write_text(text[:text.index(START)] + block + text[text.index(END) + len(END):], "utf-8")


def main() -> None:
    runs = {name: _run(f"{name}.py") for name in ("edge_throughput", "edge_replay_cpu", "edge_live")}
    t, c, live = runs["edge_throughput"], runs["edge_replay_cpu"], runs["edge_live"]
    result = {"name": "edge_perf", "ratio": t["ratio"], "blf_ratio": t["blf_ratio"],
              "mixed_cpu_us_per_frame": c["cpu_us_per_frame"], "blf_mixed_cpu_us_per_frame": c["blf_cpu_us_per_frame"],
              "live_cpu_ratio": live.get("cpu_ratio"), "live_lost": live.get("agent_lost"), "runs": runs}
    result["targets_met"] = {k: _met(result[k], rule) for k, rule in TARGETS.items()}
    if "--write" in sys.argv:
        _write(figures(result))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
