"""数据安全风险评估报告 — the data-security risk assessment (filings.md §3.5): the union of the chapters of
《网络数据安全管理条例》第三十三条 and the MIIT implementing rules' report elements, so one report serves both.
Assets, processing, environment, compliance, measures and risks come from the checks; the processor's
facts, the team, the conclusion and the incident history from a person."""

from __future__ import annotations

from collections import Counter

from .context import Context, fmt_int
from .findings import observed
from .model import Document

# GB/T 45577-2025's likelihood x impact is applied by a person; the tool proposes from the check's severity.
PROPOSED_LEVEL = {"critical": ("高", "high"), "high": ("高", "high"), "medium": ("中", "medium"), "low": ("低", "low"),
                  "info": ("低", "low")}


def _processor(ctx: Context, d: Document) -> None:
    d.h("一、数据处理者基本情况", "1. The data processor")
    d.fields(ctx.profile_rows("legal_name", "credit_code", "address", "security_body", "officer", "officer_phone"))
    d.h("二、评估团队基本情况", "2. The assessment team")
    d.fields([(d.t("评估方式（自行评估／委托第三方）", "Self-assessment or third party"), *ctx.org("assessment.team")),
              (d.t("评估机构", "Assessor"), *ctx.org("assessment.assessor")),
              (d.t("评估人员", "Members"), *ctx.org("assessment.members")),
              (d.t("独立性说明", "Independence"), *ctx.org("assessment.independence"))])
    d.p("《网络数据安全风险评估办法（征求意见稿）》拟规定同一评估机构连续评估同一数据处理者不得超过三次；该文件尚为征求意见稿，"
        "不作为现行规定适用。", "A 2025 CAC draft would bar the same assessor from assessing the same processor more than three "
        "times in a row; it is a draft, not law.", "note")


def _basis(ctx: Context, d: Document) -> None:
    d.h("三、评估依据与方法", "3. Basis and method")
    laws = ["CN-DSL-30", "CN-NDSR-33", "MIIT-DSM", "CN-ADR-10", "GBT43697", "GBT44464-4.1", "GBT42888", "PIPL-55"]
    d.p(d.t("评估依据：", "Basis: ") + d.t("；", "; ").join(ctx.cite(b) for b in laws) + d.t(
        "；《工业和信息化领域数据安全风险评估实施细则（试行）》（工信部网安〔2024〕82号）；GB/T 45577—2025《数据安全技术 "
        "数据安全风险评估方法》。", "; MIIT risk-assessment rules (2024, No. 82); GB/T 45577-2025."))
    d.p("评估方法：依照 GB/T 45577—2025 的流程开展信息调研、风险识别、风险分析与评价并提出处置建议。"
        "技术部分由自动化检测工具完成：依据车辆DBC对总线数据逐信号分类分级并核查车外传输，探测数据接口的身份认证、授权与数据暴露，"
        "检测自动驾驶模型的鲁棒性与后门；每项结论均以检测证据为依据，证据不足的判为未评估。",
        "Method: GB/T 45577-2025's process (survey, risk identification, analysis and evaluation, recommendations). The "
        "technical part is automated: per-signal grading against the DBC and the uplink, interface probes, model checks; "
        "every verdict rests on evidence, and too little evidence is 'not assessed'.")


def _assets(ctx: Context, d: Document) -> None:
    d.h("四、数据资产情况", "4. Data assets")
    d.p("重要数据的种类、数量、处理目的、方式、范围、存储地点与保存期限（《网络数据安全管理条例》第三十三条第二项）。",
        "Types, quantity, purpose, method, scope, storage location and retention of important data (NDSR Art. 33(2)).")
    rows = []
    for ds, src in ctx.datasets():
        f = ds.get("facts", {})
        rows.append([ctx.dataset_name(ds), ctx.label("categories", ds["category"]), ctx.label("grades", ds["grade"]),
                     d.value(f"{ds['id']} records", fmt_int(f.get("records")) if f.get("records") is not None else None,
                             f"{src}.facts.records"),
                     d.value(f"{ds['id']} persons", fmt_int(f.get("persons")) if f.get("persons") else None,
                             f"{src}.facts.persons"),
                     d.value(f"{ds['id']} purpose", f.get("purpose"), f"{src}.facts.purpose"),
                     d.value(f"{ds['id']} storage", f.get("storage"), f"{src}.facts.storage"),
                     d.value(f"{ds['id']} retention", d.t(f"{f['retention_days']}日", f"{f['retention_days']} days")
                             if f.get("retention_days") else None, f"{src}.facts.retention_days")])
    if rows:
        d.table([d.t("数据集", "Dataset"), d.t("类别", "Category"), d.t("级别", "Grade"), d.t("记录数", "Records"),
                 d.t("涉及人数", "Persons"), d.t("处理目的", "Purpose"), d.t("存储地点", "Storage"),
                 d.t("保存期限", "Retention")], rows)
    for inv in ctx.report.get("inventory", []):
        counts = Counter(e["grade"] for e in inv["entries"])
        # a vehicle's catalogue lists CAN signals, a platform's the columns of its stores
        unit_zh, unit_en = ("个信号", "signals") if inv["asset"]["kind"] == "vehicle" else ("个数据字段", "data fields")
        d.p(d.t(f"{ctx.asset(inv['asset'])}：共{len(inv['entries'])}{unit_zh}，其中一般数据{counts.get('general', 0)}个、"
                f"重要数据{counts.get('important', 0)}个。",
                f"{ctx.asset(inv['asset'])}: {len(inv['entries'])} {unit_en}, {counts.get('general', 0)} general, "
                f"{counts.get('important', 0)} important."))
        d.p(d.t(f"来源：数据目录 {ctx.input_path(inv['input'])}", f"Catalog {ctx.input_path(inv['input'])}"), style="note")


def _processing(ctx: Context, d: Document) -> None:
    d.h("五、数据处理活动情况及分析", "5. Processing activities")
    for u in ctx.report.get("uplink", []):
        s = u["summary"]
        handled = d.t("、", ", ").join(f"{ctx.label('handling', h)}{fmt_int(n)}" for h, n in
                                        (s.get("signals_by_handling") or {}).items())
        d.p(d.t(f"车外传输（{ctx.asset(u['subject']['asset'])}）：回放报文{fmt_int(s.get('frames_total'))}帧，"
                f"已解码{fmt_int(s.get('frames_decoded'))}帧；信号值按处理方式统计：{handled}。",
                f"Uplink ({ctx.asset(u['subject']['asset'])}): {fmt_int(s.get('frames_total'))} frames, "
                f"{fmt_int(s.get('frames_decoded'))} decoded; values by handling: {handled}."))
        d.p(d.t(f"来源：{ctx.input_path(u['input'])}", f"Source: {ctx.input_path(u['input'])}"), style="note")
    d.fields([(d.t("平台侧收集、存储、使用、加工、提供、公开、删除等环节说明", "Back-end lifecycle"), None, None)])


def _environment(ctx: Context, d: Document) -> None:
    d.h("六、数据安全风险评估环境", "6. Assessment environment")
    rows = [[ctx.asset(i["asset"]), ctx.t({"catalog": "数据目录", "edge": "车端检测", "probes": "接口探测",
                                           "models": "模型检测", "datasets": "数据集分级"}.get(i["kind"], i["kind"]), i["kind"]),
             i["path"]] for i in ctx.report["inputs"]]
    d.table([d.t("评估对象", "Asset"), d.t("证据类型", "Evidence"), d.t("证据文件", "File")], rows, working=(2,))
    systems = ctx.org_list("system")
    d.fields([(d.t("信息系统与网络区域", "Systems and network zones"),
               d.t("；", "; ").join(f"{s.get('name', '')}（{s.get('storage_location', '')}）" for s in systems) or None,
               f"{ctx.org_name} › system" if systems else None)])


def _compliance(ctx: Context, d: Document) -> None:
    d.h("七、合规性评估", "7. Compliance")
    rows = []
    for r in ctx.report["requirements"]:
        if r["kind"] == "processor":
            continue
        for a in r["by_asset"] or [{"asset": None, "status": r["status"]}]:
            rows.append([r["id"], r["title"][ctx.lang], ctx.asset(a["asset"]) if a["asset"] else "—",
                         ctx.word(a["status"]),
                         ctx.t("；", "; ").join(ctx.cite(b["id"]) for b in r["basis"][:2])])
    d.table([d.t("编号", "Id"), d.t("要求", "Requirement"), d.t("对象", "Asset"), d.t("结论", "Status"),
             d.t("依据", "Basis")], rows, widths=[12, 28, 18, 9, 38], working=(0,))
    d.p("管理制度、人员培训与合同约束等组织层面义务由人员核实，列于附件二数据处理者义务清单。",
        "Policies, training and contracts are organisation-level duties a person confirms (Annex 2, processor checklist).",
        "note")


def _measures(ctx: Context, d: Document) -> None:
    d.h("八、安全措施及有效性", "8. Security measures and their effectiveness")
    rows = []
    for rid in ("REQ-API-TRANSPORT", "REQ-API-AUTHN", "REQ-API-AUTHZ", "REQ-API-LIMITS", "REQ-STORE-AT-REST",
                "REQ-PSEUDONYMISE", "REQ-PRECISION", "REQ-CABIN-IN-VEHICLE", "REQ-MODEL-INTEGRITY"):
        r = ctx.requirement(rid)
        for a in (r or {}).get("by_asset", []):  # each asset's own verdict: a clean asset is never another's
            rows.append([r["title"][ctx.lang], ctx.asset(a["asset"]), ctx.word(a["status"]),
                         ", ".join(g["id"] for g in a["evidence_by_check"]) or "—"])
    d.table([d.t("措施", "Measure"), d.t("对象", "Asset"), d.t("有效性", "Effective"), d.t("检测证据", "Checks")], rows,
            widths=[30, 20, 9, 41], working=(3,))
    d.fields([(d.t("数据备份措施", "Backup"), None, None), (d.t("数据标签标识", "Data labelling"), None, None)])


def _risks(ctx: Context, d: Document) -> None:
    d.h("九、安全风险分析", "9. Risk analysis")
    d.p("风险源清单由不符合或出错的检查项生成，拟定风险等级依检查项的严重程度提出，须由评估人员按 GB/T 45577—2025 "
        "的可能性与影响分析确认。", "Risk sources are the failed checks; the proposed level follows the check's severity and is "
        "confirmed by the assessor with GB/T 45577-2025's likelihood and impact.", "note")
    risk_sources(ctx, d)


def risk_sources(ctx: Context, d: Document) -> None:
    """One row per failed check and asset: what it observed, with the proposed level (shared with 风险自查报告)."""
    seen: set[tuple[str, str]] = set()
    rows = []
    for c in ctx.checks(statuses=("fail", "error")):
        key = (c["id"], c["asset_key"])
        if key in seen:
            continue
        seen.add(key)
        rows.append([c["id"], observed(c, ctx.lang) or ctx.check_title(c), ctx.asset(c["asset"]),
                     ctx.word(c["severity"]), ctx.t(*PROPOSED_LEVEL[c["severity"]]) + ctx.t("（拟定）", " (proposed)")])
    d.table([d.t("风险源", "Source"), d.t("发现的问题", "What was found"), d.t("对象", "Asset"), d.t("严重程度", "Severity"),
             d.t("风险等级", "Level")], rows, widths=[18, 46, 18, 9, 11], working=(0,))


def _findings(ctx: Context, d: Document) -> None:
    d.h("十、发现的风险与已发生的安全事件及处置", "10. Risks found, incidents and their handling")
    fails = len({(c["id"], c["asset_key"]) for c in ctx.checks(statuses=("fail",))})
    d.p(d.t(f"本次评估共发现不符合项{fails}项（按检查项与对象计），详见第九章。",
            f"{fails} failures (per check and asset), see 9."))
    if ctx.incidents:
        d.table([d.t("编号", "Id"), d.t("事件", "Incident"), d.t("级别", "Grade"), d.t("状态", "State")],
                [[str(i.get("id")), str(i.get("title")), str(i.get("grade") or "—"), str(i.get("state"))]
                 for i in ctx.incidents])
        d.p(d.t(f"事件记录来源：{ctx.incidents_path}", f"Incident register: {ctx.incidents_path}"), style="note")
    else:
        d.fields([(d.t("本年度数据安全事件及处置情况", "Incidents this year"), None, None)])


def _provision(ctx: Context, d: Document) -> None:
    d.h("十一、提供、委托处理、共同处理重要数据的风险评估情况", "11. Provision, entrusted and joint processing")
    partners = ctx.org_list("partner")
    if partners:
        d.table([d.t("接收方", "Recipient"), d.t("方式", "Role"), d.t("数据", "Data"), d.t("合同约束", "Contract")],
                [[str(p.get("name", "")), str(p.get("role", "")), str(p.get("data", "")),
                  d.value(f"{p.get('name')} contract", d.t("有", "yes") if p.get("contract") else None,
                          f"{ctx.org_name} › partner") if "contract" in p else d.value(f"{p.get('name')} contract", None, None)]
                 for p in partners])
    d.fields([(d.t("依《网络数据安全管理条例》第三十一条开展的评估情况", "Assessments under NDSR Art. 31"), None, None)])


def _export(ctx: Context, d: Document) -> None:
    d.h("十二、数据出境情况", "12. Export")
    found = ctx.export_route()
    from .. import zh

    if found:
        e, src = found
        route = zh.term(e["route"]) if ctx.lang == "zh" else e["route"]
        d.fields([(d.t("出境路径判定", "Route"), route, src),
                  (d.t("判定依据", "Basis"), ctx.route_basis(e.get("basis")), src),
                  (d.t("境外接收方", "Recipients abroad"), *ctx.org("export.recipients"))])
    else:
        d.fields([(d.t("出境路径判定", "Route"), None, None)])


def _conclusion(ctx: Context, d: Document) -> None:
    d.h("十三、评估结论及应对措施", "13. Conclusion and measures")
    d.fields([(d.t("评估结论", "Conclusion"), None, None)])
    remediation(ctx, d)
    d.h("附件一：证据索引", "Annex 1: evidence index", 2)
    d.p("证据文件及其校验值见工作底稿。", "The evidence files and their checksums are in the working copy.")
    d.table([d.t("证据文件", "File"), "sha256"], [[i["path"], i["sha256"]] for i in ctx.report["inputs"]], internal=True)
    d.h("附件二：数据处理者义务清单", "Annex 2: processor checklist", 2)
    d.table([d.t("编号", "Id"), d.t("义务", "Duty"), d.t("依据", "Basis"), d.t("落实情况", "Done")],
            [[r["id"], r["title"][ctx.lang], ctx.t("；", "; ").join(ctx.cite(b["id"]) for b in r["basis"][:2]),
              d.value(f"{r['id']} done", None, None)] for r in ctx.report["requirements"] if r["kind"] == "processor"],
            working=(0,))


def remediation(ctx: Context, d: Document, state: bool = False) -> None:
    """What failed and what a person must still review, per asset, with its remediation; owner, due date (and,
    with ``state``, whether it is closed) for a person (shared with 风险自查报告)."""
    rows = []
    for r in ctx.report["requirements"]:
        if r["kind"] == "processor" or not r["remediation"][ctx.lang]:
            continue
        for a in r["by_asset"]:
            if a["status"] in ("fail", "needs_review"):
                rows.append([r["id"], ctx.asset(a["asset"]), ctx.word(a["status"]), r["remediation"][ctx.lang],
                             d.value(f"{r['id']} {a['key']} owner", None, None),
                             d.value(f"{r['id']} {a['key']} due", None, None),
                             *([d.value(f"{r['id']} {a['key']} closed", None, None)] if state else [])])
    d.table([d.t("编号", "Id"), d.t("对象", "Asset"), d.t("结论", "Status"), d.t("整改措施", "Remediation"),
             d.t("责任人", "Owner"), d.t("完成时限", "Due"), *([d.t("整改状态", "Closed")] if state else [])], rows,
            widths=[12, 16, 9, 39, 9, 9, *([8] if state else [])], working=(0,))


def build(ctx: Context) -> Document:
    d = Document("risk_assessment", ctx.t("数据安全风险评估报告", "Data-security risk assessment report"), ctx.lang)
    ra = ctx.deadline("risk_assessment")
    d.subtitle = ctx.t(f"报告出具日期：{ctx.date(ctx.today)}；评估结果有效期一年（依据二手资料，待与官方文本核对）",
                       f"Issued {ctx.date(ctx.today)}; valid one year (secondary sources; to be confirmed)")
    if ra and ra.get("due"):
        d.subtitle += ctx.t(f"；上次评估有效期至{ctx.date(ra['due'])}", f"; the last assessment is valid until {ra['due']}")
    for part in (_processor, _basis, _assets, _processing, _environment, _compliance, _measures, _risks, _findings,
                 _provision, _export, _conclusion):
        part(ctx, d)
    return d
