"""Render the report model as HTML (one self-contained file), Markdown or JSON, in zh or en."""

from __future__ import annotations

import base64
import json
from typing import Any

from ..catalog_formats import to_csv
from ..taxonomy import TAXONOMY
from . import charts

LABELS: dict[str, dict[str, str]] = {
    "title": {"zh": "车联网数据合规报告", "en": "Connected-vehicle data compliance report"},
    "summary": {"zh": "执行摘要", "en": "Executive summary"},
    "matrix": {"zh": "合规要求矩阵", "en": "Requirement matrix"},
    "inventory": {"zh": "数据清单与分级", "en": "Data inventory and grading"},
    "uplink": {"zh": "出车数据", "en": "What leaves the vehicle"},
    "interfaces": {"zh": "数据接口安全", "en": "Interface security"},
    "models": {"zh": "模型鲁棒性", "en": "Model robustness"},
    "processor": {"zh": "数据处理者义务清单", "en": "Processor-level obligations"},
    "appendix": {"zh": "附录:输入与复现", "en": "Appendix: inputs and reproduction"},
    "checks": {"zh": "全部检查项", "en": "All checks"},
    "pass": {"zh": "符合", "en": "pass"}, "fail": {"zh": "不符合", "en": "fail"},
    "needs_review": {"zh": "需复核", "en": "needs review"}, "not_assessed": {"zh": "未评估", "en": "not assessed"},
    "warn": {"zh": "警告", "en": "warn"}, "error": {"zh": "错误", "en": "error"}, "skipped": {"zh": "跳过", "en": "skipped"},
    "critical": {"zh": "严重", "en": "critical"}, "high": {"zh": "高", "en": "high"}, "medium": {"zh": "中", "en": "medium"},
    "low": {"zh": "低", "en": "low"}, "info": {"zh": "信息", "en": "info"},
    "requirement": {"zh": "要求", "en": "Requirement"}, "status": {"zh": "状态", "en": "Status"},
    "basis": {"zh": "依据", "en": "Basis"}, "evidence": {"zh": "证据", "en": "Evidence"},
    "severity": {"zh": "严重程度", "en": "Severity"}, "check": {"zh": "检查项", "en": "Check"},
    "top_risks": {"zh": "主要风险", "en": "Top risks"}, "none": {"zh": "无", "en": "none"},
    "by_category_grade": {"zh": "按类别与级别的信号数", "en": "Signals by category and grade"},
    "by_category_pi": {"zh": "按类别与个人信息类别的信号数", "en": "Signals by category and PI class"},
    "findings_by_severity": {"zh": "待处理项按严重程度", "en": "Open findings by severity"},
    "important_csv": {"zh": "下载重要数据目录(CSV,备案用)", "en": "Download the important-data catalogue (CSV, for filing)"},
    "ledger_csv": {"zh": "下载完整数据资产台账(CSV)", "en": "Download the full data-asset ledger (CSV)"},
    "combinations": {"zh": "组合规则", "en": "Combinations"}, "ledger": {"zh": "数据资产台账", "en": "Data-asset ledger"},
    "unverified_note": {"zh": "标*的依据未经原文核实,相关结论需人工确认",
                        "en": "bases marked * rest on a secondary or unverified source: confirm before relying on them"},
    "not_assessed_note": {"zh": "没有检查结果支撑的要求标为未评估,而非符合",
                          "en": "a requirement no check evidences is 'not assessed', never 'pass'"},
    "no_inputs": {"zh": "本报告没有此类输入", "en": "no input of this kind in this report"},
    "error_vs_severity": {"zh": "各类扰动下错误率随严重等级变化", "en": "Error rate versus corruption severity"},
    "certified": {"zh": "可证明准确率随半径变化", "en": "Certified accuracy versus radius"},
    "note": {"zh": "说明", "en": "Note"}, "input": {"zh": "输入", "en": "Input"},
    "overall": {"zh": "总体结论", "en": "Overall"}, "filter": {"zh": "筛选信号…", "en": "Filter signals…"},
    "asset": {"zh": "对象", "en": "Asset"}, "reason": {"zh": "原因", "en": "Reason"},
    "criterion": {"zh": "判定标准", "en": "Criterion"}, "observed": {"zh": "观测量", "en": "Observed"},
    "vehicle": {"zh": "车辆", "en": "vehicle"}, "platform": {"zh": "平台", "en": "platform"},
    "model": {"zh": "模型", "en": "model"},
    "clause": {"zh": "法规条款", "en": "legal clause"}, "standard": {"zh": "标准", "en": "standard"},
    "acceptance": {"zh": "验收配置", "en": "acceptance profile"},
    "engineering_default": {"zh": "工程默认值", "en": "engineering default"},
    "datasets": {"zh": "数据集分级与出境路径", "en": "Datasets: grading and export route"},
    "dataset": {"zh": "数据集", "en": "Dataset"}, "triggers": {"zh": "触发条件", "en": "Triggers"},
    "unknown_facts": {"zh": "待查明事实", "en": "Unknown facts"}, "source": {"zh": "来源", "en": "Source"},
    "export_route": {"zh": "出境路径", "en": "Export route"},
    "decisions": {"zh": "需管理层决策事项", "en": "Decisions needed"},
    "unowned_failures": {"zh": "无负责人的不符合项", "en": "Failures nobody owns"},
    "risk_acceptance_to_sign": {"zh": "待签批的风险接受", "en": "Risk acceptances to sign"},
    "done_but_still_failing": {"zh": "已标记完成但仍不符合", "en": "Marked done, still failing"},
    "closable": {"zh": "已符合、可关闭的整改项", "en": "Actions that can be closed"},
    "overdue": {"zh": "逾期整改项", "en": "Overdue actions"},
    "remediation": {"zh": "整改建议", "en": "Remediation"},
    "changes": {"zh": "与上次评估相比的变化", "en": "Changes since the previous run"},
    "refile": {"zh": "重要数据类别或规模变化达30%以上:须在三个月内办理备案变更",
               "en": "important data changed by 30 % or more in category or scale: update the filing within three months"},
    "monitoring": {"zh": "监测预警与应急处置", "en": "Monitoring and incidents"},
    "alerts": {"zh": "告警", "en": "Alerts"}, "incidents": {"zh": "数据安全事件", "en": "Incidents"},
    "open_alerts": {"zh": "未处理告警", "en": "open alerts"}, "grade": {"zh": "事件级别", "en": "Grade"},
    "opened": {"zh": "发现时间", "en": "Opened"}, "closed": {"zh": "结束时间", "en": "Closed"},
    "earned_note": {"zh": "每项检查须达到其判定标准声明的最少观测量方可判为符合,否则为未评估",
                    "en": "a check passes only with at least its criterion's declared minimum of observed evidence; "
                          "less is 'not assessed'"},
}


def label(key: str, lang: str) -> str:
    return LABELS.get(key, {}).get(lang, key)


def asset_name(a: dict[str, str], lang: str) -> str:
    """How a report names an asset: its kind, name and version."""
    return f"{label(a['kind'], lang)} {a['name']}" + (f" ({a['version']})" if a.get("version") else "")


def _model_charts(report: dict[str, Any], lang: str) -> list[str]:
    """Charts of the model results, each titled with the model it is about (assets are never merged)."""
    out = []
    for c in report["checks"]:
        if c["component"] != "models":
            continue
        m, who = c.get("metrics", {}), asset_name(c["asset"], lang)
        if isinstance(m.get("corruption_error"), dict) and m["corruption_error"]:
            series = {k: [float(x) for x in v] for k, v in m["corruption_error"].items()}
            n = max(len(v) for v in series.values())
            out.append(charts.line_chart(series, list(range(1, n + 1)), f"{label('error_vs_severity', lang)} — {who}",
                                         "severity", "error", y_max=1.0))
        cert = m.get("certified_accuracy")
        if isinstance(cert, dict) and cert.get("radius") and cert.get("accuracy"):
            out.append(charts.line_chart({"certified": [float(a) for a in cert["accuracy"]]},
                                         [float(r) for r in cert["radius"]], f"{label('certified', lang)} — {who}",
                                         "radius", "accuracy", y_max=1.0))
    return out


def _data_uri(text: str) -> str:
    return "data:text/csv;charset=utf-8;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


def to_html(report: dict[str, Any], lang: str) -> str:
    from ..templating import render as render_template

    inv_charts, downloads = [], []
    for inv in report["inventory"]:
        cats = sorted(inv["grade_by_category"], key=lambda k: -sum(inv["grade_by_category"][k].values()))
        names = {k: TAXONOMY.label("categories", k, lang) for k in cats}
        inv_charts.append(charts.stacked_bars([(names[k], inv["grade_by_category"][k]) for k in cats],
                                              ["general", "important", "core"],
                                              {g: TAXONOMY.label("grades", g, lang) for g in TAXONOMY.grades},
                                              label("by_category_grade", lang)))
        inv_charts.append(charts.stacked_bars([(names[k], inv["pi_by_category"][k]) for k in cats],
                                              ["none", "pi", "sensitive"],
                                              {p: TAXONOMY.label("pi", p, lang) for p in TAXONOMY.pi},
                                              label("by_category_pi", lang)))
        doc = {"entries": inv["entries"]}
        downloads.append({"important": _data_uri(to_csv(doc, important_only=True)), "ledger": _data_uri(to_csv(doc))})
    by_sev = report["summary"]["findings_by_severity"]
    statuses = ["fail", "error", "warn", "needs_review"]
    sev_chart = charts.stacked_bars([(label(s, lang), v) for s, v in by_sev.items()], statuses,
                                    {s: label(s, lang) for s in statuses}, label("findings_by_severity", lang)) \
        if any(by_sev.values()) else ""
    return render_template("report.html.j2", r=report, lang=lang, L=lambda k: label(k, lang), tax=TAXONOMY,
                           inv_charts=inv_charts, downloads=downloads, sev_chart=sev_chart,
                           model_charts=_model_charts(report, lang), dumps=_evidence_json,
                           asset_name=lambda a: asset_name(a, lang))


def _evidence_json(obj: Any) -> str:
    text = json.dumps(obj, ensure_ascii=False, indent=1, default=str)
    return text if len(text) < 4000 else text[:4000] + "\n…"


def _criterion_md(c: dict[str, Any], lang: str) -> str:
    crit = c.get("criterion")
    if not crit:
        return label("none", lang)
    src = label(crit["source"], lang) + (f" {crit['ref']}" if crit.get("ref") else "")
    return f"{crit['text']} ({src})"


def to_markdown(report: dict[str, Any], lang: str) -> str:
    L = lambda k: label(k, lang)  # noqa: E731
    s = report["summary"]["requirements"]
    lines = [f"# {L('title')}", "", f"**{L('overall')}: {L(report['status'])}** — "
             + ", ".join(f"{L(k)} {v}" for k, v in s.items()), "", f"## {L('matrix')}", "",
             f"| id | {L('requirement')} | {L('asset')} | {L('status')} | {L('reason')} | {L('basis')} | {L('evidence')} |",
             "|---|---|---|---|---|---|---|"]
    for r in report["requirements"]:
        if r["kind"] == "processor":
            continue
        basis = ", ".join(b["id"] + ("*" if b["status"] != "verified" else "") for b in r["basis"])
        rows = r["by_asset"] or [{"asset": None, "status": r["status"], "reason": r["reason"], "evidence": []}]
        for a in rows:
            ev = ", ".join(sorted({f"`{report['checks'][i]['id']}`" for i in a["evidence"]})) or "—"
            who = asset_name(a["asset"], lang) if a["asset"] else "—"
            lines.append(f"| {r['id']} | {r['title'][lang]} | {who} | {L(a['status'])} | {a['reason'] or ''} | {basis} "
                         f"| {ev} |")
    lines += ["", f"\\* {L('unverified_note')}. {L('not_assessed_note')}; {L('earned_note')}.", "",
              f"## {L('processor')}", "", f"| id | {L('requirement')} | {L('status')} | {L('note')} |", "|---|---|---|---|"]
    for r in report["requirements"]:
        if r["kind"] == "processor":
            lines.append(f"| {r['id']} | {r['title'][lang]} | {L(r['status'])} | {r['note'][lang]} |")
    lines += ["", f"## {L('top_risks')}", ""]
    top = report["summary"]["top_risks"]
    if not top:
        lines.append(f"- {L('none')}")
    for i in top:
        c = report["checks"][i]
        lines.append(f"- **{L(c['severity'])}** `{c['id']}` — {c['title']} — {asset_name(c['asset'], lang)}")
    findings = [c for c in report["checks"] if c["status"] in ("fail", "warn", "needs_review", "error", "not_assessed")]
    lines += ["", f"## {L('checks')} ({len(report['checks'])})", "",
              f"| {L('asset')} | {L('check')} | {L('status')} | {L('severity')} | {L('criterion')} | {L('observed')} | |",
              "|---|---|---|---|---|---|---|"]
    for c in sorted(findings, key=lambda c: (c["asset_key"], c["status"] != "fail", c["severity"], c["id"])):
        observed = ", ".join(f"{k} {v}" for k, v in (c.get("observed") or {}).items()) or "—"
        why = f" ({c['reason']})" if c.get("reason") else ""
        lines.append(f"| {asset_name(c['asset'], lang)} | `{c['id']}` | {L(c['status'])} | {L(c['severity'])} | "
                     f"{_criterion_md(c, lang)} | {observed} | {c['title']}{why} |")
    lines += ["", f"## {L('appendix')}", ""]
    for i in report["inputs"]:
        lines.append(f"- `{i['path']}` ({i['kind']}, {asset_name(i['asset'], lang)}) sha256 `{i['sha256'][:16]}…`")
    lines.append(f"- vehicle-ds {report['tool']['version']}, generated {report['generated']}")
    return "\n".join(lines) + "\n"


def to_json(report: dict[str, Any], lang: str) -> str:
    slim = {**report, "inventory": [{k: v for k, v in inv.items() if k != "entries"} for inv in report["inventory"]],
            "lang": lang}
    return json.dumps(slim, ensure_ascii=False, indent=2, default=str) + "\n"


RENDERERS = {"html": to_html, "md": to_markdown, "json": to_json}


def render(report: dict[str, Any], fmt: str, lang: str) -> str:
    return RENDERERS[fmt](report, lang)
