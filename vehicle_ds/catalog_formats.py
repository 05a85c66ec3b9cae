"""Render a catalog document as JSON, CSV (the ledger filed with the regulator), Markdown or HTML."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from .catalog import summarize
from .taxonomy import TAXONOMY

# (key, zh, en) — the ledger columns; zh first because the filing is made in China.
LEDGER_COLUMNS = (
    ("message", "报文", "Message"), ("frame_id", "帧ID", "Frame ID"), ("signal", "信号", "Signal"),
    ("unit", "单位", "Unit"), ("category", "数据类别", "Category"), ("pi", "个人信息类别", "PI class"),
    ("grade", "数据级别", "Grade"), ("handling", "车外传输前处理方式", "Handling before leaving the vehicle"),
    ("basis", "法律依据", "Legal basis"), ("basis_status", "依据核实状态", "Basis verification"),
    ("rule", "识别规则", "Rule"), ("confidence", "置信度", "Confidence"),
    ("needs_review", "需人工复核", "Needs review"), ("why_zh", "说明", "Why (Chinese)"),
    ("why", "说明（英文）", "Why"),
)


def to_json(catalog: dict[str, Any]) -> str:
    return json.dumps(catalog, ensure_ascii=False, indent=2) + "\n"


def _basis_status(ids: list[str]) -> str:
    return "; ".join(f"{b}:{TAXONOMY.basis[b].status}" for b in ids if b in TAXONOMY.basis)


def to_csv(catalog: dict[str, Any], *, important_only: bool = False) -> str:
    """The data-asset ledger (or, with ``important_only``, the important-data catalogue), zh + en
    headers and labels, UTF-8 with BOM so spreadsheet programs show the Chinese."""
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([f"{zh} {en}" for _, zh, en in LEDGER_COLUMNS])
    for e in catalog["entries"]:
        if important_only and e["grade"] == "general":
            continue
        row = []
        for key, _, _ in LEDGER_COLUMNS:
            if key == "frame_id":  # a platform store's entry names its source instead of a CAN id
                row.append(f"0x{e['frame_id']:X}" if "frame_id" in e else e.get("source", ""))
            elif key in ("category", "pi", "grade", "handling"):
                kind = {"category": "categories", "pi": "pi", "grade": "grades", "handling": "handling"}[key]
                row.append(f"{TAXONOMY.label(kind, e[key], 'zh')} / {TAXONOMY.label(kind, e[key], 'en')}"
                           f" ({e[key]})")
            elif key == "basis":
                row.append("; ".join(e["basis"]))
            elif key == "basis_status":
                row.append(_basis_status(e["basis"]))
            elif key == "needs_review":
                row.append("是 yes" if e["needs_review"] else "否 no")
            else:
                row.append(e.get(key, ""))
        w.writerow(row)
    return buf.getvalue()


def _md_cell(v: object) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


MD_WORDS = {
    "zh": {"title": "数据目录", "vehicle": "车辆数据目录", "platform": "平台数据目录", "policy": "策略",
           "source": "{path}：{messages}个报文，{signals}个信号，sha256 `{sha}…`", "repairs": "；修复：",
           "summary": "| 数据类别 | 信号数 | | 个人信息类别 | 信号数 | | 处理方式 | 信号数 |", "review": "须人工复核的信号：",
           "combinations": "组合规则", "combo": "- **{id}**（{text}）：将{n}个信号调整为{to}；依据{basis}",
           "signals": "信号", "yes": "是",
           "head": "| 报文 | 信号 | 单位 | 数据类别 | 个人信息类别 | 数据级别 | 处理方式 | 识别规则 | 置信度 | 复核 | 说明 |"},
    "en": {"title": "Data catalog", "vehicle": "Vehicle data catalog", "platform": "Platform data catalog",
           "policy": "policy", "source": "`{path}`: {messages} messages, {signals} signals, sha256 `{sha}…`",
           "repairs": "; repairs: ", "summary": "| category | signals | | pi | signals | | handling | signals |",
           "review": "Signals needing review: ", "combinations": "Combinations",
           "combo": "- **{id}** ({text}): raises {to} for {n} signal(s); basis {basis}", "signals": "Signals",
           "yes": "yes", "head": "| message | signal | unit | category | pi | grade | handling | rule | conf. | review | why |"},
}


_RAISES_TABLES = {"pi": "pi", "grade": "grades", "handling": "handling"}


def raises_words(to: str, lang: str) -> str:
    """A combination's ``raises_to`` ("pi:sensitive", "grade:important, handling:drop", "review:True") in the
    taxonomy's words: 敏感个人信息, 重要数据、车内处理…, 须人工复核."""
    parts = []
    for item in (t.strip() for t in to.split(",") if t.strip()):
        kind, _, value = item.partition(":")
        if kind == "review":
            parts.append("须人工复核" if lang == "zh" else "needs review")
        elif kind in _RAISES_TABLES:
            parts.append(TAXONOMY.label(_RAISES_TABLES[kind], value, lang))
        else:
            parts.append(item)
    return ("、" if lang == "zh" else ", ").join(parts)


def basis_words(ids: list[str], lang: str) -> str:
    """Chinese cites each basis as the law is cited (《…》第X条, unverified ones said so); English keeps the ids."""
    from . import zh

    return "、".join(zh.cite(b) for b in ids) if lang == "zh" else ", ".join(ids)


def to_markdown(catalog: dict[str, Any], lang: str = "en") -> str:
    """The catalogue in Markdown, every label and reason in ``lang`` (a discovered column's reason in Chinese
    is its ``why_zh``; labels come from the taxonomy)."""
    w = MD_WORDS["zh" if lang == "zh" else "en"]
    s = summarize(catalog)
    kind = catalog.get("asset", {}).get("kind", "vehicle")
    lines = [f"# {w.get(kind, w['title'])} — {w['policy']} `{catalog['policy']['id']}` {catalog['policy']['version']}", ""]
    for src in catalog["sources"]:
        lines.append("- " + w["source"].format(path=src["path"], messages=src["messages"], signals=src["signals"],
                                               sha=src["sha256"][:16]) + (w["repairs"] + "; ".join(src["repairs"])
                                                                          if src.get("repairs") else ""))
    lines += ["", w["summary"], "|---|---:|---|---|---:|---|---|---:|"]
    cats, pis, hands = (sorted(s[k].items(), key=lambda kv: -kv[1]) for k in ("category", "pi", "handling"))
    for i in range(max(len(cats), len(pis), len(hands))):
        cells = []
        for seq, kind_ in ((cats, "categories"), (pis, "pi"), (hands, "handling")):
            cells += ([TAXONOMY.label(kind_, seq[i][0], lang), str(seq[i][1])] if i < len(seq) else ["", ""])
        lines.append("| " + " | ".join(cells[:2]) + " | | " + " | ".join(cells[2:4]) + " | | "
                     + " | ".join(cells[4:]) + " |")
    lines += ["", f"{w['review']}**{s['needs_review']['yes']}**", ""]
    if catalog["combinations"]:
        lines += [f"## {w['combinations']}", ""]
        for c in catalog["combinations"]:
            lines.append(w["combo"].format(id=c["id"], text=c[lang] if lang in c else c["en"],
                                           to=raises_words(c["raises_to"], lang), n=len(c["affects"]),
                                           basis=basis_words(c["basis"], lang)))
        lines.append("")
    lines += [f"## {w['signals']}", "", w["head"], "|---|---|---|---|---|---|---|---|---:|---|---|"]
    for e in catalog["entries"]:
        why = (e.get("why_zh") or e["why"]) if lang == "zh" else e["why"]
        lines.append("| " + " | ".join(_md_cell(x) for x in (
            e["message"], e["signal"], e["unit"], TAXONOMY.label("categories", e["category"], lang),
            TAXONOMY.label("pi", e["pi"], lang), TAXONOMY.label("grades", e["grade"], lang),
            TAXONOMY.label("handling", e["handling"], lang), e["rule"] or "—", f"{e['confidence']:.2f}",
            w["yes"] if e["needs_review"] else "", why)) + " |")
    return "\n".join(lines) + "\n"


def to_html(catalog: dict[str, Any], lang: str = "en") -> str:
    from .templating import render

    return render("catalog.html.j2", catalog=catalog, summary=summarize(catalog), lang=lang, tax=TAXONOMY,
                  raises=lambda to: raises_words(to, lang), basis=lambda ids: basis_words(ids, lang), cite=_cite)


def _cite(basis_id: str) -> str:
    from . import zh

    return zh.cite(basis_id)


RENDERERS = {"json": lambda c, lang: to_json(c), "csv": lambda c, lang: to_csv(c),
             "md": to_markdown, "html": to_html}
