"""How long classification takes on a 2,000-message DBC, next to cantools' own parse of the same file.

Baseline: cantools parsing the DBC. Candidate: vehicle-ds classifying every signal and applying the
combinations. Prints a JSON last line; ratio = classify time / parse time (lower is better).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.dbcgen import big_dbc
from vehicle_ds.catalog import build_catalog
from vehicle_ds.dbc import load_database
from vehicle_ds.policy import load_policy


def main(n_messages: int = 2000) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        path = big_dbc(n_messages, Path(tmp) / "big.dbc")
        t0 = time.perf_counter()
        loaded = load_database(path)
        parse_s = time.perf_counter() - t0
        policy = load_policy()
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            doc = build_catalog([path], policy, loaded=[loaded])
            best = min(best, time.perf_counter() - t0)
    result = {"name": "catalog_classify", "messages": len(loaded.db.messages), "signals": len(doc["entries"]),
              "parse_s": round(parse_s, 3), "classify_s": round(best, 3),
              "signals_per_s": round(len(doc["entries"]) / best), "ratio": round(best / parse_s, 3)}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
