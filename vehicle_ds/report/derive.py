"""Checks the report derives from catalogs (the catalog is a ledger, not a results document).

Each judges the policy's decisions for the catalogued signals; the criterion names the clause, and a
catalog without signals is ``not_assessed``. The handling checks ask what leaves the vehicle: they run on a
vehicle's catalog only, never on a platform's stores (a platform's face-image column is not a vehicle
letting cabin data out)."""

from __future__ import annotations

from typing import Any

from ..results import Criterion, check


def _ref(e: dict[str, Any]) -> str:
    return f"{e['message']}.{e['signal']}"


def _crit(text: str, ref: str) -> Criterion:
    return Criterion(text, "clause", ref, {"signals": 1})


def catalog_checks(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    out = _ledger_checks(catalog)
    if catalog.get("asset", {}).get("kind", "vehicle") == "vehicle":
        out.extend(_handling_checks(catalog["entries"]))
    return out


def _ledger_checks(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    """Every kind of catalogue: classified, confidently, with its important data identified."""
    entries = catalog["entries"]
    seen = {"signals": len(entries)}
    out = []
    unclassified = [_ref(e) for e in entries if e["category"] == "unclassified"]
    out.append(check("catalog.ledger", "Every signal in the vehicle's databases is classified and graded",
                     "needs_review" if unclassified else "pass", "medium", ["GBT44464-4.1", "MIIT-DSM"],
                     evidence={"unclassified": unclassified[:50]},
                     metrics={"signals": len(entries), "unclassified": len(unclassified)},
                     criterion=_crit("every signal has a category, PI class, grade and handling from a rule",
                                     "GBT44464-4.1"), observed=seen))
    low = [_ref(e) for e in entries if e["needs_review"] and e["category"] != "unclassified"]
    out.append(check("catalog.review", "Classifications are confident (low-confidence ones need a person)",
                     "needs_review" if low else "pass", "low", ["GBT44464-4.1"], evidence={"signals": low[:50]},
                     metrics={"low_confidence": len(low)},
                     criterion=Criterion("no classification below the policy's review threshold",
                                         "engineering_default", "policy settings.review_threshold", {"signals": 1}),
                     observed=seen))
    important = [_ref(e) for e in entries if e["grade"] in ("important", "core")]
    out.append(check("catalog.important_data", "Important data identified (to be confirmed and filed)",
                     "needs_review" if important else "pass", "high", ["CN-ADR-3", "MIIT-DSM"],
                     evidence={"signals": important[:50], "combinations": [c["id"] for c in catalog["combinations"]]},
                     metrics={"important_signals": len(important)},
                     criterion=_crit("important data, where identified, is confirmed by a person and filed", "CN-ADR-3"),
                     observed=seen))
    return out


def _handling_checks(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A vehicle's policy keeps in the vehicle what must not leave it."""
    seen = {"signals": len(entries)}
    out = []
    leaking = [_ref(e) for e in entries if e["grade"] in ("important", "core") and e["handling"] != "drop"]
    out.append(check("catalog.important_handling", "Important data is kept in the vehicle by the policy",
                     "fail" if leaking else "pass", "critical", ["GBT44464-6.1"], evidence={"signals": leaking[:50]},
                     criterion=_crit("every important signal's handling is drop", "GBT44464-6.1"), observed=seen))
    sens = [_ref(e) for e in entries if e["category"] in ("cabin", "biometric") and e["handling"] != "drop"]
    out.append(check("catalog.sensitive_handling", "Cabin and biometric data stay in the vehicle by the policy",
                     "fail" if sens else "pass", "critical", ["CN-ADR-9", "GBT44464-5.1"], evidence={"signals": sens[:50]},
                     criterion=_crit("every cabin and biometric signal's handling is drop", "CN-ADR-9"), observed=seen))
    loc = [_ref(e) for e in entries if e["rule"] in ("location.latitude", "location.longitude") and e["handling"] == "keep"]
    out.append(check("catalog.location_handling", "Positions are coarsened or kept in the vehicle by the policy",
                     "fail" if loc else "pass", "high", ["CN-ADR-6"], evidence={"signals": loc[:50]},
                     criterion=_crit("no position signal leaves unchanged", "CN-ADR-6"), observed=seen))
    ids = [_ref(e) for e in entries if e["category"] == "identifier" and e["handling"] == "keep"]
    out.append(check("catalog.identifier_handling", "Identifiers are pseudonymised or kept in the vehicle by the policy",
                     "fail" if ids else "pass", "high", ["GBT44464-A", "EDPB-ANON"], evidence={"signals": ids[:50]},
                     criterion=_crit("no identifier leaves unchanged", "GBT44464-A"), observed=seen))
    return out
