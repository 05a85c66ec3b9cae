"""重要数据和核心数据目录备案表 — the important- and core-data catalogue filing (filings.md §2).

One row per dataset: the platform's graded datasets and, per vehicle, the important signals grouped by
category. The grade is proposed from the triggers, never ``core`` (that needs a person); the 30 % re-filing
rule rests on the 2022 draft (its final wording is unverified, so it is said as such)."""

from __future__ import annotations

from typing import Any

from .context import Context, fmt_int
from .model import Document, Value

COLUMNS = (("name", "数据名称", "Data name"), ("description", "数据描述", "Description"),
           ("category", "所属类别", "Category"), ("grade", "数据级别（拟）", "Grade (proposed)"),
           ("scale", "数据规模", "Scale"), ("carrier", "数据载体", "Carrier (system, storage)"),
           ("origin", "数据来源", "Origin"), ("purpose", "处理目的", "Purpose"),
           ("processing", "处理方式", "Processing"), ("scope", "使用范围", "Scope of use"),
           ("owner", "责任部门／责任人", "Responsible"), ("sharing", "对外共享", "Shared with"),
           ("export", "出境情况", "Export"), ("protection", "安全保护措施", "Protection measures"))


def _protection(ctx: Context) -> tuple[str, str] | None:
    """The technical protection measures the checks evidence, by requirement status."""
    parts, sources = [], []
    for rid, zh, en in (("REQ-API-TRANSPORT", "传输加密与安全配置", "transport encryption"),
                        ("REQ-API-AUTHN", "接口身份认证", "interface authentication"),
                        ("REQ-API-AUTHZ", "接口授权", "interface authorisation"),
                        ("REQ-PSEUDONYMISE", "标识符去标识化", "identifier de-identification"),
                        ("REQ-PRECISION", "位置精度降低", "location coarsening")):
        r = ctx.requirement(rid)
        if r and r["by_asset"]:
            parts.append(f"{ctx.t(zh, en)}{ctx.t('：', ': ')}{ctx.word(r['status'])}")
            sources.append(rid)
    if not parts:
        return None
    return ctx.t("；", "; ").join(parts), "requirements › " + ", ".join(sources)


def _export_text(ctx: Context) -> tuple[str, str] | None:
    found = ctx.export_route()
    if not found:
        return None
    e, src = found
    from .. import zh

    route = zh.term(e["route"]) if ctx.lang == "zh" else e["route"]
    return ctx.t(f"出境路径：{route}", f"export route: {route}"), src


def rows(ctx: Context, d: Document) -> list[dict[str, Value]]:
    """The catalogue's rows, each value filled from evidence or marked to be completed."""
    out: list[dict[str, Value]] = []
    protection = _protection(ctx)
    export = _export_text(ctx)
    partners = ctx.org_list("partner")
    sharing = ("；".join(f"{p.get('name', '')}（{p.get('role', '')}）" for p in partners), f"{ctx.org_name} › partner") \
        if partners else (None, None)
    officer, officer_src = ctx.org("security_officer.name")
    heads = {k: ctx.t(zh, en) for k, zh, en in COLUMNS}
    name = ""

    def cell(key: str, text: Any, source: str | None) -> Value:
        return d.value(f"{name} / {heads[key]}", text, source)

    for ds, src in ctx.datasets():
        if ds["grade"] == "general":
            continue
        f = ds.get("facts", {})
        name = ctx.dataset_name(ds)
        scale = ctx.t(f"记录{fmt_int(f.get('records'))}条，车辆{fmt_int(f.get('vehicles'))}辆", f"{fmt_int(f.get('records'))} "
                      f"records, {fmt_int(f.get('vehicles'))} vehicles")
        if f.get("persons"):
            scale += ctx.t(f"，涉及{fmt_int(f['persons'])}人", f", {fmt_int(f['persons'])} persons")
        row = {
            "name": cell("name", name, src),
            "description": cell("description", ctx.t(f"{ctx.label('categories', ds['category'])}数据集，由平台汇聚",
                                                     f"{ctx.label('categories', ds['category'])} dataset held by the platform")
                                if ds.get("source") == "hub" else None, f"{src}.source"),
            "category": cell("category", ctx.label("categories", ds["category"]), f"{src}.category"),
            "grade": cell("grade", ctx.t("重要数据（拟定，须人工确认）", "important (proposed; a person confirms)")
                             + "；" + "；".join(ctx.sentence(t["text"]) + ctx.tag_note(t["tag"]) for t in ds["triggers"]),
                             f"{src}.triggers"),
            "scale": cell("scale", scale, f"{src}.facts"),
            "carrier": cell("carrier", f.get("storage"), f"{src}.facts.storage"),
            "origin": cell("origin", ctx.t("车端采集，经平台汇聚", "collected by vehicles, held by the platform")
                              if ds.get("source") == "hub" else None, f"{src}.source"),
            "purpose": cell("purpose", f.get("purpose"), f"{src}.facts.purpose"),
            "processing": cell("processing", None, None),
            "scope": cell("scope", None, None),
            "owner": cell("owner", officer, officer_src),
            "sharing": cell("sharing", *sharing),
            "export": cell("export", *(export or (None, None))),
            "protection": cell("protection", *(protection or (None, None))),
        }
        out.append(row)
    for (_name, category), entries in sorted(ctx.important_signals().items()):
        src = entries[0]["_source"]
        # named by the asset's own kind (车辆 / 平台): a platform's store is never called a vehicle
        name = f"{ctx.asset(entries[0]['_asset'])}{ctx.t('：', ': ')}{ctx.label('categories', category)}"
        names = "、".join(f"{e['message']}.{e['signal']}" for e in entries[:6]) + ("等" if len(entries) > 6 else "")
        handling = sorted({ctx.label("handling", e["handling"]) for e in entries})
        out.append({
            "name": cell("name", name, src),
            "description": cell("description", ctx.t(f"信号{names}（共{len(entries)}个）",
                                                                f"signals {names} ({len(entries)})"), f"{src} › entries"),
            "category": cell("category", ctx.label("categories", category), f"{src} › entries[].category"),
            "grade": cell("grade", ctx.t("重要数据（拟定，须人工确认）", "important (proposed; a person confirms)"),
                             f"{src} › entries[].grade"),
            "scale": cell("scale", None, None),
            "carrier": cell("carrier", ctx.t("车内（车端处理）", "in the vehicle (processed on board)"),
                               f"{src} › entries[].handling"),
            "origin": cell("origin", ctx.t("车辆传感器与总线", "vehicle sensors and buses"), src),
            "purpose": cell("purpose", None, None),
            "processing": cell("processing", "、".join(handling), f"{src} › entries[].handling"),
            "scope": cell("scope", None, None),
            "owner": cell("owner", officer, officer_src),
            "sharing": cell("sharing", *sharing),
            "export": cell("export", *(export or (None, None))),
            "protection": cell("protection", *(protection or (None, None))),
        })
    return out


def build(ctx: Context) -> tuple[Document, list[dict[str, Value]]]:
    d = Document("filing", ctx.t("重要数据和核心数据目录备案表", "Important- and core-data catalogue filing"), ctx.lang)
    d.subtitle = ctx.t("依据《网络数据安全管理条例》第二十九条、《工业和信息化领域数据安全管理办法（试行）》",
                       "under the Network Data Security Regulations Art. 29 and the MIIT data-security measures")
    d.h("一、填报单位基本情况", "1. The filing organisation")
    d.fields([*ctx.profile_rows("legal_name", "credit_code", "officer", "officer_phone", "officer_email", "regulator"),
              (d.t("填报日期", "Date"), ctx.today.isoformat(), "vehicle-ds documents")])
    d.h("二、重要数据和核心数据目录", "2. Catalogue of important and core data")
    d.p("每行一个数据集。数据级别为工具依据触发条件提出的拟定级别，须由数据安全负责人确认；核心数据一律由人员认定，工具不作自动认定。"
        "备案内容为数据的基本情况，不含数据内容本身。",
        "One row per dataset. The grade is proposed from the triggers and confirmed by the data-security officer; core "
        "data is never assigned by the tool. The filing describes the data, never its content.", "note")
    catalogue = rows(ctx, d)
    d.table([d.t(zh, en) for _, zh, en in COLUMNS], [[r[k] for k, _, _ in COLUMNS] for r in catalogue], wide=True)
    if not catalogue:
        d.p("输入中未识别出重要数据；须由人员就整个组织确认。", "No important data in the inputs; a person confirms this for the "
            "whole organisation.", "warning")
    d.h("三、变更记录", "3. Change log")
    changes = ctx.report.get("changes", {}).get("important_data")
    if changes:
        d.table([d.t("上次", "Before"), d.t("本次", "Now"), d.t("规模变化", "Scale change"), d.t("须变更备案", "Re-file")],
                [[str(changes["before"]), str(changes["after"]), f"{changes['scale_change']:.0%}",
                  d.t("是", "yes") if changes["refile"] else d.t("否", "no")]])
    else:
        d.p("本次为首次生成，无上次备案基线（以 vehicle-ds report --baseline 比较后生成变更记录）。",
            "No baseline given (vehicle-ds report --baseline records the change).", "note")
    refile = ctx.deadline("refiling")
    d.p("重要数据的类别或规模变化达30%以上的，应在变化发生后三个月内办理备案变更（依据该办法2022年2月征求意见稿第十二条；"
        "正式文本的条款号与表述待与官方文本核对）。" + (f"本次比较表明须变更备案，截止日期为{refile['due']}。" if refile else ""),
        "A change of 30 % or more in category or scale is re-filed within three months (2022 draft, Art. 12; the final "
        "article is to be confirmed against the official text)." + (f" Re-filing is due by {refile['due']}." if refile else ""))
    d.h("四、填报说明", "4. Notes")
    d.p("标注“待填写”的栏目须由填报单位补充；其余栏目均注明了所依据的检测证据（见 documents.json）。主管部门自收到备案材料之日起"
        "20个工作日内完成审核（依据2022年2月征求意见稿，待与官方文本核对）。",
        "Fields marked 'to be completed' are for the organisation; every other field names its evidence (documents.json). "
        "The regulator reviews within 20 working days (2022 draft; to be confirmed against the official text).")
    return d, catalogue


def csv_rows(ctx: Context, catalogue: list[dict[str, Value]]) -> tuple[list[str], list[list[Any]]]:
    headers = [ctx.t(zh, en) for _, zh, en in COLUMNS]
    return headers, [[r[k].text for k, _, _ in COLUMNS] for r in catalogue]
