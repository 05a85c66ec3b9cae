"""Platform data discovery at scale: a platform database of TABLES tables (the labelled sample platform's
eight, repeated under other names) with ROWS rows each (40 x 25,000 = 1,000,000 rows by default) in SQLite,
and in PostgreSQL when `VEHICLE_DS_TEST_PG_URL` names one. Measures the whole discovery (read-only
connection, sampling, detectors, grading) and, on the same sampled values in the same run, the detectors'
value throughput against the baseline: every detector's pattern matched value by value.

    python benchmarks/discover.py [tables] [rows]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vehicle_ds.discovery import sample_platform as sp
from vehicle_ds.discovery.detectors import scan_values, scan_values_baseline
from vehicle_ds.discovery.discover import discover
from vehicle_ds.discovery.sources import ReadOnlyDatabase

TABLES = int(sys.argv[1]) if len(sys.argv) > 1 else 40
ROWS = int(sys.argv[2]) if len(sys.argv) > 2 else 25_000
SAMPLE = 1000


def build(url: str) -> None:
    """TABLES tables: copies of the sample platform's tables under numbered names, via SQL (fast)."""
    from sqlalchemy import create_engine, text

    sp.build(url, rows=ROWS)
    engine = create_engine(url)
    names = list(sp.schema(__import__("random").Random(0)))
    with engine.begin() as c:
        for i in range(TABLES - len(names)):
            src = names[i % len(names)]
            c.execute(text(f'DROP TABLE IF EXISTS "{src}_{i}"'))
            c.execute(text(f'CREATE TABLE "{src}_{i}" AS SELECT * FROM "{src}"'))
    engine.dispose()


def run(url: str) -> dict:
    build(url)
    t0 = time.perf_counter()
    db = ReadOnlyDatabase(url, sample=SAMPLE)
    try:
        tables = list(db.tables())
    finally:
        db.close()
    doc = discover(tables)
    total = time.perf_counter() - t0
    columns = [[r[i] for r in t.rows if i < len(r) and r[i] not in (None, "")] for t in tables for i in range(len(t.columns))]
    values = sum(len(c) for c in columns)
    t0 = time.perf_counter()
    for c in columns:
        scan_values(c)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    for c in columns:
        scan_values_baseline(c)
    base = time.perf_counter() - t0
    return {"tables": len(tables), "rows": sum(t.row_count or 0 for t in tables), "columns": len(doc["entries"]),
            "discover_s": round(total, 2), "values_sampled": values, "detector_values_per_s": round(values / ours),
            "baseline_values_per_s": round(values / base), "ratio": round(base / ours, 1),
            "personal_columns": doc["discovery"]["personal_columns"]}


def main() -> dict:
    out = {"name": "discover", "tables_requested": TABLES, "rows_per_table": ROWS, "sample": SAMPLE}
    with tempfile.TemporaryDirectory() as d:
        out["sqlite"] = run(f"sqlite:///{Path(d) / 'platform.db'}")
    if os.environ.get("VEHICLE_DS_TEST_PG_URL"):
        out["postgresql"] = run(os.environ["VEHICLE_DS_TEST_PG_URL"])
    out["ratio"] = out["sqlite"]["ratio"]
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
