"""Run-to-run comparison: what is new, fixed, still open or changed since a previous report, per requirement
and asset and per finding, and how much the important data changed — a change of its category or scale by
30 % or more is the re-filing trigger of the MIIT measures (filings.md §2.2: the 2022 draft [V], the final
text to be confirmed), to be filed within three months."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..vocabulary import FINDING, OPEN

REFILE_CHANGE = 0.30  # CN-MIIT-DSM draft Art. 12 [V]; the final text's figure is to be confirmed [U]


def _rows(rep: dict[str, Any]) -> dict[tuple[str, str], str]:
    out = {}
    for q in rep.get("requirements", []):
        for a in q.get("by_asset", []) or [{"key": "*", "status": q["status"]}]:
            out[(q["id"], a["key"])] = a["status"]
    return out


def _findings(rep: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    out = {}
    for c in rep.get("checks", []):
        if c["status"] in FINDING:
            where = str(c.get("endpoint") or c.get("evidence", {}).get("endpoint", "") if isinstance(
                c.get("evidence"), dict) else "")
            out[(c["id"], c.get("asset_key", ""), where)] = c
    return out


def _important(rep: dict[str, Any]) -> tuple[int, set[str]]:
    entries = {f"{e['message']}.{e['signal']}" for inv in rep.get("inventory", []) for e in inv.get("important", [])}
    cats = {e["category"] for inv in rep.get("inventory", []) for e in inv.get("important", [])}
    for d in rep.get("datasets", []):
        for g in d.get("summary", {}).get("datasets", []):
            if g.get("grade") == "important":
                entries.add(f"dataset:{g['id']}")
                cats.add(g.get("category", ""))
    return len(entries), cats


def load_baseline(path: Path) -> dict[str, Any]:
    """A previous report.json, or one clear line saying why it cannot be one."""
    try:
        previous = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable report.json: {exc}", path=str(path)) from None
    if not isinstance(previous, dict) or not str(previous.get("schema", "")).startswith("vehicle-ds/report@"):
        raise InputError("not a vehicle-ds report (use the report.json of a previous run)", path=str(path))
    return previous


def compare(current: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    now, before = _rows(current), _rows(baseline)
    reqs = []
    for key in sorted(set(now) | set(before)):
        a, b = now.get(key), before.get(key)
        if b is None:
            change = "new" if a in OPEN else "added"
        elif a is None:
            change = "removed"
        elif b in OPEN and a == "pass":
            change = "fixed"
        elif b == "pass" and a in OPEN:
            change = "regressed"
        elif a != b:
            change = "changed"
        else:
            change = "still_open" if a in OPEN else "unchanged"
        reqs.append({"requirement": key[0], "asset": key[1], "before": b, "after": a, "change": change})
    fn, fb = _findings(current), _findings(baseline)
    findings = {
        "new": [{"id": k[0], "asset": k[1], "where": k[2], "status": fn[k]["status"]} for k in sorted(set(fn) - set(fb))],
        "fixed": [{"id": k[0], "asset": k[1], "where": k[2], "was": fb[k]["status"]} for k in sorted(set(fb) - set(fn))],
        "still_open": [{"id": k[0], "asset": k[1], "where": k[2], "status": fn[k]["status"]}
                       for k in sorted(set(fn) & set(fb))],
    }
    n_now, cats_now = _important(current)
    n_before, cats_before = _important(baseline)
    scale = abs(n_now - n_before) / n_before if n_before else (1.0 if n_now else 0.0)
    refile = bool(cats_now != cats_before or scale >= REFILE_CHANGE)
    return {
        "baseline": {"generated": baseline.get("generated"), "status": baseline.get("status")},
        "requirements": reqs,
        "counts": {c: sum(r["change"] == c for r in reqs) for c in ("new", "fixed", "regressed", "still_open", "changed")},
        "findings": findings,
        "important_data": {"before": n_before, "after": n_now, "scale_change": round(scale, 3),
                           "categories_added": sorted(cats_now - cats_before),
                           "categories_removed": sorted(cats_before - cats_now),
                           "refile": refile,
                           "rule": "category or scale of important data changed by 30 % or more: update the filing "
                                   "within three months (CN-MIIT-DSM draft Art. 12 [V]; final text to be confirmed)"},
    }


def apply_baseline(rep: dict[str, Any], path: Path, org: dict[str, Any] | None, today: dt.date) -> None:
    """Add what changed since the report at ``path``; a re-filing trigger seen today dates its deadline."""
    from ..deadlines import deadlines

    rep["changes"] = compare(rep, load_baseline(path))
    if rep["changes"]["important_data"]["refile"]:
        rep["deadlines"] = [d.to_json() for d in deadlines(today, org, refile_since=today)]
