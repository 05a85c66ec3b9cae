"""The verdicts of one report as a short hash: every requirement's status per asset, and every check's
asset, id, endpoint and status. Two demo runs (idle, busy) with the same hash gave the same verdicts.

    python benchmarks/verdict_hash.py demo-out/report.json [--list]

Prints one JSON line: {"name": "verdict_hash", "hash": ..., "requirements": N, "checks": N}."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any


def verdicts(report: dict[str, Any]) -> list[str]:
    rows = [f"req {r['id']} {a['key']} {a['status']}" for r in report["requirements"] for a in r["by_asset"]]
    rows += [f"check {c.get('asset_key', '')} {c['id']} {c.get('endpoint', '')} {c['status']}" for c in report["checks"]]
    return sorted(rows)


def verdict_hash(report: dict[str, Any]) -> str:
    return hashlib.sha256("\n".join(verdicts(report)).encode()).hexdigest()[:16]


def main(argv: list[str]) -> None:
    report = json.loads(Path(argv[0]).read_text("utf-8"))
    if "--list" in argv:
        print("\n".join(verdicts(report)))
    print(json.dumps({"name": "verdict_hash", "hash": verdict_hash(report),
                      "requirements": sum(len(r["by_asset"]) for r in report["requirements"]),
                      "checks": len(report["checks"])}))


if __name__ == "__main__":
    main(sys.argv[1:])
