"""The demo end to end: everything it writes can be handed over — no key, no secret, no unmasked personal
identifier in any output — and the report carries the platform catalogue and the dataset grading."""

from __future__ import annotations

import json

from tests.conftest import run_cli
from vehicle_ds.discovery.detectors import scan_values

PERSONAL = ("cn_resident_id", "mobile", "bank_card", "vin", "plate", "imei", "iccid", "email")
TEXT = (".json", ".md", ".html", ".csv", ".jsonl", ".toml", ".geojson", ".txt")


def test_demo_outputs_hold_no_key_and_no_unmasked_identifier(tmp_path):
    out = tmp_path / "demo"
    proc = run_cli("demo", "--out", str(out), "--frames", "40000", timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix in (".key", ".pem") or p.name == "device.json"]
    leaks = {}
    for p in files:
        if p.suffix not in TEXT:
            continue
        text = p.read_text("utf-8", errors="replace")
        assert "PRIVATE KEY" not in text, p
        hits = {k: v for k, v in (scan_values(text.splitlines()).hits or {}).items() if k in PERSONAL}
        if hits:
            leaks[str(p.relative_to(out))] = hits
    assert not leaks, leaks
    report = json.loads((out / "report.json").read_text())
    assert any(inv["asset"]["kind"] == "platform" for inv in report["inventory"])  # the platform catalogue
    assert report["datasets"] and {"surveying", "offence_related"} <= {
        c["id"] for inv in report["inventory"] for c in inv["combinations"]}
    edge = json.loads((out / "edge" / "results.json").read_text())
    assert edge["summary"]["geofence"]["positions_inside"] and edge["summary"]["transport"]["sessions"]
