"""The report's words: labels in zh and en, punctuation by language, and how a check, an asset or a
catalog entry is named in each. The HTML templates, the Markdown and the documents all read these."""

from __future__ import annotations

from typing import Any

from .. import zh
from ..taxonomy import TAXONOMY

LABELS: dict[str, dict[str, str]] = {
    "title": {"zh": "车联网数据合规报告", "en": "Connected-vehicle data compliance report"},
    "summary": {"zh": "执行摘要", "en": "Executive summary"},
    "cards_count": {"zh": "要求项结论（每项要求按资产分别评定，一行一资产）：",
                    "en": "Requirement verdicts, one per requirement and asset:"},
    "matrix": {"zh": "合规要求矩阵", "en": "Requirement matrix"},
    "inventory": {"zh": "数据清单与分类分级", "en": "Data inventory and grading"},
    "uplink": {"zh": "车外传输数据", "en": "What leaves the vehicle"},
    "interfaces": {"zh": "数据接口安全", "en": "Interface security"},
    "models": {"zh": "自动驾驶模型安全检测", "en": "Model robustness"},
    "processor": {"zh": "数据处理者义务清单", "en": "Processor-level obligations"},
    "appendix": {"zh": "附录：输入与复现", "en": "Appendix: inputs and reproduction"},
    "checks": {"zh": "全部检查项", "en": "All checks"},
    "pass": {"zh": "符合", "en": "pass"}, "fail": {"zh": "不符合", "en": "fail"},
    "needs_review": {"zh": "需复核", "en": "needs review"}, "not_assessed": {"zh": "未评估", "en": "not assessed"},
    "warn": {"zh": "警告", "en": "warn"}, "error": {"zh": "错误", "en": "error"}, "skipped": {"zh": "跳过", "en": "skipped"},
    "critical": {"zh": "严重", "en": "critical"}, "high": {"zh": "高", "en": "high"}, "medium": {"zh": "中", "en": "medium"},
    "low": {"zh": "低", "en": "low"}, "info": {"zh": "提示", "en": "info"},
    "requirement": {"zh": "要求", "en": "Requirement"}, "status": {"zh": "状态", "en": "Status"},
    "basis": {"zh": "依据", "en": "Basis"}, "evidence": {"zh": "证据", "en": "Evidence"},
    "severity": {"zh": "严重程度", "en": "Severity"}, "check": {"zh": "检查项", "en": "Check"},
    "top_risks": {"zh": "主要风险", "en": "Top risks"}, "none": {"zh": "无", "en": "none"},
    "by_category_grade": {"zh": "按数据类别与级别统计的信号数", "en": "Signals by category and grade"},
    "by_category_pi": {"zh": "按数据类别与个人信息类别统计的信号数", "en": "Signals by category and PI class"},
    "findings_by_severity": {"zh": "待处理项（按严重程度）", "en": "Open findings by severity"},
    "important_csv": {"zh": "下载重要数据目录（CSV，备案用）", "en": "Download the important-data catalogue (CSV, for filing)"},
    "ledger_csv": {"zh": "下载完整数据资产台账（CSV）", "en": "Download the full data-asset ledger (CSV)"},
    "combinations": {"zh": "组合规则", "en": "Combinations"}, "ledger": {"zh": "数据资产台账", "en": "Data-asset ledger"},
    "unverified_note": {"zh": "标*的依据未经原文核实，相关结论须经人工确认",
                        "en": "bases marked * rest on a secondary or unverified source: confirm before relying on them"},
    "not_assessed_note": {"zh": "没有检查结果支撑的要求标为未评估，而非符合",
                          "en": "a requirement no check evidences is 'not assessed', never 'pass'"},
    "no_inputs": {"zh": "本报告无此类输入", "en": "no input of this kind in this report"},
    "error_vs_severity": {"zh": "各类扰动下错误率随严重等级的变化", "en": "Error rate versus corruption severity"},
    "certified": {"zh": "可证明准确率随半径的变化", "en": "Certified accuracy versus radius"},
    "note": {"zh": "说明", "en": "Note"}, "input": {"zh": "输入", "en": "Input"},
    "overall": {"zh": "总体结论", "en": "Overall"},
    "incomplete": {"zh": "运行不完整：预算或中断使以下检查未能完成，其结论未经证实",
                   "en": "Incomplete run: a budget or an interruption stopped these checks; their verdicts were "
                         "never earned"},
    "filter": {"zh": "筛选信号……", "en": "Filter signals…"},
    "asset": {"zh": "对象", "en": "Asset"}, "reason": {"zh": "原因", "en": "Reason"},
    "criterion": {"zh": "判定标准", "en": "Criterion"}, "observed": {"zh": "观测量", "en": "Observed"},
    "measured": {"zh": "测得值", "en": "Measured"},
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
    "refile": {"zh": "重要数据类别或规模变化达30%以上：须在三个月内办理备案变更",
               "en": "important data changed by 30 % or more in category or scale: update the filing within three months"},
    "monitoring": {"zh": "监测预警与应急处置", "en": "Monitoring and incidents"},
    "alerts": {"zh": "告警", "en": "Alerts"}, "incidents": {"zh": "数据安全事件", "en": "Incidents"},
    "open_alerts": {"zh": "未处理告警", "en": "open alerts"}, "grade": {"zh": "事件级别", "en": "Grade"},
    "opened": {"zh": "发现时间", "en": "Opened"}, "closed": {"zh": "结束时间", "en": "Closed"},
    "earned_note": {"zh": "每项检查须达到其判定标准声明的最少观测量方可判为符合，否则为未评估",
                    "en": "a check passes only with at least its criterion's declared minimum of observed evidence; "
                          "less is 'not assessed'"},
    "deadlines": {"zh": "报送与办理期限", "en": "Deadlines"}, "item": {"zh": "事项", "en": "Item"},
    "due": {"zh": "截止日期", "en": "Due"}, "days_left": {"zh": "剩余天数", "en": "Days left"},
    "due_soon": {"zh": "30日内到期", "en": "due within 30 days"},
    "id": {"zh": "编号", "en": "id"}, "category": {"zh": "数据类别", "en": "Category"},
    "grade_col": {"zh": "数据级别", "en": "Grade"}, "pi_class": {"zh": "个人信息类别", "en": "PI class"},
    "handling": {"zh": "车外传输前处理方式", "en": "Handling"}, "why": {"zh": "识别理由", "en": "Why"},
    "message": {"zh": "报文", "en": "Message"}, "signal": {"zh": "信号", "en": "Signal"},
    "messages": {"zh": "报文数", "en": "messages"}, "signals": {"zh": "信号数", "en": "signals"},
    "policy": {"zh": "分类分级政策", "en": "policy"}, "values": {"zh": "数值个数", "en": "values"},
    "dropped_reason": {"zh": "车内处理原因", "en": "Dropped: reason"}, "kind": {"zh": "类型", "en": "Kind"},
    "settings": {"zh": "运行参数", "en": "Settings"}, "findings": {"zh": "发现项", "en": "findings"},
    "before": {"zh": "上次", "en": "Before"}, "after": {"zh": "本次", "en": "After"}, "change": {"zh": "变化", "en": "Change"},
    "change_new": {"zh": "新增", "en": "new"}, "change_fixed": {"zh": "已整改", "en": "fixed"},
    "change_still_open": {"zh": "仍未整改", "en": "still open"}, "change_unchanged": {"zh": "无变化", "en": "unchanged"},
    "change_worse": {"zh": "变差", "en": "worse"}, "change_better": {"zh": "改善", "en": "better"},
    "change_added": {"zh": "新增", "en": "added"}, "change_removed": {"zh": "移除", "en": "removed"},
    "change_changed": {"zh": "变化", "en": "changed"}, "change_regressed": {"zh": "退化", "en": "regressed"},
    "graded": {"zh": "已定级", "en": "graded"}, "reported": {"zh": "已报告", "en": "reported"},
    "frames_total": {"zh": "报文总数", "en": "frames_total"}, "frames_decoded": {"zh": "已解码报文", "en": "frames_decoded"},
    "frames_unknown": {"zh": "未知标识符报文", "en": "frames_unknown"}, "frames_error": {"zh": "错误报文", "en": "frames_error"},
    "margin": {"zh": "距安全评估门槛尚余个人信息%s人、敏感个人信息%s人",
               "en": "%s PI / %s sensitive to the assessment threshold"},
    "catalog": {"zh": "数据目录", "en": "catalog"}, "edge": {"zh": "车端", "en": "edge"},
    "probes": {"zh": "接口探测", "en": "probes"},
    "open": {"zh": "未处理", "en": "open"}, "acknowledged": {"zh": "已确认", "en": "acknowledged"},
    "resolved": {"zh": "已处理", "en": "resolved"}, "closed_state": {"zh": "已关闭", "en": "closed"},
    "severity_axis": {"zh": "严重等级", "en": "severity"}, "error_axis": {"zh": "错误率", "en": "error"},
    "radius_axis": {"zh": "半径", "en": "radius"}, "accuracy_axis": {"zh": "准确率", "en": "accuracy"},
}

# Punctuation by language: Chinese output uses full-width marks (GB/T 15834), never "总体结论: 不符合".
PUNCT: dict[str, dict[str, str]] = {
    "zh": {"colon": "：", "comma": "，", "semi": "；", "lp": "（", "rp": "）", "stop": "。"},
    "en": {"colon": ": ", "comma": ", ", "semi": "; ", "lp": " (", "rp": ")", "stop": ". "},
}


def label(key: str, lang: str) -> str:
    return LABELS.get(key, {}).get(lang, key)


def check_title(c: dict[str, Any], lang: str) -> str:
    return c.get("zh", {}).get("title") or zh.zh_fields(c)["title"] if lang == "zh" else c["title"]


def check_criterion(c: dict[str, Any], lang: str) -> str:
    if lang != "zh":
        return (c.get("criterion") or {}).get("text", "")
    return c.get("zh", {}).get("criterion") or zh.zh_fields(c).get("criterion", "")


def check_reason(c: dict[str, Any], lang: str) -> str:
    if lang != "zh":
        return c.get("reason", "")
    return c.get("zh", {}).get("reason") or zh.sentence_or_quote(c.get("reason", ""))


def sentence(text: str, lang: str) -> str:
    return zh.sentence_or_quote(text) if lang == "zh" and text else text


def why(entry: dict[str, Any], lang: str) -> str:
    return entry.get("why_zh") or sentence(entry.get("why", ""), lang) if lang == "zh" else entry.get("why", "")


def raises(to: str, lang: str) -> str:
    """A combination's ``raises_to`` ("pi:sensitive", "grade:important") in words."""
    kind, _, value = to.partition(":")
    table = {"pi": "pi", "grade": "grades", "handling": "handling"}.get(kind)
    return f"→ {TAXONOMY.label(table, value, lang)}" if table else to


# the numbers a reader looks for first in a check's metrics, in this order (model checks above all)
KEY_METRICS = ("accuracy", "error_rate", "mse", "ap50", "ap", "recall", "fp_per_frame", "covered_rate", "worst_error",
               "worst", "mce", "mpc", "rpc", "worst_recall", "violation_rate", "success_rate", "median_queries",
               "certified_accuracy")


def _shown(v: Any) -> str | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return f"{v:.3g}" if isinstance(v, float) else f"{v:,}"
    if isinstance(v, str) and len(v) <= 40:
        return v
    if isinstance(v, dict) and v and all(isinstance(t, (int, float)) or t is None for t in v.values()):
        return "/".join(f"{k} {_shown(t) or '—'}" for k, t in v.items())
    return None


def key_values(c: dict[str, Any], most: int = 5) -> str:
    """A check's key numbers in one line ("ap50 0.954; recall 0.92; rpc ap 0.71/ap50 0.8"), so a row says what
    was measured without opening its evidence; empty when the check has none."""
    m = c.get("metrics") or {}
    parts = [f"{k} {v}" for k in KEY_METRICS if k in m and (v := _shown(m[k])) is not None]
    return "; ".join(parts[:most])


def template_helpers(lang: str) -> dict[str, Any]:
    """What the templates call to write in ``lang``: labels, punctuation, check texts, citations."""
    return {"L": lambda k: label(k, lang), "P": PUNCT[lang], "T": lambda c: check_title(c, lang),
            "CR": lambda c: check_criterion(c, lang), "RS": lambda c: check_reason(c, lang),
            "S": lambda t: sentence(t, lang), "WHY": lambda e: why(e, lang), "cite": zh.cite, "term": zh.term,
            "raises": lambda t: raises(t, lang), "asset_name": lambda a: asset_name(a, lang), "KV": key_values}


def asset_name(a: dict[str, str], lang: str) -> str:
    """How a report names an asset: its kind, name and version."""
    version = (f"（{a['version']}）" if lang == "zh" else f" ({a['version']})") if a.get("version") else ""
    return f"{label(a['kind'], lang)} {a['name']}{version}"


def cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def basis_md(bs: list[dict[str, Any]], lang: str) -> str:
    sep = PUNCT[lang]["comma"]
    if lang == "zh":  # the citation itself says when the clause was not read in the original
        return sep.join(zh.cite(b["id"]) for b in bs)
    return sep.join(b["id"] + ("*" if b["status"] != "verified" else "") for b in bs)
