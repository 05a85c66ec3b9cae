"""个人信息保护影响评估报告 — the PIPL Art. 55-56 impact assessment (filings.md §5.1): one section per processing
activity that touches personal information (a dataset the platform holds, or sensitive signals a vehicle
produces), its Art. 55 triggers ticked from the evidence, the measures' results, and the record's retention
(three years)."""

from __future__ import annotations

import datetime as dt

from .context import PI_CATEGORIES, Context, fmt_int
from .findings import observed
from .model import Document

SENSITIVE = ("location", "cabin", "biometric", "exterior_perception")


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _declared(ds: dict, fact: str):
    """A dataset's own declared fact (a list counts as yes when it names anyone), or None when undeclared."""
    v = ds.get("facts", {}).get(fact)
    return bool(v) if v is not None else None


def _yes_no(d: Document, value: bool | None):
    return None if value is None else d.t("是", "yes") if value else d.t("否", "no")


def _verdicts(ctx: Context, d: Document, requirements: tuple[str, ...]) -> None:
    """Each measure's verdict per asset: one asset's 不符合 is never another's, nor the organisation's."""
    rows = [[r["title"][ctx.lang], ctx.asset(a["asset"]), ctx.word(a["status"])]
            for r in filter(None, map(ctx.requirement, requirements)) for a in r["by_asset"]]
    d.table([d.t("措施", "Measure"), d.t("对象", "Asset"), d.t("结论", "Result")], rows)


def build(ctx: Context) -> Document:
    d = Document("pia", ctx.t("个人信息保护影响评估报告", "Personal-information protection impact assessment"), ctx.lang)
    d.subtitle = ctx.t(f"依据{ctx.cite('PIPL-55')}", f"under {ctx.cite('PIPL-55')}")
    d.h("一、评估对象与触发情形", "1. Scope and triggers")
    found = ctx.export_route()
    nothing_leaves = bool(found and found[0]["route"] == "none")  # the organisation declared no export at all
    rows = []
    for ds, src in ctx.datasets():
        if ds["category"] not in PI_CATEGORIES:
            continue
        rows.append([ctx.dataset_name(ds), ctx.label("categories", ds["category"]),
                     d.value(f"{ds['id']} sensitive", d.t("是", "yes") if ds["category"] in SENSITIVE else d.t("否", "no"),
                             f"{src}.category"),
                     d.value(f"{ds['id']} provided", _yes_no(d, _declared(ds, "shared_with")),
                             f"{src}.facts.shared_with" if _declared(ds, "shared_with") is not None else None),
                     d.value(f"{ds['id']} abroad", _yes_no(d, _declared(ds, "exported")),
                             f"{src}.facts.exported" if _declared(ds, "exported") is not None else None),
                     d.value(f"{ds['id']} automated decisions", None, None)])
    for (asset, category), entries in sorted(ctx.pi_signals().items()):
        if not any(e["pi"] == "sensitive" for e in entries):
            continue
        # named by the asset's own kind: a platform's store is never called a vehicle
        rows.append([f"{ctx.asset(entries[0]['_asset'])}{ctx.t('：', ': ')}{ctx.label('categories', category)}",
                     ctx.label("categories", category),
                     d.value(f"{asset}.{category} sensitive", d.t("是", "yes"), f"{entries[0]['_source']} › entries[].pi"),
                     d.value(f"{asset}.{category} provided", None, None),
                     d.value(f"{asset}.{category} abroad", d.t("否", "no") if nothing_leaves else None,
                             found[1] if found and nothing_leaves else None),
                     d.value(f"{asset}.{category} automated decisions", None, None)])
    d.table([d.t("处理活动", "Activity"), d.t("类别", "Category"), d.t("敏感个人信息", "Sensitive PI"),
             d.t("向他人提供", "Provided to others"), d.t("向境外提供", "Abroad"),
             d.t("自动化决策", "Automated decisions")], rows)
    d.h("二、处理活动描述", "2. The processing")
    for ds, src in ctx.datasets():
        if ds["category"] not in PI_CATEGORIES:
            continue
        f = ds.get("facts", {})
        d.fields([(d.t(f"{ctx.dataset_name(ds)}：规模", f"{ctx.dataset_name(ds)}: volume"),
                   d.t(f"记录{fmt_int(f.get('records'))}条，车辆{fmt_int(f.get('vehicles'))}辆",
                       f"{fmt_int(f.get('records'))} records, {fmt_int(f.get('vehicles'))} vehicles")
                   if f.get("records") is not None else None, f"{src}.facts"),
                  (d.t(f"{ctx.dataset_name(ds)}：涉及人数", f"{ctx.dataset_name(ds)}: persons"),
                   fmt_int(f["persons"]) if f.get("persons") else None, f"{src}.facts.persons"),
                  (d.t(f"{ctx.dataset_name(ds)}：保存期限", f"{ctx.dataset_name(ds)}: retention"),
                   d.t(f"{f['retention_days']}日", f"{f['retention_days']} days") if f.get("retention_days") else None,
                   f"{src}.facts.retention_days")])
    d.h("三、处理目的、处理方式的合法性、正当性和必要性", "3. Lawfulness, legitimacy and necessity")
    _verdicts(ctx, d, ("REQ-DEFAULT-OFF", "REQ-PRECISION", "REQ-CABIN-IN-VEHICLE"))
    d.fields([(d.t("取得个人同意或单独同意的情况", "Consent and separate consent"), None, None),
              (d.t("各项功能的必要性论证", "Necessity per function"), None, None)])
    d.h("四、对个人权益的影响及安全风险", "4. Impact on individuals and security risks")
    risks = sorted({(c["id"], ctx.asset(c["asset"]), observed(c, ctx.lang) or ctx.check_title(c))
                    for c in ctx.checks(statuses=("fail",))
                    if c["id"].startswith(("probes.bola", "probes.exposure", "probes.auth", "edge.uplink", "catalog.sensitive",
                                           "catalog.identifier", "store.sensitive"))})
    d.table([d.t("检查项", "Check"), d.t("对象", "Asset"), d.t("发现的问题", "What was found")], [list(r) for r in risks],
            working=(0,))
    d.fields([(d.t("影响程度评定（歧视、人身财产安全、行踪追踪等）", "Rated impact"), None, None)])
    d.h("五、保护措施的合法性、有效性及与风险的适应性", "5. Measures")
    _verdicts(ctx, d, ("REQ-PSEUDONYMISE", "REQ-API-AUTHZ", "REQ-API-EXPOSURE", "REQ-API-TRANSPORT", "REQ-STORE-AT-REST"))
    d.h("六、结论与整改", "6. Conclusion")
    d.fields([(d.t("评估结论", "Conclusion"), None, None)])
    d.h("七、记录保存与签署", "7. Record and signature")
    d.fields([(d.t("评估日期", "Date"), ctx.date(ctx.today), "vehicle-ds documents"),
              (d.t("保存至（不少于三年）", "Keep until (three years or more)"), ctx.date(_add_years(ctx.today, 3)),
               "PIPL-56: record kept at least three years"),
              (d.t("个人信息保护负责人签字", "Personal-information protection officer"), None, None)])
    return d
