"""Assemble the report model (schema ``vehicle-ds/report@1``, documented in README.md)."""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from importlib import resources
from typing import Any

from .. import __version__
from ..catalog import summarize
from ..deadlines import deadlines
from ..results import now_iso
from ..taxonomy import TAXONOMY
from ..vocabulary import FINDING, REQUIREMENT_STATUSES, SEVERITY_RANK
from ..zh import cite, zh_fields
from .derive import catalog_checks
from .inputs import Input
from .verdicts import EVIDENCE_KINDS, SECTION_ASSET, Attestation, asset_verdict, matches, worst

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPORT_SCHEMA = "vehicle-ds/report@1"
REQ_STATUSES = REQUIREMENT_STATUSES
# report section -> the component whose results fill it: one list for the JSON, the Markdown and the HTML
SECTIONS: tuple[tuple[str, str], ...] = (("inventory", "catalog"), ("uplink", "edge"), ("interfaces", "probes"),
                                         ("models", "models"), ("datasets", "datasets"))


def load_requirements() -> list[dict[str, Any]]:
    text = resources.files("vehicle_ds").joinpath("data/requirements.toml").read_text("utf-8")
    reqs = tomllib.loads(text)["requirement"]
    for r in reqs:  # packaging errors, caught by the tests
        for b in r["basis"]:
            if b not in TAXONOMY.basis:
                raise ValueError(f"{r['id']}: unknown basis {b}")
        if r.get("kind", "check") == "check" and (not r.get("needs") or set(r["needs"]) - set(EVIDENCE_KINDS)):
            raise ValueError(f"{r['id']}: 'needs' must list evidence kinds among {EVIDENCE_KINDS}")
    return reqs


def _basis(ids: list[str]) -> list[dict[str, str]]:
    return [{"id": b, "status": TAXONOMY.basis[b].status, "zh": TAXONOMY.basis[b].zh, "en": TAXONOMY.basis[b].en}
            for b in ids]


def _next_dec15(today: dt.date) -> str:
    due = dt.date(today.year, 12, 15)
    return (due if today <= due else dt.date(today.year + 1, 12, 15)).isoformat()


def _export_note(datasets: list[dict[str, Any]]) -> dict[str, str]:
    """The export route decided by `vehicle-ds datasets` (filings.md §6), not guessed from signal grades: only
    important data, or personal information above the thresholds, needs the security assessment."""
    routes = [d.get("summary", {}).get("export_route", {}) for d in datasets]
    decided = [r for r in routes if r.get("route") not in (None, "undetermined")]
    if not decided:
        return {"zh": "出境路径未判定：须在 datasets.toml 中申报出境情况（是否关键信息基础设施运营者、自1月1日起累计出境"
                      "个人信息人数与敏感个人信息人数），由 vehicle-ds datasets 依《促进和规范数据跨境流动规定》判定",
                "en": "export route not decided: declare exports in datasets.toml (CII operator or not; persons whose PI "
                      "and sensitive PI left since 1 January, counted apart); vehicle-ds datasets decides the route "
                      "(Order 16: assessment, standard contract or certification, or exempt)"}
    r = decided[0]
    why = "; ".join(r.get("tripped", [])) or r.get("note", "")
    names = {"security_assessment": ("安全评估", "security assessment"),
             "standard_contract_or_certification": ("标准合同或认证", "standard contract or certification"),
             "exempt": ("豁免", "exempt"), "none": ("无出境", "no export")}
    zh, en = names.get(r["route"], (r["route"], r["route"]))
    return {"zh": f"出境路径：{zh}（依据{cite(r.get('basis', '').split(' ')[0])}）",
            "en": f"export route: {en} ({r.get('basis', '')}) — {why}"}


def _processor_notes(req_id: str, catalogs: list[dict[str, Any]], today: dt.date,
                     datasets: list[dict[str, Any]] | None = None) -> dict[str, str]:
    important = sum(1 for c in catalogs for e in c["entries"] if e["grade"] in ("important", "core"))
    due = _next_dec15(today)
    if req_id == "PROC-FILING":
        if important:
            return {"zh": f"输入中识别出 {important} 个重要数据信号：适用目录备案",
                    "en": f"{important} important-data signal(s) identified in the inputs: the catalogue filing applies"}
        return {"zh": "输入中未识别出重要数据；须就整个组织确认",
                "en": "no important data identified in the inputs; confirm for the whole organisation"}
    if req_id == "PROC-ANNUAL-REPORT":
        return {"zh": f"下次截止日期为{due}（重要数据处理者）", "en": f"next due {due} (processors of important data)"}
    if req_id == "PROC-EXPORT":
        return _export_note(datasets)
    if req_id == "PROC-RISK-ASSESSMENT":
        return {"zh": "每年至少一次；本报告中的车端、接口与模型结果可作为支撑材料",
                "en": "at least once a year; the edge, probe and model results in this report are supporting evidence"}
    return {"zh": "", "en": ""}


def _group(checks: list[dict[str, Any]], idx: list[int]) -> list[dict[str, Any]]:
    """Evidence folded per check id: counts by status, and the first non-passing instance to link to."""
    grouped: dict[str, dict[str, Any]] = {}
    for i in idx:
        c = checks[i]
        g = grouped.setdefault(c["id"], {"id": c["id"], "counts": {}, "first": i})
        g["counts"][c["status"]] = g["counts"].get(c["status"], 0) + 1
        if c["status"] != "pass" and checks[g["first"]]["status"] == "pass":
            g["first"] = i
    return list(grouped.values())


def _tagged_checks(inputs: list[Input]) -> list[dict[str, Any]]:
    """Every check, tagged with the input, component and asset it came from."""
    from ..evidence import default_masker

    masker = default_masker()
    checks: list[dict[str, Any]] = []
    for idx, inp in enumerate(inputs):
        source = catalog_checks(inp.doc) if inp.kind == "catalog" else inp.doc.get("checks", [])
        for c in source:
            if inp.kind == "probes":  # third-party content: masked again, whatever tool version wrote it
                c = {**c, "evidence": masker.json(c.get("evidence", {}))}
            checks.append({**c, "component": inp.kind, "input": idx, "asset": inp.asset, "asset_key": inp.asset_key,
                           "index": len(checks), "zh": zh_fields(c)})
    return checks


def _assets(inputs: list[Input]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for inp in inputs:
        out.setdefault(inp.asset_key, inp.asset)
    return out


class CheckIndex:
    """Checks by asset and by check id, so a requirement visits only its own assets' matching checks
    (a fleet report at 10,000 vehicles would otherwise compare every requirement with every check)."""

    def __init__(self, checks: list[dict[str, Any]]) -> None:
        self.by_asset: dict[str, dict[str, list[int]]] = {}
        for i, c in enumerate(checks):
            self.by_asset.setdefault(c["asset_key"], {}).setdefault(c["id"], []).append(i)
        self._ids = {cid for ids in self.by_asset.values() for cid in ids}
        self._match: dict[tuple[str, ...], frozenset[str]] = {}

    def matching(self, key: str, patterns: list[str]) -> list[int]:
        pats = tuple(patterns)
        ok = self._match.get(pats)
        if ok is None:
            ok = self._match[pats] = frozenset(cid for cid in self._ids if matches(cid, pats))
        return sorted(i for cid, idx in self.by_asset.get(key, {}).items() if cid in ok for i in idx)


def _requirement(r: dict[str, Any], checks: list[dict[str, Any]], assets: dict[str, dict[str, str]],
                 attestations: list[Attestation], catalogs: list[dict[str, Any]], today: dt.date,
                 index: CheckIndex | None = None, datasets: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    kind = r.get("kind", "check")
    basis = _basis(r["basis"])
    base = {"id": r["id"], "section": r["section"], "kind": kind, "title": {"zh": r["zh"], "en": r["en"]},
            "remediation": {"zh": r.get("remediation_zh", ""), "en": r.get("remediation_en", "")},
            "basis": basis, "unverified_basis": [b["id"] for b in basis if b["status"] != "verified"],
            "needs": r.get("needs", []), "evidence_patterns": r.get("evidence", [])}
    if kind == "processor":
        return {**base, "status": "needs_review", "reason": "an organisation-level duty: a person confirms it",
                "by_asset": [], "evidence": [], "evidence_by_check": [],
                "note": _processor_notes(r["id"], catalogs, today, datasets)}
    asset_kind = SECTION_ASSET[r["section"]]
    memo: dict[tuple, dict[str, Any]] | None = {}
    by_asset = []
    for key, asset in assets.items():
        if asset["kind"] != asset_kind:
            continue
        idx = (index or CheckIndex(checks)).matching(key, r.get("evidence", []))
        attested = [a for a in attestations if a.covers(r["id"], key)]
        # a fleet repeats the same outcomes: the verdict depends only on the checks' ids, statuses, components
        sig = (tuple((checks[i]["id"], checks[i]["status"], checks[i]["component"]) for i in idx), bool(attested))
        verdict = memo.get(sig) if memo is not None else None
        if verdict is None:
            verdict = asset_verdict(r, [checks[i] for i in idx], attested)
            if memo is not None:
                memo[sig] = verdict
        by_asset.append({"asset": asset, "key": key, **verdict, "evidence": idx, "evidence_by_check": _group(checks, idx),
                         "attestations": [a.__dict__ for a in attested]})
    evidence = sorted(i for a in by_asset for i in a["evidence"])
    status = worst([a["status"] for a in by_asset]) if by_asset else "not_assessed"
    reason = "" if by_asset else f"no {asset_kind} among the inputs"
    return {**base, "status": status, "reason": reason, "by_asset": by_asset, "evidence": evidence,
            "evidence_by_check": _group(checks, evidence), "note": {"zh": "", "en": ""}}


def _action(check_index: int, requirements: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What to do about a top risk: the remediation of the first failing requirement it is evidence of."""
    for r in requirements:
        if check_index in r["evidence"] and r["status"] in ("fail", "needs_review") and r["remediation"].get("en"):
            return {"requirement": r["id"], "remediation": r["remediation"]}
    return None


def _incomplete(inputs: list[Input]) -> list[dict[str, Any]]:
    """Inputs whose run a budget or an interruption cut short: said at the top of the report, with what was
    cut, because their missing verdicts were never earned."""
    out = []
    for n, inp in enumerate(inputs):
        s = inp.doc.get("summary") or {}
        if s.get("complete") is False or s.get("interrupted"):
            out.append({"input": n, "component": inp.kind, "asset": inp.asset, "cut": list(s.get("cut") or [])})
    return out


def _inventory(inputs: list[Input]) -> list[dict[str, Any]]:
    """Per catalog input: its signals counted by category and grade, and by category and PI class."""
    inventory = []
    for n, inp in enumerate(inputs):
        if inp.kind != "catalog":
            continue
        doc = inp.doc
        grade_by_cat: dict[str, Counter] = {}
        pi_by_cat: dict[str, Counter] = {}
        for e in doc["entries"]:
            grade_by_cat.setdefault(e["category"], Counter())[e["grade"]] += 1
            pi_by_cat.setdefault(e["category"], Counter())[e["pi"]] += 1
        inventory.append({
            "input": n, "asset": inp.asset, "policy": doc["policy"], "sources": doc["sources"],
            "counts": summarize(doc), "grade_by_category": {k: dict(v) for k, v in grade_by_cat.items()},
            "pi_by_category": {k: dict(v) for k, v in pi_by_cat.items()},
            "combinations": doc["combinations"],
            "important": [e for e in doc["entries"] if e["grade"] in ("important", "core")],
            "entries": doc["entries"],
        })
    return inventory


def _top_risks(checks: list[dict[str, Any]]) -> tuple[list[int], dict[str, int]]:
    """The ten most severe failures, one per check id (instances of one check on several endpoints or
    assets are variants of one risk; a variant folded into another finding is not a top risk), and how many
    variants each has."""
    causes: dict[str, list[int]] = {}
    for i in sorted((i for i, c in enumerate(checks) if c["status"] in ("fail", "error") and "folded_into" not in c),
                    key=lambda i: (SEVERITY_RANK[checks[i]["severity"]], checks[i]["id"], i)):
        causes.setdefault(checks[i]["id"], []).append(i)
    top = [idx[0] for idx in causes.values()][:10]
    return top, {str(idx[0]): len(idx) for idx in causes.values() if len(idx) > 1}


def build_report(inputs: list[Input], today: dt.date | None = None,
                 attestations: list[Attestation] | None = None, org: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report model. ``org`` is the organisation profile (org.toml), for the deadlines it dates."""
    today = today or dt.date.today()
    catalogs = [i.doc for i in inputs if i.kind == "catalog"]
    checks = _tagged_checks(inputs)
    assets = _assets(inputs)
    index = CheckIndex(checks)
    datasets = [i.doc for i in inputs if i.kind == "datasets"]
    requirements = [_requirement(r, checks, assets, attestations or [], catalogs, today, index, datasets)
                    for r in load_requirements()]
    covered = {i for r in requirements for i in r["evidence"]}
    req_counts = Counter(r["status"] for r in requirements)
    findings = [c for c in checks if c["status"] in FINDING]
    sev = Counter(c["severity"] for c in checks if c["status"] == "fail")
    open_by_sev: dict[str, dict[str, int]] = {s: {} for s in SEVERITY_RANK}
    for c in findings:
        open_by_sev[c["severity"]][c["status"]] = open_by_sev[c["severity"]].get(c["status"], 0) + 1
    top, variants = _top_risks(checks)
    actions = {str(i): _action(i, requirements) for i in top}
    overall = "fail" if req_counts["fail"] else "needs_review" if (req_counts["needs_review"] or
                                                                   req_counts["not_assessed"]) else "pass"
    return {
        "schema": REPORT_SCHEMA, "generated": now_iso(), "tool": {"name": "vehicle-ds", "version": __version__},
        "status": overall,
        "summary": {"requirements": {s: req_counts.get(s, 0) for s in REQ_STATUSES},
                    "checks": dict(Counter(c["status"] for c in checks)),
                    "failed_by_severity": {s: sev.get(s, 0) for s in SEVERITY_RANK},
                    "findings_by_severity": open_by_sev,
                    "findings": len(findings), "top_risks": top, "top_risk_variants": variants,
                    "top_risk_actions": {k: v for k, v in actions.items() if v}},
        "requirements": requirements,
        "deadlines": [d.to_json() for d in deadlines(today, org)],
        "inventory": _inventory(inputs),
        "assets": list(assets.values()),
        **{section: [{"input": i, "subject": inp.doc.get("subject", {}), "summary": inp.doc.get("summary", {})}
                     for i, inp in enumerate(inputs) if inp.kind == component]
           for section, component in SECTIONS if section != "inventory"},
        "checks": checks,
        "incomplete": _incomplete(inputs),
        "unmapped_checks": [i for i in range(len(checks)) if i not in covered],
        "inputs": [i.describe() for i in inputs],
    }
