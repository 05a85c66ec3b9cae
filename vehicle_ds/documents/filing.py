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


# The verdicts that evidence a row's protection measures, per kind of asset holding it (requirement, zh, en).
PLATFORM_MEASURES = (("REQ-STORE-AT-REST", "敏感个人信息不以明文存储", "sensitive PI not stored readable"),
                     ("REQ-API-TRANSPORT", "传输加密与安全配置", "transport encryption"),
                     ("REQ-API-AUTHN", "接口身份认证", "interface authentication"),
                     ("REQ-API-AUTHZ", "接口授权", "interface authorisation"),
                     ("REQ-API-EXPOSURE", "接口数据暴露控制", "interface data exposure"))
VEHICLE_MEASURES = (("REQ-IMPORTANT-IN-VEHICLE", "重要数据车内处理", "important data kept in the vehicle"),
                    ("REQ-PSEUDONYMISE", "标识符去标识化", "identifier de-identification"),
                    ("REQ-PRECISION", "位置精度降低", "location coarsening"))


def _shared(ctx: Context, facts: dict[str, Any], src: str) -> tuple[str | None, str | None]:
    """The dataset's own declared recipients: 无 when it declares none, 待填写 when it does not say."""
    who = facts.get("shared_with")
    if who is None:
        return None, None
    return ("、".join(map(str, who)) if who else ctx.t("无", "none")), f"{src}.facts.shared_with"


def _exported(ctx: Context, facts: dict[str, Any], src: str) -> tuple[str | None, str | None]:
    """The dataset's own export declaration, with the organisation's route only when it does leave."""
    out = facts.get("exported")
    if out is None:
        return None, None
    if not out:
        return ctx.t("不出境", "not exported"), f"{src}.facts.exported"
    found = ctx.export_route()
    if not found:
        return ctx.t("出境（出境路径待判定）", "exported (route to be decided)"), f"{src}.facts.exported"
    from .. import zh

    route = zh.term(found[0]["route"]) if ctx.lang == "zh" else found[0]["route"]
    return ctx.t(f"出境；出境路径：{route}", f"exported; route: {route}"), f"{src}.facts.exported, {found[1]}"


def rows(ctx: Context, d: Document) -> list[dict[str, Value]]:
    """The catalogue's rows. Each states only its own dataset's facts and its holder's verdicts; where no such
    fact exists the cell reads 待填写, never another row's or the organisation's value."""
    out: list[dict[str, Value]] = []
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
                      f"records, {fmt_int(f.get('vehicles'))} vehicles") if f.get("records") is not None else None
        if scale and f.get("persons"):
            scale += ctx.t(f"，涉及{fmt_int(f['persons'])}人", f", {fmt_int(f['persons'])} persons")
        hub = ds.get("source") == "hub"
        out.append({
            "name": cell("name", name, src),
            "description": cell("description", ctx.t(f"{ctx.label('categories', ds['category'])}数据集，由平台汇聚",
                                                     f"{ctx.label('categories', ds['category'])} dataset held by the platform")
                                if hub else None, f"{src}.source"),
            "category": cell("category", ctx.label("categories", ds["category"]), f"{src}.category"),
            "grade": cell("grade", ctx.t("重要数据（拟定，须人工确认）", "important (proposed; a person confirms)")
                          + ctx.t("；", "; ") + ctx.t("；", "; ").join(ctx.sentence(t["text"]) + ctx.tag_note(t["tag"])
                                                                       for t in ds["triggers"]), f"{src}.triggers"),
            "scale": cell("scale", scale, f"{src}.facts"),
            "carrier": cell("carrier", f.get("storage"), f"{src}.facts.storage"),
            "origin": cell("origin", ctx.t("车端采集，经平台汇聚", "collected by vehicles, held by the platform")
                           if hub else None, f"{src}.source"),
            "purpose": cell("purpose", f.get("purpose"), f"{src}.facts.purpose"),
            "processing": cell("processing", None, None),
            "scope": cell("scope", None, None),
            "owner": cell("owner", f.get("owner"), f"{src}.facts.owner"),
            "sharing": cell("sharing", *_shared(ctx, f, src)),
            "export": cell("export", *_exported(ctx, f, src)),
            "protection": cell("protection", *(ctx.asset_statuses(ds.get("_holder"), PLATFORM_MEASURES) or (None, None))),
        })
    for (_name, category), entries in sorted(ctx.important_signals().items()):
        src, asset = entries[0]["_source"], entries[0]["_asset"]
        vehicle = asset.get("kind") == "vehicle"
        # named by the asset's own kind (车辆 / 平台): a platform's store is never called a vehicle
        name = f"{ctx.asset(asset)}{ctx.t('：', ': ')}{ctx.label('categories', category)}"
        names = "、".join(f"{e['message']}.{e['signal']}" for e in entries[:6]) + ("等" if len(entries) > 6 else "")
        what = ctx.t("信号", "signals") if vehicle else ctx.t("数据字段", "data fields")
        handling = sorted({ctx.label("handling", e["handling"]) for e in entries})
        # a vehicle's signals that all stay in the vehicle are neither shared nor exported: that is a fact
        stays = vehicle and all(e["handling"] == "drop" for e in entries)
        in_vehicle = (ctx.t("不适用（车内处理，不向车外提供）", "not applicable (processed in the vehicle, never sent out)"),
                      f"{src} › entries[].handling") if stays else (None, None)
        protection = ctx.asset_statuses(asset, VEHICLE_MEASURES if vehicle else PLATFORM_MEASURES)
        out.append({
            "name": cell("name", name, src),
            "description": cell("description", ctx.t(f"{what}{names}（共{len(entries)}个）", f"{what} {names} "
                                                     f"({len(entries)})"), f"{src} › entries"),
            "category": cell("category", ctx.label("categories", category), f"{src} › entries[].category"),
            "grade": cell("grade", ctx.t("重要数据（拟定，须人工确认）", "important (proposed; a person confirms)"),
                          f"{src} › entries[].grade"),
            "scale": cell("scale", None, None),
            "carrier": cell("carrier", ctx.t("车内（车端处理，不向车外传输）", "in the vehicle (never sent out)") if stays
                            else None, f"{src} › entries[].handling"),
            "origin": cell("origin", ctx.t("车辆传感器与总线", "vehicle sensors and buses") if vehicle else None, src),
            "purpose": cell("purpose", None, None),
            "processing": cell("processing", "、".join(handling) if vehicle else None, f"{src} › entries[].handling"),
            "scope": cell("scope", None, None),
            "owner": cell("owner", None, None),
            "sharing": cell("sharing", *in_vehicle),
            "export": cell("export", *in_vehicle),
            "protection": cell("protection", *(protection or (None, None))),
        })
    return out


def build(ctx: Context) -> tuple[Document, list[dict[str, Value]]]:
    d = Document("filing", ctx.t("重要数据和核心数据目录备案表", "Important- and core-data catalogue filing"), ctx.lang)
    d.subtitle = ctx.t(f"依据{ctx.cite('CN-NDSR-29')}、《工业和信息化领域数据安全管理办法（试行）》",
                       "under the Network Data Security Regulations Art. 29 and the MIIT data-security measures")
    d.h("一、填报单位基本情况", "1. The filing organisation")
    d.fields([*ctx.profile_rows("legal_name", "credit_code", "officer", "officer_phone", "officer_email", "regulator"),
              (d.t("填报日期", "Date"), ctx.date(ctx.today), "vehicle-ds documents")])
    d.h("二、重要数据和核心数据目录", "2. Catalogue of important and core data")
    d.p("每行一个数据集。数据级别为工具依据触发条件提出的拟定级别，须由数据安全负责人确认；核心数据一律由人员认定，工具不作自动认定。"
        "备案内容为数据的基本情况，不含数据内容本身。",
        "One row per dataset. The grade is proposed from the triggers and confirmed by the data-security officer; core "
        "data is never assigned by the tool. The filing describes the data, never its content.", "note")
    catalogue = rows(ctx, d)
    d.table([d.t(zh, en) for _, zh, en in COLUMNS], [[r[k] for k, _, _ in COLUMNS] for r in catalogue], wide=True,
            widths=[7, 12, 5, 10, 7, 6, 6, 5, 6, 5, 6, 6, 6, 12])
    if not catalogue:
        d.p("输入中未识别出重要数据；须由人员就整个组织确认。", "No important data in the inputs; a person confirms this for the "
            "whole organisation.", "warning")
    d.h("三、变更记录", "3. Change log")
    last, last_src = ctx.org("dates.last_filing")
    d.fields([(d.t("上次备案日期", "Last filed on"), ctx.date(last), last_src)])
    changes = ctx.report.get("changes", {}).get("important_data")
    if changes:
        d.table([d.t("上次", "Before"), d.t("本次", "Now"), d.t("规模变化", "Scale change"), d.t("须变更备案", "Re-file")],
                [[str(changes["before"]), str(changes["after"]), f"{changes['scale_change']:.0%}",
                  d.t("是", "yes") if changes["refile"] else d.t("否", "no")]])
    else:
        d.p("本次为首次生成，无上次备案基线（以 vehicle-ds report --baseline 比较后生成变更记录）。",
            "No baseline given (vehicle-ds report --baseline records the change).", "note")
    refile = ctx.deadline("refiling")
    due = f"本次比较表明须变更备案，截止日期为{ctx.date(refile['due'])}。" if refile else ""
    d.p("重要数据的类别或规模变化达30%以上的，应在变化发生后三个月内办理备案变更（依据该办法2022年2月征求意见稿第十二条；"
        "正式文本的条款号与表述待与官方文本核对）。" + due,
        "A change of 30 % or more in category or scale is re-filed within three months (2022 draft, Art. 12; the final "
        "article is to be confirmed against the official text)." + (f" Re-filing is due by {refile['due']}." if refile else ""))
    d.h("四、填报说明", "4. Notes")
    d.p("标注“待填写”的栏目须由填报单位补充。主管部门自收到备案材料之日起20个工作日内完成审核（依据2022年2月征求意见稿，"
        "待与官方文本核对）。", "Fields marked 'to be completed' are for the organisation. The regulator reviews within 20 "
        "working days (2022 draft; to be confirmed against the official text).")
    d.p("其余栏目所依据的检测证据见 documents.json。", "Every other field names its evidence in documents.json.", "note")
    return d, catalogue


def csv_rows(ctx: Context, catalogue: list[dict[str, Value]]) -> tuple[list[str], list[list[Any]]]:
    headers = [ctx.t(zh, en) for _, zh, en in COLUMNS]
    return headers, [[r[k].text for k, _, _ in COLUMNS] for r in catalogue]
