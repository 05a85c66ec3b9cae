"""The demo end to end: everything it writes can be handed over — no key, no secret, no unmasked personal
identifier in any output — and the report carries the platform catalogue and the dataset grading."""

from __future__ import annotations

import json
import re

import pytest

from benchmarks.readme_figures import README, figures, readme_block
from tests.conftest import run_cli
from vehicle_ds import zhlint
from vehicle_ds.discovery.detectors import scan_values
from vehicle_ds.vocabulary import FINDING

PERSONAL = ("cn_resident_id", "mobile", "bank_card", "vin", "plate", "imei", "iccid", "email")
TEXT = (".json", ".md", ".html", ".csv", ".jsonl", ".toml", ".geojson", ".txt")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo"
    proc = run_cli("demo", "--out", str(out), timeout=900)  # the default run: the README's figures are its figures
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_demo_outputs_hold_no_key_and_no_unmasked_identifier(demo):
    out = demo
    files = [p for p in out.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix in (".key", ".pem") or p.name == "device.json"]
    leaks = {}
    # the data-security officer's contacts are published on purpose (org.toml -> the documents)
    org_contacts = set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", (out / "org.toml").read_text("utf-8")))
    assert org_contacts
    for p in files:
        if p.suffix not in TEXT:
            continue
        text = p.read_text("utf-8", errors="replace")
        assert "PRIVATE KEY" not in text, p
        hits = {k: v for k, v in (scan_values(text.splitlines()).hits or {}).items() if k in PERSONAL}
        if set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)) <= org_contacts:
            hits.pop("email", None)  # the organisation's declared contact points belong in its filings
        if hits:
            leaks[str(p.relative_to(out))] = hits
    assert not leaks, leaks
    report = json.loads((out / "report.json").read_text())
    # every serious finding stands under a requirement, and every top risk says what to do
    unmapped = [report["checks"][i] for i in report["unmapped_checks"]]
    assert not [c["id"] for c in unmapped if c["status"] in FINDING and c["severity"] in ("critical", "high")]
    assert report["summary"]["top_risks"] and all(
        report["summary"]["top_risk_actions"][str(i)]["remediation"]["zh"] for i in report["summary"]["top_risks"])
    # one platform asset per database; vehicle handling rules never judge a platform's store
    stores = [json.loads((out / n).read_text())["asset"]["name"] for n in ("platform-catalog.json", "hub-catalog.json")]
    assert len(set(stores)) == 2
    assert not [c for c in report["checks"] if c["asset"]["kind"] == "platform" and c["id"] in (
        "catalog.sensitive_handling", "catalog.identifier_handling", "catalog.location_handling")]
    assert any(inv["asset"]["kind"] == "platform" for inv in report["inventory"])  # the platform catalogue
    assert report["datasets"] and {"surveying", "offence_related"} <= {
        c["id"] for inv in report["inventory"] for c in inv["combinations"]}
    edge = json.loads((out / "edge" / "results.json").read_text())
    assert edge["summary"]["geofence"]["positions_inside"] and edge["summary"]["transport"]["sessions"]
    # the documents, and the Chinese report, in the register of regulatory texts
    manifest = json.loads((out / "documents" / "documents.json").read_text("utf-8"))
    assert len(manifest["documents"]) == 7 and all(d["filled"] and d["todo"] for d in manifest["documents"])
    for page in [out / "report.zh.html", *(out / "documents").glob("*.html")]:
        assert not zhlint.lint_html(page.read_text("utf-8")), page.name
    assert not zhlint.lint_markdown((out / "report.zh.md").read_text("utf-8"))
    # the README's demo figures are this run's (benchmarks/readme_figures.py DIR --write renews them)
    assert readme_block(README.read_text("utf-8")) == figures(out)


@pytest.mark.parametrize("args, needle", [(["--frames", "-5"], "--frames"), (["--lang", "fr"], "--lang")])
def test_the_demo_refuses_bad_arguments_before_any_work(tmp_path, args, needle):
    proc = run_cli("demo", "--out", str(tmp_path / "d"), *args)
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "d").exists()


def test_the_summary_markdown_html_and_baseline_count_the_same_findings(demo):
    """One vocabulary: a finding is fail, warn, error or needs_review in every output of one report."""
    from collections import Counter

    from vehicle_ds.report.baseline import compare
    from vehicle_ds.report.words import label

    report = json.loads((demo / "report.json").read_text())
    findings = Counter(c["status"] for c in report["checks"] if c["status"] in FINDING)
    assert report["summary"]["findings"] == sum(findings.values()) > 0
    for lang, md_name in (("en", "report.md"), ("zh", "report.zh.md")):
        md_rows: Counter = Counter()
        for section in (demo / md_name).read_text("utf-8").split("\n## ")[1:]:
            if section.splitlines()[0].endswith(label("checks", lang)):
                md_rows.update(m.group(1).strip() for m in re.finditer(r"^\| .*? \| `[^`]+`.*? \| ([^|]+) \| ",
                                                                      section, re.MULTILINE))
        # every check that did not pass is a row: the findings, and the skipped and not assessed ones (a check
        # that never ran is said, not left out)
        not_passed = Counter(c["status"] for c in report["checks"] if c["status"] != "pass")
        assert md_rows == Counter({label(s, lang): n for s, n in not_passed.items()}), lang
        assert sum(n for s, n in md_rows.items() if s in {label(f, lang) for f in FINDING}) == sum(findings.values())
    html = (demo / "report.html").read_text("utf-8")
    rows = re.findall(r'<tr id="check-\d+">.*?<span class="badge s-(\w+)">', html)
    assert Counter(s for s in rows if s in FINDING) == findings
    new = compare(report, {"schema": "vehicle-ds/report@1", "checks": [], "requirements": []})["findings"]["new"]
    assert Counter(f["status"] for f in new) == findings



def test_a_platform_asset_is_never_called_a_vehicle_in_the_documents(demo):
    """The PIA and the filing name each row by its asset's own kind: the demo's two platform stores (the
    probed platform's database and the hub's) hold personal data, and a row about them says 平台."""
    platforms = [json.loads((demo / n).read_text())["asset"]["name"] for n in ("platform-catalog.json",
                                                                                "hub-catalog.json")]
    pages = {p.name: p.read_text("utf-8") for p in (demo / "documents").glob("*.html")}
    assert any(f"平台 {platforms[0]}：" in text for text in pages.values())
    for name in platforms:
        assert not [p for p, text in pages.items() if re.search(rf"车辆\s*{re.escape(name)}", text)], name
        # and its catalogue counts data fields, not CAN signals
        assert not [p for p, text in pages.items() if re.search(rf"平台 {re.escape(name)}：共\d+个信号", text)], name


def test_the_zh_catalogues_and_the_zh_report_say_the_discovery_reasons_in_chinese(demo):
    """A discovered column's reason ("100% of 300 sampled values are valid vin") is Chinese in the zh report and
    the zh catalogue (HTML and Markdown), which pass the register lint; the store's own checks are there."""
    from vehicle_ds import catalog_formats

    for name in ("platform-catalog.json", "hub-catalog.json", "catalog.json"):
        catalog = json.loads((demo / name).read_text("utf-8"))
        md, html = catalog_formats.to_markdown(catalog, "zh"), catalog_formats.to_html(catalog, "zh")
        assert not zhlint.lint_markdown(md) and not zhlint.lint_html(html), name
        assert "sampled values" not in md and "sampled values" not in html, name
    platform = json.loads((demo / "platform-catalog.json").read_text("utf-8"))
    assert any(e.get("why_zh", "").startswith("抽样") for e in platform["entries"])
    report = (demo / "report.zh.html").read_text("utf-8")
    assert "sampled values" not in report and "平台存储的敏感个人信息采取加密等安全技术措施" in report
