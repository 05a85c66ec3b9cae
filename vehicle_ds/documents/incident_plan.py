"""数据安全事件应急预案 — the company's incident response plan (filings.md §4.5): the grading table of the MIIT
sector plan with every unverified band flagged, the reporting matrix (CAC ≤ 4 h for 较大 and above, sector
regulator immediately for important data, individuals per PIPL Art. 57), and drill scenarios drawn from
the failed checks."""

from __future__ import annotations

from .context import Context
from .model import Document

# (criterion zh, en, 特别重大, 重大, 较大, 一般) with each cell's tag from filings.md §4.2.
GRADING = (
    ("数据类别与威胁", "Data and threat",
     ("核心数据遭破坏，或重要数据受到特别严重威胁", "U"), ("重要数据遭泄露、篡改、破坏或非法利用，对国家安全等造成严重威胁", "V"),
     ("重要数据或一般数据对国家安全等造成较严重威胁", "V"), ("其他事件", "U")),
    ("对生产经营的影响", "Production impact",
     ("大范围停产", "U"), ("较大范围停产停工或丧失大部分处理能力", "V"), ("部分丧失业务处理能力", "V"), ("—", "U")),
    ("重要网络设施或系统中断", "Important systems down",
     ("≥ 24小时", "U"), ("≥ 12小时", "V"), ("≥ 8小时", "V"), ("—", "U")),
    ("直接经济损失", "Direct economic loss",
     ("≥ 10亿元", "U"), ("1亿元（含）至10亿元", "V"), ("5000万元至1亿元", "U"), ("—", "U")),
    ("个人信息", "Personal information",
     ("≥ 1亿人，或 ≥ 1000万人敏感个人信息", "U"), ("1000万人（含）至1亿人，或100万人（含）至1000万人敏感个人信息", "V"),
     ("100万人至1000万人，或10万人至100万人敏感个人信息", "U"), ("—", "U")),
)


# Vehicle scenarios for the plan and its drills, each tied to the check whose failure makes it real.
SCENARIOS = (
    ("probes.bola", "通过以车辆识别代号为键的接口批量抓取他人车辆数据", "VIN-keyed scraping of others' vehicles"),
    ("probes.exposure", "接口响应过度暴露个人信息导致批量泄露", "bulk leak through over-exposing responses"),
    ("probes.jwt.signature_not_verified", "伪造令牌冒用身份访问数据或下发远程指令", "forged tokens"),
    ("edge.uplink.location_precision", "高精度行踪轨迹向车外传输", "precise trajectories leaving"),
    ("models.backdoor.trigger_reconstruction", "自动驾驶模型被植入后门或遭篡改", "a backdoored driving model"),
    ("catalog.sensitive_handling", "座舱音视频或生物识别特征向车外泄露", "cabin media or biometrics leaving"),
    ("store.sensitive_at_rest", "平台存储的敏感个人信息因未加密而整库泄露", "readable sensitive PI leaking from a store"),
)


LEVELS = (("特别重大", "Particularly serious"), ("重大", "Serious"), ("较大", "Fairly serious"), ("一般", "General"))
# 初报 / 续报 / 总结报告 items (filings.md §4.5; the CAC's own list unverified)
TEMPLATES = (
    ("事件初报", "Initial report", (
        ("报告单位及联系人", "Organisation and contact"), ("发现时间", "Discovered at"), ("事件经过", "What happened"),
        ("涉及数据类别、级别、规模及影响人数", "Data, grade, scale, persons"), ("初判事件级别", "Provisional level"),
        ("已采取措施", "Measures taken"), ("是否需通知个人（《中华人民共和国个人信息保护法》第五十七条）",
                                        "Individuals to notify (PIPL Art. 57)"), ("下一步措施", "Next steps"))),
    ("事件续报", "Progress report", (
        ("初报编号与时间", "Initial report"), ("事件进展", "Progress"), ("级别调整情况", "Level changes"),
        ("新增处置措施", "New measures"), ("影响评估更新", "Impact update"))),
    ("事件总结报告", "Summary report", (
        ("事件原因", "Cause"), ("影响范围与损失", "Impact and loss"), ("处置过程", "Handling"), ("整改措施", "Remediation"),
        ("经验教训", "Lessons"), ("报送对象与时间", "Filed with and when"))),
)


def _cell(ctx: Context, text: str, tag: str) -> str:
    return text + (ctx.tag_note(tag) if tag != "V" and text != "—" else "")


def _organisation(ctx: Context, d: Document) -> None:
    """二 to 六: who acts, the incident types and scenarios, the grading table, monitoring and the response."""
    d.h("二、组织体系与职责", "2. Organisation and duties")
    contacts = ctx.org_list("contact")
    if contacts:
        d.table([d.t("角色", "Role"), d.t("姓名", "Name"), d.t("电话（7×24小时）", "Phone (24×7)")],
                [[str(c.get("role", "")), str(c.get("name", "")), str(c.get("phone", ""))] for c in contacts])
        d.p(d.t(f"联系人来源：{ctx.org_name} › contact", f"Contacts from {ctx.org_name} › contact"), style="note")
    else:
        d.fields([(d.t("应急领导小组、工作组、技术支撑单位及7×24小时联络人", "Leadership, team, support, 24×7 contacts"),
                   None, None)])
    d.h("三、事件分类", "3. Incident types")
    d.p("数据泄露、篡改、破坏、非法获取、非法利用及数据不可用。结合本单位检测结果，重点防范以下车联网场景：",
        "Leak, tampering, destruction, illegal acquisition or use, unavailability; vehicle scenarios from the checks:")
    scenarios = []
    failed = {c["id"] for c in ctx.checks(statuses=("fail",))}
    for cid, zh, en in SCENARIOS:
        if cid in failed:
            scenarios.append([d.t(zh, en), cid, d.t("本次检测存在不符合项", "failed in this assessment")])
    d.table([d.t("场景", "Scenario"), d.t("关联检查项", "Check"), d.t("说明", "Note")], scenarios, working=(1,))
    d.h("四、事件分级", "4. Grading")
    d.p("分级标准依据《工业和信息化领域数据安全事件应急预案（试行）》附件。“重大”“较大”栏目的部分数值已核对转载的原文；标注“待与官方文本核对”的"
        "数值未经核实，仅作参考，须以官方文本为准。",
        "From the MIIT plan's annex; cells marked 'to be confirmed' were not read in the original and are no law.", "warning")
    d.table([d.t("判定因素", "Criterion"), d.t("特别重大", "Particularly serious"), d.t("重大", "Serious"),
             d.t("较大", "Fairly serious"), d.t("一般", "General")],
            [[d.t(zh, en), *(_cell(ctx, text, tag) for text, tag in cells)] for zh, en, *cells in GRADING])
    d.h("五、监测预警", "5. Monitoring and warning")
    d.p("监测来源：数据合规监测平台的告警规则（接口探测发现、车端违规上传、敏感区域位置、模型验收不达标、平台静默）、"
        "车端检测结果及接口周期性探测。告警与事件的关联及定级见平台事件登记。",
        "Sources: the hub's alert rules (probe findings, non-compliant uploads, sensitive areas, models below acceptance, "
        "silent platforms), edge results and periodic probes.")
    d.h("六、应急响应", "6. Response")
    d.p("定级 → 启动响应 → 控制（隔离接口、吊销令牌、停止上传） → 消除 → 恢复 → 总结。",
        "Grade → respond → contain (isolate interfaces, revoke tokens, stop uplinks) → eradicate → recover → review.")
    d.table([d.t("事件级别", "Level"), d.t("响应级别与启动条件", "Response and trigger"), d.t("响应措施", "Measures"),
             d.t("指挥与决策", "Command")],
            [[d.t(zh, en), d.value(f"{zh} trigger", None, None), d.value(f"{zh} measures", None, None),
              d.value(f"{zh} command", None, None)] for zh, en in LEVELS])


def _reporting(ctx: Context, d: Document) -> None:
    """七: to whom, when and on what basis; the PIPL Art. 57 notice's contents."""
    d.h("七、报告与通报", "7. Reporting")
    d.table([d.t("对象", "To"), d.t("情形", "When"), d.t("时限", "Deadline"), d.t("依据", "Basis")], [
        [d.t("属地行业监管部门（通信管理局或工业和信息化主管部门）", "sector regulator"),
         d.t("涉及重要数据或核心数据的事件", "important or core data"),
         d.t("立即", "immediately"), d.t("工业和信息化领域数据安全管理办法（依据二手资料）", "MIIT-DSM (secondary)")],
        [d.t("省级网信部门", "provincial CAC"), d.t("较大及以上网络安全事件", "较大 and above"), d.t("4小时内", "within 4 h"),
         d.t("《国家网络安全事件报告管理办法》第四条", "CAC-IR Art. 4")],
        [d.t("履行个人信息保护职责的部门", "PI-protection authorities"),
         d.t("发生或者可能发生个人信息泄露、篡改、丢失", "PI leaked, tampered or lost, or likely to be"),
         d.t("立即", "at once"), ctx.cite("PIPL-57")],
        [d.t("个人", "individuals"), d.t("同上；采取措施能够有效避免危害的可不通知，但部门认为可能造成危害的除外",
                                          "as above, unless the measures effectively avoid harm and the authority "
                                          "does not require it"), d.t("立即", "at once"), ctx.cite("PIPL-57")],
        [d.t("主管部门", "authorities"), d.t("产品漏洞涉及国家安全、公共利益", "vulnerabilities touching national security"),
         d.t("24小时内", "within 24 h"), d.t("《网络数据安全管理条例》第十条", "NDSR Art. 10")]])
    d.p("事后总结报告的报送时限未经核实，由本单位按主管部门要求确定。", "The post-incident summary deadline is unverified.",
        "note")
    d.p("通知个人及履行个人信息保护职责的部门的内容：发生或者可能发生个人信息泄露、篡改、丢失的信息种类、原因和可能造成的危害；"
        "已采取的补救措施和个人可以采取的减轻危害的措施；本单位的联系方式（依据" + ctx.cite("PIPL-57") + "）。",
        "The notice states the kinds of information, the cause and possible harm; the remedies taken and what individuals "
        "can do; the organisation's contact (PIPL Art. 57).")


def build(ctx: Context) -> Document:
    d = Document("incident_plan", ctx.t("数据安全事件应急预案", "Data-security incident response plan"), ctx.lang)
    d.subtitle = ctx.t(f"依据{ctx.cite('CN-DSL-29')}、{ctx.cite('CN-NDSR-11')}、"
                       "《工业和信息化领域数据安全事件应急预案（试行）》、《国家网络安全事件报告管理办法》",
                       "under NDSR Art. 11, the MIIT sector incident plan (2024) and the CAC incident-reporting measures (2025)")
    d.h("一、总则", "1. General")
    d.p("编制目的：建立统一指挥、分级负责的数据安全事件应急工作机制，及时处置事件、减轻危害。编制依据：" + ctx.t("；", "; ").join(
        ctx.cite(b) for b in ("CN-DSL-29", "CN-NDSR-11", "PIPL-57", "MIIT-DSM"))
        + "；"
        "《工业和信息化领域数据安全事件应急预案（试行）》（工信部网安〔2024〕214号）；"
        "《国家网络安全事件报告管理办法》（2025年11月1日起施行）。适用范围：本单位车辆、车联网平台及数据接口处理的全部数据。",
        "Purpose, basis and scope: one command chain for data-security incidents across the organisation's vehicles, "
        "platform and interfaces.")
    _organisation(ctx, d)
    _reporting(ctx, d)
    d.h("八、事后总结", "8. Post-incident review")
    d.p("总结事件原因、影响、处置过程与整改措施，形成总结报告。", "Cause, impact, handling and remediation in a summary report.")
    d.fields([(d.t("总结报告的编写、审核与报送安排", "Who writes, approves and files the summary"), None, None)])
    d.h("九、预防与保障", "9. Prevention and support")
    d.fields([(d.t("数据备份、工具、经费与培训保障", "Backups, tools, budget, training"), None, None)])
    d.h("十、演练", "10. Drills")
    last, src = ctx.org("dates.last_drill")
    d.fields([(d.t("上次演练日期", "Last drill"), ctx.date(last), src),
              (d.t("演练频次", "Frequency"), None, None)])
    d.p("法规要求“定期”开展应急演练，未规定具体频次；建议至少每年一次（工程默认值，非法定要求）。演练脚本可由上表场景生成。",
        "Drills are required 'regularly' with no figure; at least yearly is our default, not law.", "note")
    _templates(ctx, d)
    return d


def _templates(ctx: Context, d: Document) -> None:
    """附件：初报、续报、总结报告模板 (filings.md §4.5): blanks filled when an incident happens, with the data
    categories the organisation holds listed from its catalogues as the reference for 涉及数据类别."""
    held = sorted({ctx.label("categories", c) for (_, c) in ctx.important_signals()}
                  | {ctx.label("categories", ds["category"]) for ds, _ in ctx.datasets() if ds["grade"] != "general"})
    d.h("附件：事件报告模板", "Annex: incident report templates")
    d.p(d.t("CAC 所要求的报告事项未经核实，以下栏目依据二手资料整理，报送时以主管部门要求为准。",
            "The CAC's required items were not verified; these follow secondary sources."), style="note")
    blank = ""
    for title_zh, title_en, items in TEMPLATES:
        d.h(title_zh, title_en, 2)
        d.table([d.t("栏目", "Item"), d.t("内容", "Content")], [[d.t(zh, en), blank] for zh, en in items])
    if held:
        d.p(d.t("本单位数据目录中的重要数据类别（供填写“涉及数据类别”参考）：", "Important data categories in the catalogues: ")
            + d.t("、", ", ").join(held) + d.t("。", "."))
