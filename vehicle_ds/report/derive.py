"""Checks the report derives from catalogs (the catalog is a ledger, not a results document)."""

from __future__ import annotations

from typing import Any

from ..results import check


def _ref(e: dict[str, Any]) -> str:
    return f"{e['message']}.{e['signal']}"


def catalog_checks(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    entries = catalog["entries"]
    out = []
    unclassified = [_ref(e) for e in entries if e["category"] == "unclassified"]
    out.append(check("catalog.ledger", "Every signal in the vehicle's databases is classified and graded",
                     "needs_review" if unclassified else "pass", "medium", ["GBT44464-4.1", "MIIT-DSM"],
                     {"unclassified": unclassified[:50]}, {"signals": len(entries), "unclassified": len(unclassified)}))
    low = [_ref(e) for e in entries if e["needs_review"] and e["category"] != "unclassified"]
    out.append(check("catalog.review", "Classifications are confident (low-confidence ones need a person)",
                     "needs_review" if low else "pass", "low", ["GBT44464-4.1"], {"signals": low[:50]},
                     {"low_confidence": len(low)}))
    important = [_ref(e) for e in entries if e["grade"] in ("important", "core")]
    out.append(check("catalog.important_data", "Important data identified (to be confirmed and filed)",
                     "needs_review" if important else "pass", "high" if important else "info",
                     ["CN-ADR-3", "MIIT-DSM"], {"signals": important[:50],
                                               "combinations": [c["id"] for c in catalog["combinations"]]},
                     {"important_signals": len(important)}))
    leaking = [_ref(e) for e in entries if e["grade"] in ("important", "core") and e["handling"] != "drop"]
    out.append(check("catalog.important_handling", "Important data is kept in the vehicle by the policy",
                     "fail" if leaking else "pass", "critical" if leaking else "info", ["GBT44464-6.1"],
                     {"signals": leaking[:50]}))
    sens = [_ref(e) for e in entries if e["category"] in ("cabin", "biometric") and e["handling"] != "drop"]
    out.append(check("catalog.sensitive_handling", "Cabin and biometric data stay in the vehicle by the policy",
                     "fail" if sens else "pass", "critical" if sens else "info",
                     ["CN-ADR-9", "GBT44464-5.1"], {"signals": sens[:50]}))
    loc = [_ref(e) for e in entries if e["rule"] in ("location.latitude", "location.longitude") and e["handling"] == "keep"]
    out.append(check("catalog.location_handling", "Positions are coarsened or kept in the vehicle by the policy",
                     "fail" if loc else "pass", "high" if loc else "info", ["GBT44464-5.3", "CN-ADR-6"],
                     {"signals": loc[:50]}))
    ids = [_ref(e) for e in entries if e["category"] == "identifier" and e["handling"] == "keep"]
    out.append(check("catalog.identifier_handling", "Identifiers are pseudonymised or kept in the vehicle by the policy",
                     "fail" if ids else "pass", "high" if ids else "info", ["GBT44464-A", "EDPB-ANON"],
                     {"signals": ids[:50]}))
    return out
