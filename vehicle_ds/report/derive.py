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
    """A vehicle's catalog: the ledger and the handling checks (``catalog.*``). A platform's stores: the
    ledger and the storage checks, under their own ids (``store.*``) and the platform's requirements."""
    if catalog.get("asset", {}).get("kind", "vehicle") == "vehicle":
        return _ledger_checks(catalog, "catalog", "signal in the vehicle's databases") + \
            _handling_checks(catalog["entries"])
    return _ledger_checks(catalog, "store", "column in the platform's stores") + _store_checks(catalog["entries"])


def _ledger_checks(catalog: dict[str, Any], prefix: str, item: str) -> list[dict[str, Any]]:
    """Every kind of catalogue: classified, confidently, with its important data identified."""
    entries = catalog["entries"]
    seen = {"signals": len(entries)}
    out = []
    unclassified = [_ref(e) for e in entries if e["category"] == "unclassified"]
    out.append(check(f"{prefix}.ledger", f"Every {item} is classified and graded",
                     "needs_review" if unclassified else "pass", "medium", ["GBT44464-4.1", "MIIT-DSM"],
                     evidence={"unclassified": unclassified[:50]},
                     metrics={"signals": len(entries), "unclassified": len(unclassified)},
                     criterion=_crit("every signal has a category, PI class, grade and handling from a rule",
                                     "GBT44464-4.1"), observed=seen))
    low = [_ref(e) for e in entries if e["needs_review"] and e["category"] != "unclassified"]
    out.append(check(f"{prefix}.review", "Classifications are confident (low-confidence ones need a person)",
                     "needs_review" if low else "pass", "low", ["GBT44464-4.1"], evidence={"signals": low[:50]},
                     metrics={"low_confidence": len(low)},
                     criterion=Criterion("no classification below the policy's review threshold",
                                         "engineering_default", "policy settings.review_threshold", {"signals": 1}),
                     observed=seen))
    important = [_ref(e) for e in entries if e["grade"] in ("important", "core")]
    out.append(check(f"{prefix}.important_data", "Important data identified (to be confirmed and filed)",
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


def _store_checks(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A platform's stores: sensitive personal information is not readable at rest, and holding it is
    assessed for its impact. Judged from the sampled values (``at_rest``), never from a column's name."""
    sampled = [e for e in entries if e.get("at_rest", "unknown") != "unknown"]
    seen = {"columns_sampled": len(sampled)}
    sensitive = [e for e in sampled if e["pi"] == "sensitive"]
    # a classification a person must still confirm never makes a finding on its own: it is listed for review
    readable = [e["source"] for e in sensitive if e["at_rest"] == "readable" and not e["needs_review"]]
    unsure = [e["source"] for e in sensitive if e["at_rest"] == "readable" and e["needs_review"]]
    out = [check("store.sensitive_at_rest", "Sensitive personal information is not stored readable",
                 "fail" if readable else "needs_review" if unsure else "pass", "high", ["PIPL-51", "GBT44464-5.4"],
                 evidence={"readable": readable[:50], "readable_if_confirmed": unsure[:50],
                           "opaque": [e["source"] for e in sensitive if e["at_rest"] == "opaque"][:50]},
                 metrics={"sensitive_columns": len(sensitive), "readable": len(readable),
                          "readable_if_confirmed": len(unsure)},
                 reason=f"{len(unsure)} column(s) read as sensitive PI only with a person's confirmation"
                 if unsure and not readable else "",
                 criterion=Criterion("no sampled value of a confidently classified sensitive-PI column validates as "
                                     "that data, opens as a media file or reads as plain text (opaque tokens: "
                                     "ciphertext or hashes)", "clause", "PIPL-51", {"columns_sampled": 1}),
                 observed=seen)]
    out.append(check("store.pi_impact", "Stores holding sensitive personal information have an impact assessment",
                     "needs_review" if sensitive else "pass", "medium", ["PIPL-55"],
                     evidence={"sensitive": [e["source"] for e in sensitive][:50]},
                     metrics={"sensitive_columns": len(sensitive)},
                     reason=f"{len(sensitive)} column(s) hold sensitive PI: a PIA before processing (PIPL Art. 55)"
                     if sensitive else "",
                     criterion=Criterion("sensitive personal information is processed only after a PI protection "
                                         "impact assessment, which a person confirms", "clause", "PIPL-55",
                                         {"columns_sampled": 1}),
                     observed=seen))
    return out
