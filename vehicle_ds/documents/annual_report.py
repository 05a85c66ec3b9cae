"""汽车数据安全管理情况年度报告 — the annual automobile data-security report (《汽车数据安全管理若干规定（试行）》
第十三条, filings.md §3.6): due 15 December to the provincial cyberspace administration. The item list follows
the 2021 draft's structure (the final article's list is unverified): contacts, data types and scale,
purpose, protection, domestic provision, incidents and complaints, and the export supplement."""

from __future__ import annotations

from .context import Context, fmt_int
from .model import Document


def build(ctx: Context) -> Document:
    year = ctx.today.year if ctx.today.month >= 6 else ctx.today.year - 1
    d = Document("annual_report", ctx.t(f"汽车数据安全管理情况报告（{year}年度）",
                                        f"Automobile data-security management report ({year})"), ctx.lang)
    due = ctx.deadline("annual_report")
    d.subtitle = ctx.t(f"依据{ctx.cite('CN-ADR-13')}；报告期：{year}年度；报送对象：省、自治区、直辖市网信部门和有关部门；"
                       f"报送截止日期{ctx.date(due['due'])}", f"under {ctx.cite('CN-ADR-13')}; year {year}; to the "
                       f"provincial cyberspace administration and the departments concerned; due {due['due']}") if due else ""
    if due:  # for the engineer: the working copy says how close it is
        d.p(f"距报送截止日期剩余{due['days_left']}日。", f"{due['days_left']} days left.",
            "warning" if due.get("soon") else "note")
    d.p("报告事项依据该规定2021年5月征求意见稿第十七条、第十八条的结构编排；正式文本的事项清单待与官方文本核对，"
        "如所在省份网信部门印发报告模板，以模板为准。报送方式：加盖公章的纸质件及电子版（依据二手资料）。",
        "Items follow the 2021 draft (Arts. 17-18); the final list is to be confirmed against the official text; a "
        "provincial template prevails. Sealed paper copy plus an electronic copy (secondary sources).", "note")
    d.h("一、汽车数据安全管理负责人及联系方式", "1. Contacts")
    d.fields(ctx.profile_rows("legal_name", "credit_code", "officer", "officer_title", "officer_phone",
                              "rights_contact"))
    d.h("二、处理汽车数据的种类、规模、目的和必要性", "2. Types, scale, purpose and necessity")
    rows = []
    for ds, src in ctx.datasets():
        f = ds.get("facts", {})
        rows.append([ctx.dataset_name(ds), ctx.label("categories", ds["category"]), ctx.label("grades", ds["grade"]),
                     d.value(f"{ds['id']} scale", ctx.t(f"记录{fmt_int(f.get('records'))}条，车辆{fmt_int(f.get('vehicles'))}辆",
                                                        f"{fmt_int(f.get('records'))} records, {fmt_int(f.get('vehicles'))} "
                                                        "vehicles") if f.get("records") is not None else None, f"{src}.facts"),
                     d.value(f"{ds['id']} purpose", f.get("purpose"), f"{src}.facts.purpose"),
                     d.value(f"{ds['id']} necessity", None, None)])
    d.table([d.t("数据集", "Dataset"), d.t("类别", "Category"), d.t("级别", "Grade"), d.t("规模", "Scale"),
             d.t("目的", "Purpose"), d.t("必要性说明", "Necessity")], rows)
    d.h("三、汽车数据安全防护和个人信息权益保护措施", "3. Protection measures")
    rows = []
    for rid in ("REQ-IMPORTANT-IN-VEHICLE", "REQ-CABIN-IN-VEHICLE", "REQ-PRECISION", "REQ-PSEUDONYMISE", "REQ-API-AUTHN",
                "REQ-API-AUTHZ", "REQ-API-TRANSPORT", "REQ-STORE-AT-REST"):
        r = ctx.requirement(rid)
        for a in (r or {}).get("by_asset", []):  # each asset's own verdict, never the worst over all of them
            rows.append([r["title"][ctx.lang], ctx.asset(a["asset"]), ctx.word(a["status"]),
                         ", ".join(g["id"] for g in a["evidence_by_check"]) or "—"])
    d.table([d.t("措施", "Measure"), d.t("对象", "Asset"), d.t("检测结论", "Result"), d.t("检测证据", "Checks")], rows,
            working=(3,))
    d.fields([(d.t("存储地点", "Storage location"), *ctx.org("processing.storage")),
              (d.t("保存期限", "Retention"), *ctx.org("processing.retention"))])
    d.h("四、向境内第三方提供汽车数据情况", "4. Provision to domestic third parties")
    partners = ctx.org_list("partner")
    d.fields([(d.t("接收方、数据种类、目的", "Recipients, data, purpose"),
               d.t("；", "; ").join(f"{p.get('name', '')}：{p.get('data', '')}（{p.get('purpose', '')}）" for p in partners)
               or None, f"{ctx.org_name} › partner" if partners else None)])
    d.h("五、汽车数据安全事件和处置情况", "5. Incidents and their handling")
    if ctx.incidents:
        d.table([d.t("编号", "Id"), d.t("事件", "Incident"), d.t("级别", "Grade"), d.t("状态", "State")],
                [[str(i.get("id")), str(i.get("title")), str(i.get("grade") or "—"), str(i.get("state"))] for i in ctx.incidents])
    else:
        d.fields([(d.t("本年度事件及处置", "Incidents this year"), None, None)])
    d.h("六、汽车数据相关的用户投诉和处理情况", "6. Users' complaints")
    d.fields([(d.t("投诉数量及处理情况", "Complaints and handling"), None, None)])
    d.h("七、数据出境情况（如有）", "7. Export (if any)")
    found = ctx.export_route()
    if found:
        from .. import zh

        e, src = found
        exported = e.get("important_data_exported")
        d.fields([(d.t("出境路径", "Route"), zh.term(e["route"]) if ctx.lang == "zh" else e["route"], src),
                  (d.t("是否向境外提供重要数据", "Important data provided abroad"), exported,
                   f"{src}.important_data_exported")])
        if exported:  # the export supplement is owed only for important data that leaves (CN-ADR-13)
            d.fields([(d.t("境外接收方名称及联系方式", "Recipient abroad"), *ctx.org("export.recipients")),
                      (d.t("出境数据的种类、规模、目的", "Types, volume, purpose"), None, None),
                      (d.t("境外存放地点、期限、范围和方式", "Storage abroad"), None, None),
                      (d.t("涉及向境外提供数据的用户投诉", "Complaints about export"), None, None)])
        elif exported is False or e["route"] == "none":
            d.p("本年度不向境外提供重要数据，出境补充报告事项不适用。", "No important data is provided abroad this year: the "
                "export supplement does not apply.")
    else:
        d.fields([(d.t("出境情况", "Export"), None, None)])
    d.h("八、其他需要报告的情况", "8. Other")
    d.fields([(d.t("其他", "Other"), None, None)])
    return d
