"""The second level of grading: datasets graded with fleet-level triggers, and the export route of Order 16
at, under and over every threshold (filings.md §6)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from vehicle_ds.datasets import Dataset, assess, export_route, triggers
from vehicle_ds.results import validate_results

DECLARED = """
[organisation]
name = "Demo OEM"
platform = "demo-platform"

[[dataset]]
id = "fleet_positions"
category = "location"
title = "Fleet positions"
persons = 250000
purpose = "navigation"
storage = "cn-north-1"
retention_days = 180

[[dataset]]
id = "telemetry"
category = "vehicle_condition"
persons = 250000
purpose = "diagnostics"
storage = "cn-north-1"
retention_days = 365

[[dataset]]
id = "vins"
category = "identifier"
observe = "identifier"

[export]
cii = false
pi_persons_ytd = 120000
sensitive_persons_ytd = 0
arrangement = "standard_contract"
"""


def test_fleet_of_250k_makes_the_right_datasets_important(tmp_path):
    (tmp_path / "d.toml").write_text(DECLARED)
    obs = tmp_path / "obs.json"
    obs.write_text(json.dumps({"categories": [{"category": "identifier", "records": 900, "vehicles": 1200,
                                                 "regions": ["39N116E"]}]}))
    proc = run_cli("datasets", str(tmp_path / "d.toml"), "--observed", str(obs), "--out", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr
    doc = validate_results(json.loads((tmp_path / "r.json").read_text()))
    grades = {d["id"]: d for d in doc["summary"]["datasets"]}
    assert grades["fleet_positions"]["grade"] == "important"
    assert grades["fleet_positions"]["triggers"][0]["basis"] == "CN-ADR-3"
    assert grades["telemetry"]["grade"] == "general"  # technical data: no person-count escalation in the reference
    assert any("250,000 persons" in u for u in grades["telemetry"]["unknown"])  # ... but never a silent pass
    vins = grades["vins"]
    assert vins["source"] == "hub" and vins["facts"]["vehicles"] == 1200 and vins["grade"] == "general"
    assert any("fleet size unknown" in u for u in vins["unknown"])  # persons unknown, at least 1,200
    status = {c["id"]: c["status"] for c in doc["checks"]}
    assert status["datasets.grade.vins"] == "needs_review" and status["datasets.inventory.vins"] == "needs_review"
    assert status["datasets.grade.telemetry"] == "needs_review"
    # important data exists and nobody said whether it leaves: asked, never assumed false
    route = doc["summary"]["export_route"]
    assert status["datasets.export_route"] == "needs_review" and route["missing"] == ["important_data_exported"]
    assert doc["subject"]["asset"] == {"kind": "platform", "name": "demo-platform", "version": ""}
    (tmp_path / "d.toml").write_text(DECLARED + "important_data_exported = false\n")
    assert run_cli("datasets", str(tmp_path / "d.toml"), "--observed", str(obs), "--out",
                   str(tmp_path / "r.json")).returncode == 0
    doc = json.loads((tmp_path / "r.json").read_text())
    c = next(c for c in doc["checks"] if c["id"] == "datasets.export_route")
    assert c["status"] == "pass"  # 120k PI: standard contract, and one is declared
    assert doc["summary"]["export_route"]["duties"] == ["separate_consent", "pia"]  # PIPL Arts. 39 and 55 follow


def test_an_important_dataset_declared_exported_sends_the_route_to_the_assessment():
    raw = {"organisation": {"name": "x"}, "export": {"cii": False, "pi_persons_ytd": 10, "sensitive_persons_ytd": 0,
                                                      "important_data_exported": False, "arrangement": "none"}}
    big = Dataset("ids", "identifier", persons=200_000, exported=True)
    assert assess(raw, [big])["summary"]["export_route"]["route"] == "security_assessment"  # its own word wins
    kept = Dataset("ids", "identifier", persons=200_000, exported=False)
    assert assess(raw, [kept])["summary"]["export_route"]["route"] == "exempt"


@pytest.mark.parametrize(("dataset", "warns"), [
    (Dataset("a", "identifier", persons=120_000, vehicles=1), "120,000 persons declared for 1 vehicle"),
    (Dataset("a", "identifier", persons=10, vehicles=500), "fewer persons (10) than vehicles (500)"),
    (Dataset("a", "identifier", persons=120_000, vehicles=90_000), None),
    (Dataset("a", "identifier", persons=120_000), None),
])
def test_implausible_declarations_warn_and_keep_the_dataset_under_review(dataset, warns):
    doc = assess({"organisation": {"name": "x"}}, [dataset])
    g = doc["summary"]["datasets"][0]
    assert bool(g["warnings"]) == bool(warns)
    if warns:
        assert warns in g["warnings"][0]
        c = next(c for c in doc["checks"] if c["id"] == "datasets.grade.a")
        assert c["status"] == "needs_review" and warns in c["reason"]


@pytest.mark.parametrize(("dataset", "important", "unknown"), [
    (Dataset("a", "location", persons=100_000), False, False),  # "more than 100,000": not at
    (Dataset("a", "location", persons=100_001), True, False),
    (Dataset("a", "location", vehicles=100_001), True, False),  # persons >= vehicles
    (Dataset("a", "location", vehicles=5_000), False, True),
    (Dataset("a", "identifier"), False, True),
    (Dataset("a", "location", persons=10, sensitive_area_hits=3), True, False),
    (Dataset("a", "exterior_perception", with_positions=True), True, False),
    (Dataset("a", "charging", charging_network_operation=True), True, False),
    (Dataset("a", "vehicle_condition", persons=900_000), False, False),
    (Dataset("a", "exterior_perception", faces_or_plates=True), True, False),  # Art. 3, important data item 4
    (Dataset("a", "exterior_perception", faces_or_plates=False), False, False),
])
def test_a_dataset_is_important_when_a_trigger_is_met_and_an_unknown_fleet_size_is_said(dataset, important, unknown):
    met, missing = triggers(dataset, {})
    assert bool(met) == important and any("fleet size unknown" in m for m in missing) == unknown


@pytest.mark.parametrize(("facts", "important", "route"), [
    ({"cii": False, "pi_persons_ytd": 99_999, "sensitive_persons_ytd": 0}, False, "exempt"),
    ({"cii": False, "pi_persons_ytd": 100_000, "sensitive_persons_ytd": 0}, False, "standard_contract_or_certification"),
    ({"cii": False, "pi_persons_ytd": 999_999, "sensitive_persons_ytd": 0}, False, "standard_contract_or_certification"),
    ({"cii": False, "pi_persons_ytd": 1_000_000, "sensitive_persons_ytd": 0}, False, "security_assessment"),
    ({"cii": False, "pi_persons_ytd": 10, "sensitive_persons_ytd": 1}, False, "standard_contract_or_certification"),
    ({"cii": False, "pi_persons_ytd": 10, "sensitive_persons_ytd": 9_999}, False, "standard_contract_or_certification"),
    ({"cii": False, "pi_persons_ytd": 10, "sensitive_persons_ytd": 10_000}, False, "security_assessment"),
    ({"cii": True, "pi_persons_ytd": 10, "sensitive_persons_ytd": 0}, False, "security_assessment"),
    ({"cii": False, "pi_persons_ytd": 10, "sensitive_persons_ytd": 0}, True, "security_assessment"),
    ({"cii": False, "pi_persons_ytd": None, "sensitive_persons_ytd": 0}, False, "undetermined"),
    ({"cii": False, "pi_persons_ytd": 500_000, "sensitive_persons_ytd": 0, "exemptions": ["Art. 5(1) contract"]},
     False, "exempt"),
    # a claim is honoured at every volume (what it waives is listed), never for important data or CII
    ({"cii": False, "pi_persons_ytd": 2_000_000, "sensitive_persons_ytd": 50_000, "exemptions": ["Art. 5(1)"]},
     False, "exempt"),
    ({"cii": False, "pi_persons_ytd": 10, "sensitive_persons_ytd": 0, "exemptions": ["Art. 5(1)"]}, True,
     "security_assessment"),
    ({"cii": False, "pi_persons_ytd": 10, "sensitive_persons_ytd": 0}, None, "undetermined"),
    ({"cii": False, "pi_persons_ytd": 10, "sensitive_persons_ytd": 0, "exemptions": ["Art. 5(1)"]}, None,
     "undetermined"),
    ({"exports": False}, False, "none"),
])
def test_the_export_route_follows_the_person_thresholds_cii_status_and_importance(facts, important, route):
    r = export_route(facts, important)
    if facts.get("pi_persons_ytd") == 2_000_000:
        assert len(r["waived"]) == 2  # both assessment thresholds, said aloud
    assert r["route"] == route, r
    if route == "exempt" and "exemptions" in facts:
        assert r["claimed_exemptions"] == facts["exemptions"]
    if route in ("exempt", "standard_contract_or_certification") and facts.get("pi_persons_ytd") is not None:
        assert r["margin"]["pi_to_assessment"] == max(1_000_000 - facts["pi_persons_ytd"], 0)


def test_a_route_the_arrangement_does_not_meet_fails():
    raw = {"organisation": {"name": "x"}, "export": {"cii": False, "pi_persons_ytd": 2_000_000,
                                                      "sensitive_persons_ytd": 0, "arrangement": "standard_contract"}}
    doc = assess(raw, [])
    c = next(c for c in doc["checks"] if c["id"] == "datasets.export_route")
    assert c["status"] == "fail" and "security_assessment" in c["reason"]
    undeclared = assess({"organisation": {"name": "x"}}, [])
    assert next(c for c in undeclared["checks"] if c["id"] == "datasets.export_route")["status"] == "not_assessed"
