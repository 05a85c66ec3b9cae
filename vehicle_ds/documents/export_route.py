"""数据出境路径判定 — the export route decision (filings.md §6.2) under 《促进和规范数据跨境流动规定》: the route
the year's cumulative counts require (security assessment, standard contract or certification, exempt),
the thresholds that tripped, the margin to the next threshold, and the follow-on duties. The decision
itself is ``vehicle-ds datasets``'s; this record states it with its evidence."""

from __future__ import annotations

from .. import zh
from .context import Context, fmt_int
from .model import Document

FOLLOW_ON = {
    "security_assessment": (("向国家网信部门申报数据出境安全评估（附自评估报告）", "apply for the security assessment"),),
    "standard_contract_or_certification": (("订立个人信息出境标准合同并备案，或取得个人信息保护认证",
                                            "standard contract (filed) or certification"),),
    "exempt": (("留存豁免情形的判定依据，每年复核累计数量", "keep the exemption's grounds; review the counts yearly"),),
}
# the duties any export of personal information carries, whatever the route (datasets.export_route "duties")
DUTIES = {"separate_consent": ("告知个人并取得单独同意", "notice and separate consent", "PIPL-39"),
          "pia": ("事前开展个人信息保护影响评估", "a PI protection impact assessment beforehand", "PIPL-55")}


def _arrangement(ctx: Context, e: dict) -> str | None:
    """The declared arrangement; "none" is "no arrangement made", which is not "no export" unless the route is."""
    a = e.get("arrangement")
    if a is None:
        return None
    if a == "none" and e["route"] != "none":
        return ctx.t("未作安排（未签订标准合同、未取得认证、未申报安全评估）", "none made")
    return zh.term(a) if ctx.lang == "zh" else a


def _verdict(ctx: Context, d) -> list[tuple]:
    """The ``datasets.export_route`` check's verdict and reason, as the report states it."""
    c = next((c for c in ctx.checks("datasets") if c["id"] == "datasets.export_route"), None)
    if c is None:
        return []
    text = ctx.word(c["status"]) + (ctx.t("：", ": ") + ctx.sentence(c["reason"]) if c.get("reason") else "")
    return [(d.t("核查结论", "Verdict"), text, ctx.check_source(c))]


def build(ctx: Context) -> Document:
    d = Document("export_route", ctx.t("数据出境路径判定", "Export route decision"), ctx.lang)
    d.subtitle = ctx.t(f"依据{ctx.cite('CN-CBDF')}、{ctx.cite('PIPL-38')}", f"under {ctx.cite('CN-CBDF')} and "
                       f"{ctx.cite('PIPL-38')}")
    d.p("该规定的条文依据二手资料（多份转载原文一致），待与官方文本核对。累计数量自当年1月1日起计算，敏感个人信息单独计算，按自然人去重。",
        "Order 16's text was read through agreeing secondary copies; confirm against the official text. Counts run from "
        "1 January, sensitive PI apart, de-duplicated by person.", "note")
    found = ctx.export_route()
    d.h("一、判定输入", "1. Inputs")
    cii, cii_src = ctx.org("organisation.cii")
    if found:
        e, src = found
        d.fields([(d.t("是否关键信息基础设施运营者", "CII operator"),
                   (d.t("是", "yes") if cii else d.t("否", "no")) if cii is not None else None, cii_src),
                  (d.t("出境数据中是否含已告知或公开的重要数据", "Important data in the export"),
                   e.get("important_data_exported"), f"{src}.important_data_exported"),
                  (d.t("距安全评估门槛尚余（个人信息，人）", "Margin to the assessment (PI, persons)"),
                   fmt_int(e["margin"]["pi_to_assessment"]) if e.get("margin") else None, f"{src}.margin"),
                  (d.t("距安全评估门槛尚余（敏感个人信息，人）", "Margin (sensitive PI, persons)"),
                   fmt_int(e["margin"]["sensitive_to_assessment"]) if e.get("margin") else None, f"{src}.margin"),
                  (d.t("车端是否直接向境外传输", "Vehicles sending abroad directly"), None, None),
                  (d.t("主张的豁免情形", "Exemptions claimed"), "、".join(e["claimed_exemptions"]) or d.t("未主张", "none")
                   if "claimed_exemptions" in e else None, f"{src}.claimed_exemptions")])
        d.h("二、判定结果", "2. Decision")
        route = zh.term(e["route"]) if ctx.lang == "zh" else e["route"]
        d.fields([(d.t("出境路径", "Route"), route, src),
                  (d.t("条款", "Article"), ctx.route_basis(e.get("basis")), src),
                  (d.t("触发情形", "Thresholds tripped"),
                   ctx.t("；", "; ").join(ctx.sentence(t) for t in e.get("tripped", [])) or d.t("无", "none"), f"{src}.tripped"),
                  *([(d.t("主张豁免所免除的门槛", "Thresholds the claimed exemption waives"),
                      ctx.t("；", "; ").join(ctx.sentence(t) for t in e["waived"]), f"{src}.waived")]
                    if e.get("waived") else []),
                  (d.t("当前安排", "Current arrangement"), _arrangement(ctx, e), f"{src}.arrangement"),
                  *_verdict(ctx, d)])
        if e.get("missing"):
            d.p(ctx.t("缺少判定所需事实：", "Missing facts: ") + ", ".join(e["missing"]), style="warning")
        d.h("三、后续事项", "3. Follow-on duties")
        duties = [d.t(*item) for item in FOLLOW_ON.get(e["route"], ())] + [
            d.t(zh_duty, en_duty) + d.t(f"（{ctx.cite(basis)}）", f" ({basis})")
            for key, (zh_duty, en_duty, basis) in DUTIES.items() if key in e.get("duties", [])]
        d.table([d.t("事项", "Duty"), d.t("完成情况", "Done")], [[duty, d.value(duty, None, None)] for duty in duties])
        exp = ctx.deadline("export_assessment")
        if exp:
            d.p(ctx.t(f"安全评估结果有效期至{ctx.date(exp['due'])}；可在届满前60个工作日内申请延期（依据二手资料）。",
                      f"The assessment is valid until {exp['due']}; extension within 60 working days before expiry "
                      "(secondary sources)."))
            d.p(f"剩余{exp['days_left']}日。", f"{exp['days_left']} days left.", "note")
    else:
        d.fields([(d.t("出境路径", "Route"), None, None)])
        d.p("尚无出境判定：在 datasets.toml 中申报出境情况后运行 vehicle-ds datasets。", "No decision yet: declare exports in "
            "datasets.toml and run vehicle-ds datasets.", "warning")
    d.h("四、门槛一览", "4. Thresholds")
    d.table([d.t("情形", "Condition"), d.t("路径", "Route")], [
        [d.t("关键信息基础设施运营者向境外提供个人信息或重要数据", "CII operator"), d.t("安全评估", "security assessment")],
        [d.t("向境外提供重要数据（已被告知或公开发布）", "important data"), d.t("安全评估", "security assessment")],
        [d.t("自当年1月1日起累计向境外提供100万人以上个人信息（不含敏感个人信息）", "≥ 1,000,000 persons' PI"),
         d.t("安全评估", "security assessment")],
        [d.t("累计向境外提供1万人以上敏感个人信息", "≥ 10,000 persons' sensitive PI"), d.t("安全评估", "security assessment")],
        [d.t("累计10万人以上、不满100万人个人信息，或不满1万人敏感个人信息", "100,000-999,999 PI or < 10,000 sensitive"),
         d.t("标准合同或个人信息保护认证", "standard contract or certification")],
        [d.t("累计不满10万人个人信息（不含敏感个人信息）", "< 100,000 PI, no sensitive"), d.t("免予申报", "exempt")]])
    return d
