"""Sensitive areas: positions inside a user-provided polygon are counted, never leave, and the auditor checks
the outbound records itself."""

from __future__ import annotations

import json

import numpy as np

from edge.audit import Audit, audit_message
from edge.handling import OutMessage
from edge.simulate import write_log
from tests.conftest import SAMPLE_DBC, run_cli
from vehicle_ds.geofence import load_geofence

# a made-up polygon over part of the simulated track around (39.9042, 116.4074); holes are honoured
AREA = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "test-area"},
        "geometry": {"type": "Polygon", "coordinates": [
            [[116.40, 39.90], [116.43, 39.90], [116.43, 39.92], [116.40, 39.92], [116.40, 39.90]],
            [[116.425, 39.915], [116.429, 39.915], [116.429, 39.919], [116.425, 39.919], [116.425, 39.915]]]}}]}


def test_point_in_polygon_with_a_hole(tmp_path):
    (tmp_path / "a.geojson").write_text(json.dumps(AREA))
    area = load_geofence(tmp_path / "a.geojson")[0]
    lat = np.array([39.91, 39.917, 39.95, 39.905])
    lon = np.array([116.41, 116.427, 116.41, 116.399])
    assert area.contains(lat, lon).tolist() == [True, False, False, False]


def test_positions_inside_are_counted_and_never_leave(tmp_path):
    (tmp_path / "a.geojson").write_text(json.dumps(AREA))
    log = tmp_path / "d.log"
    write_log([SAMPLE_DBC], log, 30_000, seed=9)
    out = tmp_path / "out"
    proc = run_cli("edge", "replay", str(log), "--dbc", str(SAMPLE_DBC), "--out", str(out), "--purpose", "navigation",
                   "--key-file", str(tmp_path / "k"), "--geofence", str(tmp_path / "a.geojson"))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "results.json").read_text())
    inside = doc["summary"]["geofence"]["positions_inside"]["test-area"]
    assert inside > 0
    check = next(c for c in doc["checks"] if c["id"] == "edge.uplink.sensitive_areas")
    assert check["status"] == "pass" and check["evidence"]["positions_inside_outbound"] == {}
    # the summary says both: decoded inside (suppressed) and what left; the hub grades datasets on the latter
    assert doc["summary"]["geofence"]["positions_inside_outbound"] == {} and inside > 0
    assert doc["summary"]["dropped_by_reason"]["inside a sensitive area (geofence)"] >= inside
    area = load_geofence(tmp_path / "a.geojson")[0]
    recs = [json.loads(x) for x in run_cli("edge", "inspect", str(out), "--jsonl").stdout.splitlines()]
    pts = [(r["signals"]["GNSS_Latitude"], r["signals"]["GNSS_Longitude"]) for r in recs
           if "GNSS_Latitude" in r["signals"] and "GNSS_Longitude" in r["signals"]]
    assert pts and not area.contains(np.array([p[0] for p in pts]), np.array([p[1] for p in pts])).any()


def test_the_auditor_catches_a_position_inside(tmp_path):
    from edge.setup import build_agent

    (tmp_path / "a.geojson").write_text(json.dumps(AREA))
    areas = load_geofence(tmp_path / "a.geojson")
    agent, _ = build_agent([SAMPLE_DBC], None, tmp_path / "s", consented=["navigation"], key_file=tmp_path / "k")
    gnss = next(m for m in agent.plan.messages if m.name == "GNSS_Position")
    lat, lon = np.array([39.91, 39.95]), np.array([116.41, 116.41])
    ok = np.ones(2, dtype=bool)
    a = Audit()
    audit_message(a, gnss, OutMessage("GNSS_Position", np.zeros(2), {"GNSS_Latitude": (lat, ok),
                                                                       "GNSS_Longitude": (lon, ok)}), 3, areas)
    assert a.in_sensitive_area == {"test-area": 1}
