"""The regulator documents (vehicle-ds documents): generated from real outputs plus an organisation profile,
every auto-filled field traced to evidence that exists, every person-filled field marked 待填写, DOCX that
python-docx reads back (headings, page-number fields, shaded 待填写 cells), the catalogue as XLSX/CSV, [U]
figures never presented as law, the deadlines dated, and the Chinese in the register of regulatory texts."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
from importlib import resources

import docx
import openpyxl
import pytest

from tests.conftest import run_cli
from vehicle_ds import zhlint
from vehicle_ds.deadlines import deadlines
from vehicle_ds.documents import generate
from vehicle_ds.documents.findings import observed
from vehicle_ds.org import credit_code_ok, load_org
from vehicle_ds.report import build_report, load_inputs

DOCS = ("filing", "risk_assessment", "annual_report", "incident_plan", "pia", "export_route", "self_check")
DECLARED = """
[organisation]
name = "示例汽车"
platform = "Test vehicle platform"

[[dataset]]
id = "fleet_positions"
category = "location"
title = "Fleet positions"
title_zh = "车队位置数据"
persons = 250000
purpose = "导航"
storage = "境内数据中心"
retention_days = 30

[[dataset]]
id = "telemetry"
category = "vehicle_condition"
title_zh = "车况数据"
persons = 250000
purpose = "故障诊断"
storage = "境内数据中心"
retention_days = 365

[export]
cii = false
pi_persons_ytd = 120000
sensitive_persons_ytd = 0
important_data_exported = false
arrangement = "standard_contract"
"""


@pytest.fixture(scope="module")
def inputs(real_outputs, tmp_path_factory):
    """The real outputs plus a datasets grading and an incident register."""
    d = tmp_path_factory.mktemp("doc-inputs")
    shutil.copytree(real_outputs, d / "outputs")
    (d / "datasets.toml").write_text(DECLARED, "utf-8")
    proc = run_cli("datasets", str(d / "datasets.toml"), "--out", str(d / "outputs" / "datasets" / "results.json"))
    assert proc.returncode == 0, proc.stderr
    (d / "incidents.json").write_text(json.dumps({"incidents": [
        {"id": 1, "title": "接口越权访问他人车辆位置", "state": "graded", "grade": "较大"}]}), "utf-8")
    org = d / "org.toml"
    org.write_text(resources.files("vehicle_ds").joinpath("data/org.example.toml").read_text("utf-8"), "utf-8")
    return d


@pytest.fixture(scope="module")
def generated(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("documents") / "zh"
    proc = run_cli("documents", str(inputs / "outputs"), "--org", str(inputs / "org.toml"), "--out", str(out),
                   "--incidents", str(inputs / "incidents.json"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out, json.loads((out / "documents.json").read_text("utf-8"))


def test_seven_documents_in_docx_and_html_and_the_catalogue_as_xlsx_and_csv(generated):
    out, manifest = generated
    assert [d["id"] for d in manifest["documents"]] == list(DOCS)
    for d in manifest["documents"]:
        for kind in ("docx", "html"):
            assert (out / d["files"][kind]).stat().st_size > 0, (d["id"], kind)
    filing = manifest["documents"][0]
    assert {"xlsx", "csv"} <= set(filing["files"])


def test_every_auto_filled_field_names_evidence_that_exists(generated, inputs):
    _, manifest = generated
    org = load_org(inputs / "org.toml")
    requirements = {r["id"] for r in build_report(load_inputs([inputs / "outputs"]))["requirements"]}
    # inputs are named relative to the folder they share: no local folder in an output
    input_paths = {p.relative_to(inputs / "outputs").as_posix() for p in (inputs / "outputs").rglob("*.json")}
    traced = 0
    for d in manifest["documents"]:
        for f in d["filled"]:
            src = f["source"]
            head = src.split(" › ")[0]
            if head == "org.toml":  # a key of the profile, and the value is the profile's
                node = org
                for part in src.split(" › ")[1].split("."):
                    node = node[part] if isinstance(node, dict) else node
                traced += 1
            elif head.endswith(".json"):
                assert head in input_paths, (d["id"], f)
                traced += 1
            elif head == "requirements":  # verdicts of the report's requirements, from the same inputs
                assert set(src.split(" › ")[1].split(", ")) <= requirements, (d["id"], f)
            else:
                assert head == "vehicle-ds documents" or head.startswith("PIPL-56"), (d["id"], f)
    assert traced > 50  # most fields come from evidence


def test_the_docx_round_trips_and_shows_what_a_person_must_complete(generated):
    out, manifest = generated
    for d in manifest["documents"]:
        path = out / d["files"]["docx"]
        doc = docx.Document(str(path))
        headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
        assert len(headings) >= 3, d["id"]
        footer = doc.sections[0].footer._element.xml
        assert "PAGE" in footer and "NUMPAGES" in footer  # page numbers, as Word computes them
        cells = [c for t in doc.tables for row in t.rows for c in row.cells]
        todo_cells = [c for c in cells if c.text == "待填写"]
        assert bool(todo_cells) == bool(d["todo"]), d["id"]
        assert all('w:fill="FFF2CC"' in c._tc.xml for c in todo_cells)  # shaded for the person
        text = "\n".join([p.text for p in doc.paragraphs] + [c.text for c in cells])
        for f in d["filled"]:
            assert f["value"] in text, (d["id"], f)
        again = path.with_suffix(".again.docx")
        doc.save(str(again))
        assert [p.text for p in docx.Document(str(again)).paragraphs] == [p.text for p in doc.paragraphs]


def test_a_missing_profile_fact_becomes_a_marked_field_not_a_guess(inputs, tmp_path):
    rep = build_report(load_inputs([inputs / "outputs"]))
    full = load_org(inputs / "org.toml")
    partial = {k: v for k, v in full.items() if k != "security_officer"}
    m_full = generate(rep, full, tmp_path / "full", "zh")
    m_partial = generate(rep, partial, tmp_path / "partial", "zh")

    def fields(m, key):
        return [f for d in m["documents"] for f in d[key] if "数据安全负责人" in (f if isinstance(f, str) else f["field"])]

    assert fields(m_full, "filled") and not fields(m_full, "todo")
    assert fields(m_partial, "todo") and not fields(m_partial, "filled")


def test_the_catalogue_spreadsheet_and_csv_hold_the_same_rows(generated):
    out, manifest = generated
    filing = manifest["documents"][0]
    wb = openpyxl.load_workbook(out / filing["files"]["xlsx"])
    sheet = wb[wb.sheetnames[1]]
    rows = list(sheet.iter_rows(values_only=True))
    with (out / filing["files"]["csv"]).open(encoding="utf-8-sig") as fh:
        csv_rows = list(csv.reader(fh))
    assert [list(r) for r in rows] == [[c or None for c in r] for r in csv_rows]
    assert rows[0][0] == "数据名称" and len(rows) >= 3  # the datasets graded important, and the vehicle's
    assert any(r[0] == "车队位置数据" for r in rows)
    todo = [c for row in sheet.iter_rows() for c in row if c.value == "待填写"]
    assert todo and all(c.fill.fgColor.rgb.endswith("FFF2CC") for c in todo)


def test_unverified_figures_are_never_presented_as_law(generated):
    out, manifest = generated
    plan = next(d for d in manifest["documents"] if d["id"] == "incident_plan")
    tables = docx.Document(str(out / plan["files"]["docx"])).tables
    grading = next(t for t in tables if t.rows[0].cells[1].text == "特别重大")
    rows = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in grading.rows[1:]}
    outage = rows["重要网络设施或系统中断"]
    assert outage[0].endswith("（待与官方文本核对）")  # 特别重大 ≥ 24 h is [U]
    assert outage[1] == "≥ 12小时"  # 重大 ≥ 12 h was read in the annex [V]
    assert "待与官方文本核对" in rows["直接经济损失"][2]


def test_deadlines_are_dated_and_those_within_30_days_flagged():
    org = {"dates": {"last_risk_assessment": dt.date(2026, 1, 20)}}
    by_id = {d.id: d for d in deadlines(dt.date(2026, 12, 1), org, refile_since=dt.date(2026, 11, 30))}
    assert (by_id["annual_report"].due, by_id["annual_report"].days_left, by_id["annual_report"].soon) == \
        ("2026-12-15", 14, True)
    assert by_id["risk_assessment"].due == "2027-01-20" and not by_id["risk_assessment"].soon
    assert by_id["refiling"].due == "2027-02-28"  # three months, clamped to the month's end
    after = {d.id: d for d in deadlines(dt.date(2026, 12, 16), {})}
    assert after["annual_report"].due == "2027-12-15" and after["risk_assessment"].due is None
    assert "last_risk_assessment" in after["risk_assessment"].missing_en


def test_the_zh_documents_and_report_are_in_the_register_and_the_en_ones_are_not(generated, inputs, tmp_path):
    out, manifest = generated
    for d in manifest["documents"]:
        findings = zhlint.lint_html((out / d["files"]["html"]).read_text("utf-8"))
        assert not findings, (d["id"], [str(f) for f in findings[:5]])
    en = tmp_path / "en"
    proc = run_cli("documents", str(inputs / "outputs"), "--org", str(inputs / "org.toml"), "--out", str(en),
                   "--lang", "en")
    assert proc.returncode == 0, proc.stderr[-2000:]
    english = json.loads((en / "documents.json").read_text("utf-8"))
    assert len(zhlint.lint_html((en / english["documents"][1]["files"]["html"]).read_text("utf-8"))) > 20


def test_a_bad_profile_is_one_line_naming_the_file(inputs, tmp_path):
    assert credit_code_ok("91110000600037341L") and not credit_code_ok("911100006000373410")
    bad = tmp_path / "org.toml"
    bad.write_text('[organisation]\ncredit_code = "911100006000373410"\n', "utf-8")
    proc = run_cli("documents", str(inputs / "outputs"), "--org", str(bad), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert str(bad) in proc.stderr and "credit_code" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    bad.write_text('[dates]\nlast_risk_assessment = "last spring"\n', "utf-8")
    proc = run_cli("documents", str(inputs / "outputs"), "--org", str(bad), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "last_risk_assessment" in proc.stderr


def test_a_baseline_with_much_less_important_data_dates_the_re_filing(inputs, tmp_path):
    previous = tmp_path / "previous.json"
    run_cli("report", str(inputs / "outputs"), "--out", str(previous), "--format", "json")
    doc = json.loads(previous.read_text("utf-8"))
    for inv in doc["inventory"]:
        inv["important"] = []  # last time: no important signal (now the exterior camera's images are one)
    previous.write_text(json.dumps(doc), "utf-8")
    out = tmp_path / "docs"
    proc = run_cli("documents", str(inputs / "outputs"), "--org", str(inputs / "org.toml"), "--out", str(out),
                   "--baseline", str(previous))
    assert proc.returncode == 0, proc.stderr[-2000:]
    manifest = json.loads((out / "documents.json").read_text("utf-8"))
    refile = next(d for d in manifest["deadlines"] if d["id"] == "refiling")
    today = dt.date.today()
    assert dt.date.fromisoformat(refile["due"]) > today and refile["days_left"] >= 89
    filing = (out / manifest["documents"][0]["files"]["html"]).read_text("utf-8")
    due = dt.date.fromisoformat(refile["due"])
    assert f"截止日期为{due.year}年{due.month}月{due.day}日" in filing and "须变更备案" in filing


def _pia_export_fields(inputs, tmp_path, declared: str) -> tuple[dict[str, str], list[str]]:
    """The PIA's "abroad" and "provided" statements per dataset, graded from ``declared``."""
    filled, todo = _statements(inputs, tmp_path, declared, "pia")
    ends = (" abroad", " provided")
    return {k: v for k, v in filled.items() if k.endswith(ends)}, [t for t in todo if t.endswith(ends)]


def test_a_dataset_is_said_to_go_abroad_or_to_others_only_from_its_own_declaration(inputs, tmp_path):
    """The export route is the organisation's; whether one dataset leaves is that dataset's fact. Undeclared
    reads 待填写, never the route's or a partner list's value; declaring it for one dataset changes exactly
    that dataset's statements, and an organisation that exports nothing exports no dataset."""
    filled, todo = _pia_export_fields(inputs, tmp_path / "a", DECLARED)
    assert not filled and "fleet_positions abroad" in " ".join(todo) and "fleet_positions provided" in " ".join(todo)
    one = DECLARED.replace('retention_days = 30\n', 'retention_days = 30\nexported = true\nshared_with = ["地图服务商"]\n', 1)
    filled, todo = _pia_export_fields(inputs, tmp_path / "b", one)
    assert filled == {"fleet_positions abroad": "是", "fleet_positions provided": "是"}
    none = DECLARED.replace("[export]\n", "[export]\nexports = false\n")
    filled, _ = _pia_export_fields(inputs, tmp_path / "c", none)
    assert {k: v for k, v in filled.items() if k.startswith("fleet_positions")} == {"fleet_positions abroad": "否"}
    assert {v for k, v in filled.items() if k.endswith(" abroad")} == {"否"}  # the vehicles' signal groups too


def test_the_export_route_document_states_the_declared_arrangement_and_its_verdict(inputs, tmp_path):
    """The arrangement is the organisation's declaration: "none" under a route that needs one reads 未作安排
    (never 无数据出境, the route of an organisation that exports nothing), and the verdict beside it changes
    with it; changing the declaration changes exactly these two statements."""
    def statements(declared: str, where) -> dict[str, str]:
        work = where / "work"
        shutil.copytree(inputs / "outputs", work)
        (where / "datasets.toml").write_text(declared, "utf-8")
        run_cli("datasets", str(where / "datasets.toml"), "--out", str(work / "datasets" / "results.json"))
        m = generate(build_report(load_inputs([work])), load_org(inputs / "org.toml"), where / "docs", "zh")
        doc = next(d for d in m["documents"] if d["id"] == "export_route")
        return {f["field"]: f["value"] for f in doc["filled"]}

    contract = statements(DECLARED, tmp_path / "a")
    nothing = statements(DECLARED.replace('arrangement = "standard_contract"', 'arrangement = "none"'), tmp_path / "b")
    assert contract["当前安排"] == "标准合同" and contract["核查结论"] == "符合"
    assert nothing["当前安排"].startswith("未作安排") and nothing["核查结论"].startswith("不符合")
    assert {k for k in contract if contract[k] != nothing.get(k)} == {"当前安排", "核查结论"}


def _statements(inputs, where, declared: str, doc_id: str) -> tuple[dict[str, str], set[str]]:
    """One document's statements (field -> value) and its 待填写 fields, graded from ``declared``."""
    work = where / "work"
    shutil.copytree(inputs / "outputs", work)
    (where / "datasets.toml").write_text(declared, "utf-8")
    proc = run_cli("datasets", str(where / "datasets.toml"), "--out", str(work / "datasets" / "results.json"))
    assert proc.returncode in (0, 1), proc.stderr
    m = generate(build_report(load_inputs([work])), load_org(inputs / "org.toml"), where / "docs", "zh")
    doc = next(d for d in m["documents"] if d["id"] == doc_id)
    return {f["field"]: f["value"] for f in doc["filled"]}, set(doc["todo"])


TWO_IMPORTANT = DECLARED.replace("[export]\n", """[[dataset]]
id = "vins"
category = "identifier"
title_zh = "车辆识别代号"
persons = 200000
purpose = "售后服务"
storage = "境内数据中心"
retention_days = 365

[export]
""")


def test_a_filing_row_states_its_own_sharing_export_and_owner_and_nothing_of_another_row(inputs, tmp_path):
    """A partner that receives one dataset is listed on that row only; the other row's 对外共享 stays 待填写
    (never the organisation's partner list), and exactly the statements resting on the change move."""
    base, _ = _statements(inputs, tmp_path / "a", TWO_IMPORTANT, "filing")
    assert "车队位置数据 / 对外共享" not in base and "车辆识别代号 / 对外共享" not in base
    one = TWO_IMPORTANT.replace('retention_days = 30\n', 'retention_days = 30\nshared_with = ["地图服务商"]\n'
                                'exported = false\nowner = "车联网数据部"\n', 1)
    changed, todo = _statements(inputs, tmp_path / "b", one, "filing")
    assert changed["车队位置数据 / 对外共享"] == "地图服务商" and changed["车队位置数据 / 出境情况"] == "不出境"
    assert changed["车队位置数据 / 责任部门／责任人"] == "车联网数据部"
    moved = {k for k in changed.keys() | base.keys() if changed.get(k) != base.get(k)}
    assert moved == {"车队位置数据 / 对外共享", "车队位置数据 / 出境情况", "车队位置数据 / 责任部门／责任人"}
    assert {"车辆识别代号 / 对外共享", "车辆识别代号 / 出境情况", "车辆识别代号 / 责任部门／责任人"} <= \
        {t.split(" / ", 1)[1] for t in todo}


def test_a_dataset_on_a_clean_platform_is_never_filed_with_another_platforms_verdicts(inputs, tmp_path):
    """安全保护措施 states the verdicts of the platform that holds the dataset: held by the probed (flawed)
    platform, it reads that platform's 不符合; held by a platform no check looked at, it reads 待填写."""
    probed, _ = _statements(inputs, tmp_path / "a", DECLARED, "filing")
    assert "不符合" in probed["车队位置数据 / 安全保护措施"]
    other = DECLARED.replace('platform = "Test vehicle platform"', 'platform = "Another platform"')
    clean, todo = _statements(inputs, tmp_path / "b", other, "filing")
    assert "车队位置数据 / 安全保护措施" not in clean
    assert any(t.endswith("车队位置数据 / 安全保护措施") for t in todo)


def test_risk_rows_state_what_was_observed_and_remediation_covers_what_needs_review(inputs, generated):
    """A risk row is the fact the check saw, with its numbers (the JWT key guessed in N attempts), never the
    control's wording alone; the remediation table lists needs-review items as well as failures, per asset;
    and the processor checklist the compliance chapter points to is in the document."""
    out, manifest = generated
    report = build_report(load_inputs([inputs / "outputs"]))
    bola = next(c for c in report["checks"] if c["id"] == "probes.bola")
    assert bola["status"] == "fail"  # the fixture's platform has this flaw on
    doc = next(d for d in manifest["documents"] if d["id"] == "risk_assessment")
    text = zhlint.html_text((out / doc["files"]["html"]).read_text("utf-8"))
    e = bola["evidence"]
    assert f"以用户 {e['as']} 的凭据读取到用户 {e['object_of']} 的数据" in text and e["request"] in text
    assert observed({"evidence": {"alg": "HS256", "candidates_tried": 2, "secret": "***"}}, "zh") == \
        "HMAC 密钥可被猜测：在公开密钥表中2次尝试命中（HS256）"
    review = [r for r in report["requirements"] if r["kind"] != "processor"
              and any(a["status"] == "needs_review" for a in r["by_asset"])]
    assert review and all(f"{r['id']} " in " ".join(doc["todo"]) for r in review)  # owner and due per review item
    assert "附件二：数据处理者义务清单" in text and "PROC-INCIDENT" in text


def test_the_submission_copy_holds_no_evidence_column_tool_name_iso_date_raw_value_or_engineers_note(generated):
    """Beside each working copy, the copy to file: no 来源 column, no tool or file name, no internal note, no
    ISO date or Python value, the seal/signature/date block, and still the register of regulatory texts."""
    out, manifest = generated
    for d in manifest["documents"]:
        html = (out / d["files"]["submission"]["html"]).read_text("utf-8")
        text = zhlint.html_text(html)
        assert "<th>来源</th>" not in html and "<th>来源</th>" in (out / d["files"]["html"]).read_text("utf-8")
        for bad in ("vehicle-ds", ".json", "剩余", "参考资料中无此数字", "None", "['", "REQ-", "probes.", "catalog."):
            assert bad not in text, (d["id"], bad, text[max(0, text.find(bad) - 60):text.find(bad) + 40])
        assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), d["id"]
        assert "填报单位（盖章）" in text and "负责人（签字）" in text, d["id"]
        assert not zhlint.lint_html(html), d["id"]
        docx_text = "\n".join(p.text for p in docx.Document(str(out / d["files"]["submission"]["docx"])).paragraphs)
        assert "填报单位（盖章）" in docx_text and "vehicle-ds" not in docx_text, d["id"]
    filing = (out / manifest["documents"][0]["files"]["submission"]["html"]).read_text("utf-8")
    assert "size:A4 landscape" in filing


def test_the_self_check_answers_each_ask_per_asset_and_the_incident_plan_leaves_decisions_to_a_person(generated):
    """风险自查报告: each of the special action's asks answered by the verdicts of the asset it concerns (the
    probed platform's BOLA flaw makes its authorisation 不符合, the models answer model testing); the incident
    plan: per-level response for a person, the PIPL Art. 57 notice to the department, the report templates."""
    out, manifest = generated
    docs = {d["id"]: d for d in manifest["documents"]}
    text = zhlint.html_text((out / docs["self_check"]["files"]["html"]).read_text("utf-8"))
    row = re.search(r"数据接口安全防护\s+REQ-API-AUTHZ\s+\S+\s+平台 Test vehicle platform\s+(\S+)", text)
    assert row and row.group(1) == "不符合", text[:2000]
    assert re.search(r"自动驾驶模型安全检测\s+REQ-MODEL-\S+\s+\S+\s+模型 ", text)
    assert "数据安全风险自查报告" in text and any(t.startswith("六、自查结论") for t in docs["self_check"]["todo"])
    plan = docs["incident_plan"]
    assert {f"六、应急响应 / {level} measures" for level in ("特别重大", "重大", "较大", "一般")} <= set(plan["todo"])
    text = zhlint.html_text((out / plan["files"]["html"]).read_text("utf-8"))
    assert "履行个人信息保护职责的部门" in text and "《中华人民共和国个人信息保护法》第五十七条" in text
    assert all(t in text for t in ("事件初报", "事件续报", "事件总结报告"))


def test_the_annual_reports_export_supplement_is_asked_only_when_important_data_leaves(inputs, tmp_path):
    """Nothing important exported (declared): the supplement reads 不适用 and asks nothing; important data
    exported: its recipients, types and storage abroad are for a person; the fact itself is the declaration's."""
    none, todo = _statements(inputs, tmp_path / "a", DECLARED, "annual_report")
    assert none["是否向境外提供重要数据"] == "否" and not [t for t in todo if "境外接收方" in t]
    out = DECLARED.replace("important_data_exported = false", "important_data_exported = true")
    some, todo = _statements(inputs, tmp_path / "b", out, "annual_report")
    assert some["是否向境外提供重要数据"] == "是" and [t for t in todo if "出境数据的种类、规模、目的" in t]
