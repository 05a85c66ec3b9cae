"""The report as Markdown, with every section the HTML has (charts as tables): one function per section,
called in ``MARKDOWN_SECTIONS`` order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import zh
from ..taxonomy import TAXONOMY
from .build import SECTIONS
from .words import (
    PUNCT,
    asset_name,
    basis_md,
    cell,
    check_criterion,
    check_reason,
    check_title,
    key_values,
    label,
    sentence,
    why,
)


@dataclass(frozen=True)
class _Writer:
    """One language's words: ``L`` labels, ``P`` punctuation, ``S`` sentences."""

    lang: str

    def L(self, key: str) -> str:
        return label(key, self.lang)

    @property
    def P(self) -> dict[str, str]:
        return PUNCT[self.lang]

    def S(self, text: str) -> str:
        return sentence(text, self.lang)

    def table(self, *columns: str) -> list[str]:
        return ["| " + " | ".join(self.L(c) for c in columns) + " |", "|" + "---|" * len(columns)]

    def grade(self, g: str) -> str:
        return TAXONOMY.label("grades", g, self.lang)

    def category(self, c: str) -> str:
        return TAXONOMY.label("categories", c, self.lang)


def _head(report: dict[str, Any], w: _Writer) -> list[str]:
    s = report["summary"]["requirements"]
    cut = [f"> **{w.L('incomplete')}**{w.P['colon']}" + w.P["semi"].join(
        f"{i['component']} {i['asset'].get('name', '')}{w.P['colon']}{w.P['comma'].join(i['cut']) or '—'}"
        for i in report.get("incomplete", [])), ""] if report.get("incomplete") else []
    return [f"# {w.L('title')}", "", *cut, f"**{w.L('overall')}{w.P['colon']}{w.L(report['status'])}** — "
            + w.P["comma"].join(f"{w.L(k)} {v}" for k, v in s.items()), "", f"## {w.L('summary')}", ""]


def _deadlines(report: dict[str, Any], w: _Writer) -> list[str]:
    if not report.get("deadlines"):
        return []
    lines = [f"### {w.L('deadlines')}", "", *w.table("item", "due", "days_left", "basis")]
    for d in report["deadlines"]:
        flag = f" **{w.L('due_soon')}**" if d.get("soon") else ""
        left = d["days_left"] if d["days_left"] is not None else d.get(f"missing_{w.lang}", "")
        basis = zh.cite(d["basis"]) if w.lang == "zh" else d["basis"]
        lines.append(f"| {d[w.lang]}{flag} | {d['due'] or '—'} | {cell(left)} | {basis} [{d['tag']}] |")
    return lines + [""]


def _top_risks(report: dict[str, Any], w: _Writer) -> list[str]:
    lines = [f"### {w.L('top_risks')}", ""]
    top = report["summary"]["top_risks"]
    if not top:
        lines.append(f"- {w.L('none')}")
    for i in top:
        c = report["checks"][i]
        lines.append(f"- **{w.L(c['severity'])}** `{c['id']}` — {check_title(c, w.lang)} — "
                     f"{asset_name(c['asset'], w.lang)}")
        act = report["summary"].get("top_risk_actions", {}).get(str(i))
        if act:
            lines.append(f"  {w.L('remediation')}{w.P['colon']}{act['remediation'][w.lang]}"
                         f"{w.P['lp']}`{act['requirement']}`{w.P['rp']}")
    return lines + [""]


def _matrix(report: dict[str, Any], w: _Writer) -> list[str]:
    lines = [f"## {w.L('matrix')}", "", *w.table("id", "requirement", "asset", "status", "reason", "basis", "evidence")]
    for r in report["requirements"]:
        if r["kind"] == "processor":
            continue
        rows = r["by_asset"] or [{"asset": None, "status": r["status"], "reason": r["reason"], "evidence": []}]
        for a in rows:
            ev = ", ".join(sorted({f"`{report['checks'][i]['id']}`" for i in a["evidence"]})) or "—"
            who = asset_name(a["asset"], w.lang) if a["asset"] else "—"
            lines.append(f"| {r['id']} | {cell(r['title'][w.lang])} | {who} | {w.L(a['status'])} | "
                         f"{cell(w.S(a['reason'] or ''))} | {basis_md(r['basis'], w.lang)} | {ev} |")
    return lines + ["", f"\\* {w.L('unverified_note')}{w.P['stop']}{w.L('not_assessed_note')}{w.P['semi']}"
                        f"{w.L('earned_note')}{w.P['stop']}", ""]


def _datasets(report: dict[str, Any], w: _Writer) -> list[str]:
    lines: list[str] = []
    for ds in report.get("datasets", []):
        sm = ds["summary"]
        lines += [f"## {w.L('datasets')} — {asset_name(ds['subject']['asset'], w.lang)}", "",
                  *w.table("dataset", "category", "grade_col", "triggers", "unknown_facts")]
        for d in sm.get("datasets", []):
            trig = w.P["semi"].join(w.S(t["text"]) for t in d["triggers"]) or "—"
            unk = w.P["semi"].join(w.S(u) for u in d["unknown"]) or "—"
            title = (d.get("title_zh") if w.lang == "zh" else "") or d["title"]
            lines.append(f"| `{d['id']}` {title} | {w.category(d['category'])} | {w.grade(d['grade'])} "
                         f"| {cell(trig)} | {cell(unk)} |")
        e = sm.get("export_route", {})
        if e:
            route = zh.term(e["route"]) if w.lang == "zh" else e["route"]
            tripped = f" — {w.P['semi'].join(w.S(t) for t in e['tripped'])}" if e.get("tripped") else ""
            lines += ["", f"**{w.L('export_route')}**{w.P['colon']}{route}{tripped}", ""]
    return lines


def _monitoring(report: dict[str, Any], w: _Writer) -> list[str]:
    hub = report.get("hub")
    if not hub:
        return []
    lines = [f"## {w.L('monitoring')}", "", f"{w.L('open_alerts')}{w.P['colon']}{hub['alerts']['open']}", "",
             "| # | " + " | ".join(w.L(c) for c in ("incidents", "grade", "status", "opened")) + " |", "|---|---|---|---|---|"]
    lines += [f"| {i['id']} | {cell(i['title'])} | {i.get('grade') or '—'} | {w.L(i['state'])} | {i['opened_at'][:16]} |"
              for i in hub.get("incidents", [])]
    return lines + [""]


def _inventory(report: dict[str, Any], w: _Writer) -> list[str]:
    lines = [f"## {w.L('inventory')}", ""]
    for inv in report["inventory"]:
        lines += [f"### {asset_name(inv['asset'], w.lang)}", "",
                  f"| {w.L('category')} | " + " | ".join(w.grade(g) for g in TAXONOMY.grades) + " |",
                  "|---|" + "---|" * len(TAXONOMY.grades)]
        for cat, counts in sorted(inv["grade_by_category"].items(), key=lambda kv: -sum(kv[1].values())):
            lines.append(f"| {w.category(cat)} | " + " | ".join(str(counts.get(g, 0)) for g in TAXONOMY.grades) + " |")
        combos = w.P["semi"].join(c.get(w.lang, c["id"]) for c in inv["combinations"])
        lines += ["", f"**{w.L('combinations')}**{w.P['colon']}{combos}" if inv["combinations"] else "", ""]
        important = inv.get("important", [])
        if important:
            lines += w.table("message", "signal", "category", "grade_col", "handling", "why")
            lines += [f"| `{e['message']}` | `{e['signal']}` | {w.category(e['category'])} | {w.grade(e['grade'])} | "
                      f"{TAXONOMY.label('handling', e['handling'], w.lang)} | {cell(why(e, w.lang))} |" for e in important]
            lines.append("")
    return lines


def _uplink(report: dict[str, Any], w: _Writer) -> list[str]:
    lines: list[str] = []
    for u in report["uplink"]:
        sm = u["summary"]
        counts = ("frames_total", "frames_decoded", "frames_unknown", "frames_error")
        lines += [f"## {w.L('uplink')} — {asset_name(u['subject']['asset'], w.lang)}", "",
                  w.P["comma"].join(f"{w.L(k)} {sm.get(k, 0):,}" for k in counts), "", *w.table("handling", "values")]
        lines += [f"| {TAXONOMY.label('handling', h, w.lang)} | {n:,} |"
                  for h, n in (sm.get("signals_by_handling") or {}).items()]
        if sm.get("dropped_by_reason"):
            lines += ["", *w.table("dropped_reason", "values")]
            lines += [f"| {cell(w.S(k))} | {n:,} |" for k, n in sm["dropped_by_reason"].items()]
        lines.append("")
    return lines


def _check_row(c: dict[str, Any], w: _Writer) -> str:
    observed = ", ".join(f"{k} {v}" for k, v in (c.get("observed") or {}).items()) or "—"
    kv = key_values(c)
    measured = f"<br>{w.L('measured')}{w.P['colon']}`{cell(kv)}`" if kv else ""
    why_not = f"{w.P['lp']}{check_reason(c, w.lang)}{w.P['rp']}" if c.get("reason") else ""
    crit = check_criterion(c, w.lang) or w.L("none")
    src = (c.get("criterion") and f"{w.P['lp']}{w.L(c['criterion']['source'])}{w.P['rp']}") or ""
    return (f"| {asset_name(c['asset'], w.lang)} | `{c['id']}` {cell(check_title(c, w.lang))}{cell(why_not)} | "
            f"{w.L(c['status'])} | {w.L(c['severity'])} | {cell(crit)}{src} | `{observed}`{measured} |")


def _checks(report: dict[str, Any], w: _Writer) -> list[str]:
    """Per section, its component's findings and how many of its checks passed."""
    lines: list[str] = []
    for section, component in SECTIONS:
        # every check that did not pass, skipped and not assessed included: a check that never ran is not silence
        mine = sorted((c for c in report["checks"] if c["component"] == component and c["status"] != "pass"),
                      key=lambda c: (c["asset_key"], c["status"] != "fail", c["severity"], c["id"]))
        passed = sum(1 for c in report["checks"] if c["component"] == component and c["status"] == "pass")
        lines += [f"## {w.L(section)} — {w.L('checks')}", ""]
        if not mine and not passed:
            lines += [w.L("no_inputs"), ""]
            continue
        lines += [f"{w.L('pass')}{w.P['colon']}{passed}", "",
                  *w.table("asset", "check", "status", "severity", "criterion", "observed")]
        lines += [_check_row(c, w) for c in mine]
        lines.append("")
    return lines


def _processor(report: dict[str, Any], w: _Writer) -> list[str]:
    lines = [f"## {w.L('processor')}", "", *w.table("id", "requirement", "status", "basis", "note")]
    lines += [f"| {r['id']} | {cell(r['title'][w.lang])} | {w.L(r['status'])} | {basis_md(r['basis'], w.lang)} | "
              f"{cell(r['note'][w.lang])} |" for r in report["requirements"] if r["kind"] == "processor"]
    return lines + [""]


def _appendix(report: dict[str, Any], w: _Writer) -> list[str]:
    lines = [f"## {w.L('appendix')}", ""]
    lines += [f"- `{i['path']}`{w.P['lp']}{w.L(i['kind'])}{w.P['comma']}{asset_name(i['asset'], w.lang)}{w.P['rp']} "
              f"sha256 `{i['sha256']}`" for i in report["inputs"]]
    return lines + [f"- vehicle-ds {report['tool']['version']} · {report['generated']}"]


MARKDOWN_SECTIONS: tuple[Callable[[dict[str, Any], _Writer], list[str]], ...] = (
    _head, _deadlines, _top_risks, _matrix, _datasets, _monitoring, _inventory, _uplink, _checks, _processor,
    _appendix,
)


def to_markdown(report: dict[str, Any], lang: str) -> str:
    """The report as Markdown in ``lang``."""
    w = _Writer(lang)
    return "\n".join(line for section in MARKDOWN_SECTIONS for line in section(report, w)) + "\n"
