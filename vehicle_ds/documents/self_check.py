"""数据安全风险自查报告 — the self-check report BJCA's 2024 plan asks of telecom and internet firms beside the risk
assessment (filings.md §0 row 2, §3.5). No official template was found, so its structure is ours: the
connected-vehicle special action's four asks (grading, risk assessment, autonomous-driving model testing,
interface protection) plus filing, partner and privilege management and internal-network monitoring, each
answered from the verdicts of the assets it concerns; then the problems found (as observed), the
remediation and its closure, from the same facts as the risk assessment."""

from __future__ import annotations

from .context import Context
from .model import Document
from .risk_assessment import remediation, risk_sources

# (zh, en, requirement ids whose per-asset verdicts answer the ask)
ASKS = (
    ("数据分类分级", "Data classification and grading",
     ("REQ-LEDGER", "REQ-IMPORTANT-ID", "REQ-STORE-LEDGER", "REQ-DATASET-GRADING")),
    ("自动驾驶模型安全检测", "Autonomous-driving model security testing",
     ("REQ-MODEL-ROBUSTNESS", "REQ-MODEL-CERTIFIED", "REQ-MODEL-INTEGRITY")),
    ("数据接口安全防护", "Data-interface protection",
     ("REQ-API-AUTHN", "REQ-API-AUTHZ", "REQ-API-EXPOSURE", "REQ-API-TRANSPORT", "REQ-API-LIMITS", "REQ-API-INVENTORY")),
    ("重要数据与大规模个人信息的保护", "Protection of important data and large-scale personal information",
     ("REQ-IMPORTANT-IN-VEHICLE", "REQ-CABIN-IN-VEHICLE", "REQ-PRECISION", "REQ-PSEUDONYMISE", "REQ-STORE-AT-REST")),
)


def _asks(ctx: Context, d: Document) -> None:
    d.h("三、专项行动要求逐项自查", "3. The special action's asks, one by one")
    rows = []
    for zh_ask, en_ask, rids in ASKS:
        for rid in rids:
            r = ctx.requirement(rid)
            for a in (r or {}).get("by_asset", []):  # each asset answers for itself
                rows.append([d.t(zh_ask, en_ask), rid, r["title"][ctx.lang], ctx.asset(a["asset"]), ctx.word(a["status"])])
    d.table([d.t("专项要求", "Ask"), d.t("编号", "Id"), d.t("自查内容", "Requirement"), d.t("对象", "Asset"),
             d.t("自查结论", "Result")], rows, widths=[20, 14, 34, 22, 10], working=(1,))
    ra = ctx.deadline("risk_assessment")
    valid = ra.get("due") if ra else None
    last_filing, filing_src = ctx.org("dates.last_filing")
    partners = ctx.org_list("partner")
    hub = ctx.report.get("hub")
    d.fields([
        (d.t("数据安全风险评估：上次评估有效期至", "Risk assessment valid until"), ctx.date(valid),
         f"{ctx.org_name} › dates.last_risk_assessment" if valid else None),
        (d.t("重要数据目录备案日期", "Important-data catalogue filed on"), ctx.date(last_filing), filing_src),
        (d.t("合作方数量（已签订数据安全约束条款的）", "Partners (with data-security terms)"),
         d.t(f"{len(partners)}家，其中{sum(1 for p in partners if p.get('contract'))}家已签订",
             f"{len(partners)}, {sum(1 for p in partners if p.get('contract'))} with terms") if partners else None,
         f"{ctx.org_name} › partner" if partners else None),
        (d.t("权限管理与访问审计情况", "Privilege management and access audit"), None, None),
        (d.t("内网侧数据安全监测技术措施", "Internal-network monitoring"),
         d.t(f"已部署平台监测，未关闭告警{hub['alerts']['open']}条", f"hub monitoring, {hub['alerts']['open']} open alerts")
         if hub else None, "report › hub.alerts" if hub else None)])


def build(ctx: Context) -> Document:
    d = Document("self_check", ctx.t("数据安全风险自查报告", "Data-security risk self-check report"), ctx.lang)
    d.subtitle = ctx.t(f"依据{ctx.cite('BJ-CA-2024')}；自查日期：{ctx.date(ctx.today)}",
                       f"under {ctx.cite('BJ-CA-2024')}; {ctx.date(ctx.today)}")
    d.p("主管部门未发布本报告模板；章节结构依据风险评估报告的相关章节编排，如主管部门印发模板，以模板为准。",
        "No official template was found; the chapters follow the risk assessment's; an official template prevails.", "note")
    d.h("一、自查单位基本情况", "1. The organisation")
    d.fields(ctx.profile_rows("legal_name", "credit_code", "security_body", "officer", "officer_phone"))
    d.h("二、自查范围", "2. Scope")
    kinds = {"vehicle": ("车辆{n}辆", "{n} vehicles"), "platform": ("平台{n}个", "{n} platforms"),
             "model": ("模型{n}个", "{n} models")}
    counts = {k: sum(1 for a in ctx.report.get("assets", []) if a["kind"] == k) for k in kinds}
    d.p(d.t("本次自查覆盖", "This self-check covers ") + d.t("、", ", ").join(
        ctx.t(*kinds[k]).format(n=n) for k, n in counts.items() if n)
        + d.t("；各项结论均以对该对象的检测证据为依据。", "; each verdict rests on that asset's evidence."))
    _asks(ctx, d)
    d.h("四、发现的问题", "4. Problems found")
    risk_sources(ctx, d)
    d.h("五、整改措施与闭环情况", "5. Remediation and closure")
    remediation(ctx, d, state=True)
    d.h("六、自查结论", "6. Conclusion")
    d.fields([(d.t("自查结论", "Conclusion"), None, None)])
    return d
