"""The report: requirement matrix from real outputs, statuses, exit status, schema errors, formats."""

from __future__ import annotations

import json

from tests.conftest import SAMPLE_DBC, run_cli
from vehicle_ds.report import build_report, load_inputs
from vehicle_ds.report.build import load_requirements


def test_every_requirement_is_evidenced_or_not_assessed(real_outputs):
    rep = build_report(load_inputs([real_outputs]))
    kinds = sorted(i["kind"] for i in rep["inputs"])
    assert kinds == ["catalog", "edge", "models", "probes"]
    for r in rep["requirements"]:
        said = [rep["checks"][i] for i in r["evidence"] if rep["checks"][i]["status"] not in ("skipped", "not_assessed")]
        if r["kind"] == "processor":
            assert r["status"] == "needs_review"
        elif said:
            assert r["status"] in ("pass", "fail", "needs_review"), r["id"]
        else:  # no evidence, or only checks that did not run or saw too little (discovery is opt-in)
            assert r["status"] == "not_assessed", r["id"]
    by_id = {r["id"]: r for r in rep["requirements"]}
    assert by_id["REQ-PRECISION"]["status"] == "pass"
    assert by_id["REQ-API-AUTHZ"]["status"] == "fail"  # the platform ran with its BOLA flaw on
    assert by_id["REQ-API-AUTHN"]["status"] == "pass"
    assert by_id["REQ-MODEL-CERTIFIED"]["status"] == "pass"
    assert rep["status"] == "fail"
    # exterior images, which positions make surveying data; tracked objects go to review, not to the filing
    assert by_id["PROC-FILING"]["note"]["en"].startswith("1 important-data")
    assert by_id["REQ-DATASET-GRADING"]["status"] == "not_assessed"  # no datasets document among the inputs
    assert "not decided" in by_id["PROC-EXPORT"]["note"]["en"]  # never "any export needs the assessment"
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
    # hand-written @1 documents declare no criterion: their passes are read as needs_review
    assert by_id["REQ-API-AUTHN"]["status"] == "needs_review"
    assert by_id["REQ-MODEL-CERTIFIED"]["status"] == "needs_review"
    legacy = [c for c in rep["checks"] if c["component"] == "probes" and c["id"] == "probes.jwt.alg_none"]
    assert legacy[0]["status"] == "needs_review" and "results@1" in legacy[0]["reason"]
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


def _results(tmp_path, name, component, asset, checks):
    from vehicle_ds.results import Asset, Criterion, check, new_results, write_json

    doc = new_results(component, {}, asset=Asset(*asset))
    doc["checks"] = [check(cid, cid, st, "high", [], criterion=Criterion("fixture", "engineering_default",
                                                                          minimum={"n": 1}), observed={"n": n})
                     for cid, st, n in checks]
    return write_json(tmp_path / name, doc)


def test_two_platforms_are_never_merged(tmp_path):
    a = _results(tmp_path, "a.json", "probes", ("platform", "flawed test platform"),
                 [("probes.jwt.weak_secret", "fail", 1)])
    b = _results(tmp_path, "b.json", "probes", ("platform", "hub"), [("probes.jwt.weak_secret", "pass", 1)])
    rep = build_report(load_inputs([a, b]))
    authn = next(r for r in rep["requirements"] if r["id"] == "REQ-API-AUTHN")
    rows = {x["key"]: x["status"] for x in authn["by_asset"]}
    assert rows == {"platform:flawed test platform": "fail", "platform:hub": "pass"}
    assert authn["status"] == "fail"
    from vehicle_ds.report import render

    md = render(rep, "md", "en")
    assert "| REQ-API-AUTHN | Authentication of data interfaces | platform hub | pass |" in md
    assert "platform flawed test platform | fail" in md
    html = render(rep, "html", "en")
    assert html.count('class="asset-cell"') >= 2 and ">platform flawed test platform<" in html


def test_a_requirement_needs_every_kind_of_evidence_it_declares(tmp_path, real_outputs):
    rep = build_report(load_inputs([real_outputs / "catalog.json"]))
    by_id = {r["id"]: r for r in rep["requirements"]}
    for rid in ("REQ-PRECISION", "REQ-PSEUDONYMISE", "REQ-CABIN-IN-VEHICLE", "REQ-IMPORTANT-IN-VEHICLE"):
        [row] = by_id[rid]["by_asset"]
        assert row["status"] == "not_assessed" and row["reason"] == "no edge evidence for this asset", rid
    assert by_id["REQ-API-AUTHN"]["status"] == "not_assessed" and "no platform" in by_id["REQ-API-AUTHN"]["reason"]


def test_a_report_over_an_empty_replay_passes_none_of_the_vehicle_requirements(tmp_path, real_outputs):
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    proc = run_cli("edge", "replay", str(empty), "--dbc", str(SAMPLE_DBC), "--out", str(tmp_path / "edge"),
                   "--key-file", str(tmp_path / "k"))
    assert proc.returncode == 2 and "no frame matched the DBC" in proc.stderr
    out = tmp_path / "r.json"
    proc = run_cli("report", str(real_outputs / "catalog.json"), str(tmp_path / "edge"), "--format", "json",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    by_id = {r["id"]: r for r in json.loads(out.read_text())["requirements"]}
    for rid in ("REQ-DEFAULT-OFF", "REQ-CABIN-IN-VEHICLE", "REQ-PRECISION", "REQ-PSEUDONYMISE",
                "REQ-IMPORTANT-IN-VEHICLE"):
        assert by_id[rid]["status"] == "not_assessed", (rid, by_id[rid])
        assert "too little evidence" in by_id[rid]["by_asset"][0]["reason"]


def test_default_off_needs_an_attestation_and_takes_one(tmp_path, real_outputs):
    rep = build_report(load_inputs([real_outputs]))
    off = next(r for r in rep["requirements"] if r["id"] == "REQ-DEFAULT-OFF")
    assert off["status"] == "needs_review" and "attestation" in off["by_asset"][0]["reason"]
    att = tmp_path / "att.toml"
    att.write_text('[[attestation]]\nrequirement = "REQ-DEFAULT-OFF"\nasset = "vehicle:sample_vehicle"\n'
                   'by = "Li Wei, data-security officer"\ndate = "2026-11-30"\n'
                   'statement = "Cabin camera and microphone are off at every ignition; an LED shows recording."\n')
    from vehicle_ds.report.verdicts import load_attestations

    rep = build_report(load_inputs([real_outputs]), attestations=load_attestations(att))
    off = next(r for r in rep["requirements"] if r["id"] == "REQ-DEFAULT-OFF")
    assert off["status"] == "pass" and off["by_asset"][0]["attestations"][0]["by"].startswith("Li Wei")
    att.write_text('[[attestation]]\nrequirement = "REQ-DEFAULT-OFF"\nasset = "*"\n')
    proc = run_cli("report", str(real_outputs), "--attestations", str(att), "--out", str(tmp_path / "r.md"))
    assert proc.returncode == 2 and "att.toml" in proc.stderr and "lacks by, date, statement" in proc.stderr


def test_every_check_of_a_new_document_declares_its_criterion_and_evidence(real_outputs):
    rep = build_report(load_inputs([real_outputs]))
    for c in rep["checks"]:
        assert "observed" in c and "criterion" in c, c["id"]
        if c["status"] == "pass":
            crit = c["criterion"]
            assert crit and crit["text"] and crit["source"] in ("clause", "standard", "acceptance",
                                                                 "engineering_default"), c["id"]
            assert all(c["observed"].get(k, 0) >= v for k, v in crit["minimum"].items()), c["id"]


def test_model_rows_show_their_measured_values_and_skipped_checks_are_listed(tmp_path):
    """A detector's failing check shows AP and recall in its row (HTML and Markdown, both languages), and a
    check a budget skipped is a row in the Markdown too, not silence."""
    from vehicle_ds.report import render
    from vehicle_ds.results import Asset, Criterion, check, new_results, write_json

    doc = new_results("models", {}, asset=Asset("model", "centerface.onnx", "abc"))
    crit = Criterion("AP@0.5 ≥ 0.8", "acceptance", "acc.toml [detection]", minimum={"objects": 20})
    doc["checks"] = [
        check("models.detection.clean", "Detection on the clean images", "fail", "high", ["GBT42888"],
              criterion=crit, observed={"objects": 43}, metrics={"ap50": 0.5, "recall": 0.25, "ap": 0.125}),
        check("models.detection.vanishing", "Vanishing attack", "skipped", "info", ["GBT42888"], criterion=None,
              reason="query budget of 100 used up")]
    rep = build_report(load_inputs([write_json(tmp_path / "m.json", doc)]))
    robust = next(r for r in rep["requirements"] if r["id"] == "REQ-MODEL-ROBUSTNESS")
    assert [rep["checks"][i]["id"] for i in robust["by_asset"][0]["evidence"]] == ["models.detection.vanishing"]
    for lang, word in (("en", "Measured"), ("zh", "测得值")):
        md = render(rep, "md", lang)
        rows = [line for line in md.splitlines() if line.startswith("| ") and "centerface.onnx" in line]
        row = next(line for line in rows if "`models.detection.clean`" in line)
        assert word in row and "ap50 0.5; ap 0.125; recall 0.25" in row
        assert any("`models.detection.vanishing`" in line for line in rows)
        html = render(rep, "html", lang)
        assert "ap50 0.5; ap 0.125; recall 0.25" in html and word in html
