"""The fleet report counts every asset exactly as the full report would, while detailing only the worst."""

from __future__ import annotations

import json
from collections import Counter

from vehicle_ds.report import build_report
from vehicle_ds.report.fleet import AssetOutcomes, fleet_report
from vehicle_ds.report.inputs import Input
from vehicle_ds.results import Asset, Criterion, check, finish, new_results

CHECKS = [("edge.uplink.location_precision", 5, "fail", "critical"), ("edge.uplink.no_clear_vin", 3, "not_assessed", "info"),
          ("edge.frames.unknown_ids", 4, "warn", "medium"), ("edge.cabin.default_off", 7, "pass", "info")]


def _doc(i: int) -> dict:
    doc = new_results("edge", {"mode": "replay"}, {}, asset=Asset("vehicle", f"car-{i:03d}"))
    doc["checks"] = [check(cid, cid, alt if i % every == 0 else "pass", sev if i % every == 0 else "info",
                           ["GBT44464-4.1"], evidence={}, criterion=Criterion("c", "engineering_default"), observed={"n": 1})
                     for cid, every, alt, sev in CHECKS]
    return finish(doc, {})


def test_fleet_counts_equal_the_full_report():
    inputs = [Input(f"d{i}", "0" * 64, "edge", json.loads(json.dumps(_doc(i)))) for i in range(120)]
    full = build_report(inputs)
    outcomes = [AssetOutcomes(inp.asset_key, [("edge", c["id"], c["status"], c["severity"]) for c in inp.doc["checks"]])
                for inp in inputs]
    by_key = {inp.asset_key: inp for inp in inputs}
    loads = []

    def load(keys):
        loads.append(len(keys))
        return [by_key[k] for k in keys]

    fleet = fleet_report(outcomes, load, max_assets=10)
    assert fleet["fleet_view"]["asset_groups"] < 20 and max(loads) <= 20  # only representatives and the worst
    for q_full, q in zip(full["requirements"], fleet["requirements"], strict=True):
        assert q["id"] == q_full["id"] and q["status"] == q_full["status"], q["id"]
        if q_full["by_asset"]:
            assert q["asset_status_counts"] == dict(Counter(a["status"] for a in q_full["by_asset"])), q["id"]
            assert len(q["by_asset"]) <= 10 and q["assets_total"] == 120
            shown = [a["status"] for a in q["by_asset"]]
            assert shown[0] == min(q["asset_status_counts"], key=("fail", "needs_review", "not_assessed", "pass").index)
    assert fleet["summary"]["checks"] == full["summary"]["checks"]
    assert fleet["summary"]["requirements"] == full["summary"]["requirements"] and fleet["status"] == full["status"]
    assert fleet["summary"]["failed_by_severity"] == full["summary"]["failed_by_severity"]


def test_a_fleet_whose_every_vehicle_differs_counts_exactly_with_few_full_builds():
    """300 vehicles, no two alike (each a different combination of 12 checks' outcomes): the counts equal the
    full report's, while only a few vehicles are built in full (verdicts are learned per requirement from the
    outcomes of its own evidence checks)."""
    import random

    ids = ["edge.uplink.location_precision", "edge.uplink.no_clear_vin", "edge.frames.unknown_ids",
           "edge.cabin.default_off", "edge.uplink.no_cabin_biometric_exterior_media", "edge.transport.sessions",
           "edge.input.frames", "edge.policy.unclassified", "edge.uplink.records_audited", "edge.input.readable",
           "edge.frames.undocumented_identifiers", "edge.uplink.geofence"]
    rnd = random.Random(5)
    seen, inputs = set(), []
    while len(inputs) < 300:
        combo = tuple(rnd.choice(("pass", "fail", "warn", "not_assessed")) for _ in ids)
        if combo in seen:
            continue
        seen.add(combo)
        i = len(inputs)
        doc = new_results("edge", {"mode": "replay"}, {}, asset=Asset("vehicle", f"car-{i:03d}"))
        doc["checks"] = [check(cid, cid, st, "high" if st == "fail" else "info", ["GBT44464-4.1"], evidence={},
                               criterion=Criterion("c", "engineering_default"), observed={"n": 1})
                         for cid, st in zip(ids, combo, strict=True)]
        inputs.append(Input(f"d{i}", "0" * 64, "edge", json.loads(json.dumps(finish(doc, {})))))
    full = build_report(inputs)
    outcomes = [AssetOutcomes(inp.asset_key, [("edge", c["id"], c["status"], c["severity"]) for c in inp.doc["checks"]])
                for inp in inputs]
    by_key = {inp.asset_key: inp for inp in inputs}
    fleet = fleet_report(outcomes, lambda keys: [by_key[k] for k in keys], max_assets=10)
    assert fleet["fleet_view"]["asset_groups"] == 300
    assert fleet["fleet_view"]["built_in_full"] <= 30, fleet["fleet_view"]  # 18 here: not one per vehicle
    for q_full, q in zip(full["requirements"], fleet["requirements"], strict=True):
        assert q["status"] == q_full["status"], q["id"]
        if q_full["by_asset"]:
            assert q["asset_status_counts"] == dict(Counter(a["status"] for a in q_full["by_asset"])), q["id"]
    assert fleet["summary"]["requirements"] == full["summary"]["requirements"]
