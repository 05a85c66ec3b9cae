"""The data catalog: every signal of a vehicle's databases, classified, plus the combinations.

The catalog document (schema ``vehicle-ds/catalog@1``) is defined in DESIGN.md. It is the data-asset
ledger of GB/T 44464-2024 §4.1.4 and the input from which the important-data catalogue is filed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .classifier import Classification, Classifier
from .dbc import LoadedDatabase, fields_of, load_database
from .policy import Combination, Policy, load_policy
from .results import Asset
from .vocabulary import higher_grade, higher_pi, stricter_handling

CATALOG_SCHEMA = "vehicle-ds/catalog@1"


def _entry(msg: Any, sig: Any, c: Classification) -> dict[str, Any]:
    return {"message": msg.name, "frame_id": msg.frame_id, "signal": sig.name, "unit": sig.unit or "",
            **c.as_dict()}


def classify_database(loaded: LoadedDatabase, classifier: Classifier) -> list[tuple[dict[str, Any], Classification]]:
    out = []
    for msg in loaded.db.messages:
        for sig, fld in fields_of(msg):
            c = classifier.classify(fld)
            out.append((_entry(msg, sig, c), c))
    return out


def apply_combinations(
    items: list[tuple[dict[str, Any], Classification]], policy: Policy, location_leaves: bool = True,
) -> tuple[list[tuple[dict[str, Any], Classification]], list[dict[str, Any]]]:
    """Raise entries that together are more than their parts; returns the entries and what fired.

    A combination in scope ``uplink`` looks at everything that leaves the vehicle in any form (kept,
    coarsened, pseudonymised, aggregated): a coarsened position with object lists is still surveying data,
    unless the combination names a precision threshold (``exempt_at_most_decimals``, with its basis) and the
    policy's coarsest position precision meets it. An agent that knows no location purpose was consented
    (``location_leaves=False``) knows its coarsened positions are dropped instead, so they do not count.
    """
    fired: list[dict[str, Any]] = []
    timestamped = bool(policy.settings.get("timestamped_capture", True))
    decimals = [p.location_decimals for p in policy.purposes.values() if p.location_decimals is not None]
    finest = max(decimals) if decimals else None  # the most precise position any purpose lets out
    for combo in policy.combinations:
        considered = [(e, c) for e, c in items if combo.scope == "vehicle" or (
            c.handling != "drop" and (location_leaves or c.handling != "coarsen"))]
        roles = {c.role for _, c in considered} | ({"time"} if timestamped else set())
        categories = {c.category for _, c in considered}
        coarse_only = all(c.handling != "keep" for _, c in considered if c.role in ("latitude", "longitude"))
        if (combo.exempt_at_most_decimals is not None and coarse_only and finest is not None
                and finest <= combo.exempt_at_most_decimals):
            continue
        if not set(combo.all_roles) <= roles:
            continue
        if combo.any_roles and roles.isdisjoint(combo.any_roles):
            continue
        if combo.any_categories and categories.isdisjoint(combo.any_categories):
            continue
        targets = [i for i, (_, c) in enumerate(items) if _applies(combo, c)]
        if not targets:
            continue
        involved = [f"{e['message']}.{e['signal']}" for e, c in considered
                    if c.role in combo.all_roles or c.role in combo.any_roles
                    or c.category in combo.any_categories]
        for i in targets:
            e, c = items[i]
            c = _raise(c, combo)
            items[i] = ({**e, **c.as_dict()}, c)
        fired.append({
            "id": combo.id, "signals": involved or [f"{items[i][0]['message']}.{items[i][0]['signal']}"
                                                    for i in targets],
            "affects": [f"{items[i][0]['message']}.{items[i][0]['signal']}" for i in targets],
            "raises_to": ", ".join(f"{k}:{v}" for k, v in combo.raises.items()) or combo.flag,
            "basis": list(combo.basis), "zh": combo.zh, "en": combo.en,
            "threshold": {"exempt_at_most_decimals": combo.exempt_at_most_decimals,
                          "basis": combo.threshold_basis or "no precision threshold: fires whatever the precision"},
        })
    return items, fired


def _applies(combo: Combination, c: Classification) -> bool:
    return (c.role in combo.applies_to_roles or c.category in combo.applies_to_categories
            or c.pi in combo.applies_to_pi)


def _raise(c: Classification, combo: Combination) -> Classification:
    r = combo.raises
    return replace(
        c,
        pi=higher_pi(c.pi, r.get("pi", "none")),
        grade=higher_grade(c.grade, r.get("grade", "general")),
        handling=stricter_handling(c.handling, r["handling"]) if "handling" in r else c.handling,
        needs_review=c.needs_review or bool(r.get("review")),
        basis=tuple(dict.fromkeys((*c.basis, *combo.basis))),
        why=f"{c.why}; raised by combination '{combo.id}' ({combo.en})",
        why_zh=f"{c.why_zh}；因组合规则“{combo.zh}”而提升" if c.why_zh else "",
        flags=(*c.flags, combo.flag or combo.id),
    )


def vehicle_asset(paths: Sequence[str | Path], name: str | None = None, version: str = "") -> Asset:
    """The vehicle a set of databases describes: named by the user, else by the databases' file stems, so a
    catalog and an edge replay of the same DBC name the same asset."""
    return Asset("vehicle", name or "+".join(sorted(Path(p).stem for p in paths)) or "vehicle", version)


def build_catalog(paths: Sequence[str | Path], policy: Policy | None = None,
                  loaded: Iterable[LoadedDatabase] | None = None, asset: Asset | None = None) -> dict[str, Any]:
    """The catalog document for the databases at ``paths`` (all of one vehicle)."""
    policy = policy or load_policy()
    classifier = Classifier(policy)
    dbs = list(loaded) if loaded is not None else [load_database(p) for p in paths]
    items: list[tuple[dict[str, Any], Classification]] = []
    for db in dbs:
        items.extend(classify_database(db, classifier))
    items, combos = apply_combinations(items, policy)
    return {
        "schema": CATALOG_SCHEMA,
        "asset": (asset or vehicle_asset(paths or [db.path for db in dbs])).to_json(),
        "policy": policy.header(),
        "sources": [db.source_entry() for db in dbs],
        "entries": [e for e, _ in items],
        "combinations": combos,
    }


def summarize(catalog: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Counts by category, pi, grade and handling, and how many need review."""
    out: dict[str, dict[str, int]] = {"category": {}, "pi": {}, "grade": {}, "handling": {}}
    for e in catalog["entries"]:
        for k in out:
            out[k][e[k]] = out[k].get(e[k], 0) + 1
    out["needs_review"] = {"yes": sum(e["needs_review"] for e in catalog["entries"])}
    return out
