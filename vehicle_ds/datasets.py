"""The second level of grading: **datasets**, what the platform holds per category (fleet positions, vehicle
identifiers, cabin images, charging sessions, ...), graded with the fleet-level triggers. A signal's grade is
the grade of one vehicle's data and never changes with the fleet's size (regulations.md §9); a dataset's
grade is decided here, from facts the hub observed (distinct pseudonymous vehicles per category, regions,
volumes) or that the organisation declares in ``datasets.toml`` for data the hub does not see.

Each trigger names its basis and says whether its figure is in the reference; an unknown fact is never
read as zero: a dataset of personal information whose number of persons is unknown is ``needs_review:
fleet size unknown``. The export route follows filings.md §6 (Order 16): cumulative counts since 1 January,
sensitive PI counted apart, the exemptions a person claims.

``vehicle-ds datasets datasets.toml [--observed hub-datasets.json] --out datasets.results.json`` writes a
results document (component ``datasets``, asset: the platform) that the report takes like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .results import Asset, Criterion, check, finish, new_results

PERSONS_IMPORTANT = 100_000  # CN-ADR-3: personal information of more than 100,000 persons [V]
# Categories whose datasets the 100,000-person rule escalates (regulations.md §9: positions and identifiers
# "> 100k people"; cabin and biometric data are personal by nature). Technical data (condition, control,
# TPMS, DTCs) is PI when linkable, but the reference lists no person-count escalation for it.
PI_CATEGORIES = {"location", "identifier", "cabin", "biometric", "contact", "account", "personal"}


@dataclass
class Dataset:
    id: str
    category: str  # a taxonomy category (location, identifier, cabin, ...) or "charging"
    title: str = ""
    title_zh: str = ""  # the title in Chinese, for the zh report and the documents
    records: int | None = None
    vehicles: int | None = None
    persons: int | None = None  # distinct natural persons; None: unknown (never zero by default)
    sensitive: bool = False  # holds sensitive PI (trajectories, biometrics, cabin media)
    regions: list[str] = field(default_factory=list)
    sensitive_area_hits: int | None = None  # positions the platform holds inside user-provided sensitive areas
    with_positions: bool = False  # perception data stored with the positions it was taken at (surveying)
    charging_network_operation: bool = False  # operating data of a charging network the organisation runs
    exported: bool | None = None  # declared: does this dataset leave China? None: not declared (never assumed)
    shared_with: list[str] | None = None  # declared recipients of this dataset; None: not declared
    purpose: str = ""
    storage: str = ""
    retention_days: int | None = None
    source: str = "declared"  # declared | hub

    def missing(self) -> list[str]:
        return [k for k in ("purpose", "storage") if not getattr(self, k)] + \
            (["retention_days"] if self.retention_days is None else [])


@dataclass(frozen=True)
class Trigger:
    id: str
    text: str
    basis: str
    tag: str  # V | S | U, as regulations.md / filings.md give it


def triggers(d: Dataset, settings: dict[str, Any]) -> tuple[list[Trigger], list[str]]:
    """The important-data triggers ``d`` meets, and the facts it lacks to decide."""
    met: list[Trigger] = []
    unknown: list[str] = []
    personal = d.category in PI_CATEGORIES
    if personal:
        lower = d.persons if d.persons is not None else d.vehicles  # every vehicle has at least one person
        if lower is not None and lower > PERSONS_IMPORTANT:
            met.append(Trigger("persons_over_100k", f"personal information of more than 100,000 persons "
                               f"({lower:,}{'' if d.persons is not None else ' vehicles, so at least as many persons'})",
                               "CN-ADR-3", "V"))
        elif d.persons is None:
            unknown.append("fleet size unknown: the number of persons this dataset covers is not known"
                           + (f" (at least {d.vehicles:,}: one per vehicle)" if d.vehicles else ""))
    if d.category == "location":
        if d.sensitive_area_hits:
            met.append(Trigger("sensitive_area", f"{d.sensitive_area_hits:,} positions inside sensitive-area "
                               "polygons (user-provided) held by the platform", "CN-ADR-3", "V"))
        elif d.sensitive_area_hits is None:
            unknown.append("sensitive-area coverage not assessed (no geofence given)")
        flow = settings.get("vehicle_flow_vehicles")
        if flow and d.vehicles is not None and d.vehicles >= int(flow):
            met.append(Trigger("vehicle_flow", f"positions of {d.vehicles:,} vehicles reflect vehicle flow "
                               f"(threshold {int(flow):,}: engineering default, no figure in the reference)",
                               "CN-ADR-3", "U"))
    if d.category == "exterior_perception" and d.with_positions:
        met.append(Trigger("surveying", "perception data stored with the positions it was taken at is "
                           "surveying and mapping data", "CN-MNR-2022", "S"))
    if d.charging_network_operation:
        met.append(Trigger("charging_network", "operating data of a charging network", "CN-ADR-3", "V"))
    return met, unknown


# -- export route (filings.md §6, Order 16) -------------------------------------------------------------------

ASSESSMENT_PI, ASSESSMENT_SENSITIVE, CONTRACT_PI = 1_000_000, 10_000, 100_000


def export_route(facts: dict[str, Any], important_exported: bool) -> dict[str, Any]:
    """The route for the year's exports: ``security_assessment``, ``standard_contract_or_certification``,
    ``exempt``, or ``undetermined`` with what is missing. Counts are persons since 1 January, PI excluding
    sensitive PI and sensitive PI apart; an exemption a person claims (Arts. 3-5, an FTZ list) is recorded."""
    cii, pi, sens = facts.get("cii"), facts.get("pi_persons_ytd"), facts.get("sensitive_persons_ytd")
    claimed = list(facts.get("exemptions", []))
    tripped: list[str] = []
    missing = [k for k, v in (("cii", cii), ("pi_persons_ytd", pi), ("sensitive_persons_ytd", sens)) if v is None]
    if not facts.get("exports", True):
        return {"route": "none", "tripped": [], "missing": [], "basis": "CN-CBDF", "note": "no data leaves China"}
    if cii:
        tripped.append("a CII operator exporting personal information or important data (Art. 7)")
    if important_exported:
        tripped.append("important data (notified or published as such) in the export (Arts. 2, 7)")
    if pi is not None and pi >= ASSESSMENT_PI:
        tripped.append(f"{pi:,} persons' PI since 1 January ≥ 1,000,000 (Art. 7)")
    if sens is not None and sens >= ASSESSMENT_SENSITIVE:
        tripped.append(f"{sens:,} persons' sensitive PI since 1 January ≥ 10,000 (Art. 7)")
    if tripped:
        return {"route": "security_assessment", "tripped": tripped, "missing": [], "basis": "CN-CBDF Art. 7",
                "claimed_exemptions": claimed}
    if missing:
        return {"route": "undetermined", "tripped": [], "missing": missing, "basis": "CN-CBDF",
                "claimed_exemptions": claimed}
    margin = {"pi_to_assessment": ASSESSMENT_PI - pi, "sensitive_to_assessment": ASSESSMENT_SENSITIVE - sens}
    if claimed:
        return {"route": "exempt", "tripped": [], "missing": [], "basis": "CN-CBDF Arts. 3-6",
                "claimed_exemptions": claimed, "margin": margin, "note": "exemption claimed: a person confirms it"}
    if pi >= CONTRACT_PI or sens > 0:  # no lower floor for sensitive PI: one person counts
        why = [f"{pi:,} persons' PI since 1 January ≥ 100,000"] if pi >= CONTRACT_PI else []
        why += [f"{sens:,} persons' sensitive PI (no lower floor)"] if sens > 0 else []
        return {"route": "standard_contract_or_certification", "tripped": why, "missing": [], "basis": "CN-CBDF Art. 8",
                "margin": margin}
    return {"route": "exempt", "tripped": [], "missing": [], "basis": "CN-CBDF Art. 5(4)", "margin": margin,
            "note": "fewer than 100,000 persons' PI and no sensitive PI since 1 January"}


ARRANGEMENTS = {"security_assessment": {"security_assessment"},
                "standard_contract_or_certification": {"standard_contract", "certification", "security_assessment"},
                "exempt": {"none", "standard_contract", "certification", "security_assessment"},
                "none": {"none"}}


# -- reading and assessing ------------------------------------------------------------------------------------

def load_datasets(path: Path, observed: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[Dataset]]:
    """``datasets.toml`` (``[organisation]``, ``[settings]``, ``[[dataset]]``, ``[export]``), merged with the
    hub's observations: a declared dataset with ``observe = "<category>"`` takes the hub's counts for that
    category where it declares none."""
    from .tomlfile import read_toml

    raw = read_toml(path, "datasets")
    seen = {o["category"]: o for o in (observed or {}).get("categories", [])}
    out = []
    for n, d in enumerate(raw.get("dataset", []), 1):
        if not d.get("id") or not d.get("category"):
            raise InputError(f"dataset {n} needs an id and a category", path=str(path))
        obs = seen.get(str(d.get("observe", "")), {})
        fields = {k: d[k] for k in Dataset.__dataclass_fields__ if k in d}
        for k in ("records", "vehicles", "regions", "sensitive_area_hits"):
            if k not in fields and k in obs:
                fields[k] = obs[k]
        if obs:
            fields["source"] = "hub" if not any(k in d for k in ("records", "vehicles")) else "declared+hub"
        try:
            out.append(Dataset(**fields))
        except TypeError as exc:
            raise InputError(f"dataset {d['id']}: {exc}", path=str(path)) from None
    return raw, out


def assess(raw: dict[str, Any], datasets: list[Dataset]) -> dict[str, Any]:
    org = raw.get("organisation", {})
    settings = raw.get("settings", {})
    doc = new_results("datasets", {"organisation": org.get("name", ""), "datasets": len(datasets)}, settings,
                      asset=Asset("platform", str(org.get("platform", org.get("name", "platform"))),
                                  str(org.get("version", ""))))
    checks, graded = [], []
    for d in datasets:
        met, unknown = triggers(d, settings)
        grade = "important" if met else "general"
        graded.append({"id": d.id, "category": d.category, "title": d.title, "title_zh": d.title_zh, "grade": grade,
                       "source": d.source,
                       "triggers": [t.__dict__ for t in met], "unknown": unknown,
                       "facts": {k: getattr(d, k) for k in ("records", "vehicles", "persons", "regions",
                                                            "sensitive_area_hits", "purpose", "storage",
                                                            "retention_days", "exported", "shared_with")}})
        status = "needs_review" if met or unknown else "pass"
        reason = "; ".join(unknown) if unknown and not met else ""
        checks.append(check(f"datasets.grade.{d.id}", f"Dataset {d.title or d.id} is graded at the fleet level",
                            status, "high" if met else "medium", sorted({t.basis for t in met} | {"CN-ADR-3"}),
                            evidence={"grade": grade, "triggers": [t.__dict__ for t in met], "unknown": unknown,
                             "source": d.source}, reason=reason,
                            criterion=Criterion("the fleet-level important-data triggers (more than 100,000 persons, "
                                                "sensitive areas, vehicle flow, surveying, charging network) are "
                                                "each decided from known facts; an important dataset is confirmed "
                                                "and filed by a person", "clause", "CN-ADR-3",
                                                minimum={"datasets": 1}),
                            observed={"datasets": 1}))
        gaps = d.missing()
        checks.append(check(f"datasets.inventory.{d.id}", f"Dataset {d.title or d.id} states purpose, storage "
                            "and retention", "needs_review" if gaps else "pass", "low", ["GBT44464-4.1", "MIIT-DSM"],
                            evidence={"missing": gaps}, criterion=Criterion("purpose, storage location and retention declared",
                                                                   "clause", "GBT44464-4.1", minimum={"datasets": 1}),
                            observed={"datasets": 1}))
    export = raw.get("export")
    if export is not None and export.get("exports") is False:
        for g in graded:
            if g["facts"]["exported"] is None:
                g["facts"]["exported"] = False
    important = any(g["grade"] == "important" for g in graded)
    if export is None:
        route = {"route": "undetermined", "missing": ["[export] in datasets.toml"], "tripped": []}
        status, reason = "needs_review", "exports not declared"
    else:
        route = export_route(export, important and bool(export.get("important_data_exported", False)))
        arrangement = str(export.get("arrangement", "none"))
        if route["route"] == "undetermined":
            status, reason = "needs_review", "missing: " + ", ".join(route["missing"])
        elif arrangement in ARRANGEMENTS[route["route"]]:
            status, reason = "pass", ""
        else:
            status, reason = "fail", f"the route is {route['route']}; the declared arrangement is {arrangement}"
        route["arrangement"] = arrangement
    checks.append(check("datasets.export_route", "Exports follow the route the counts require", status, "high",
                        ["CN-CBDF", "PIPL-38"], evidence={"route": route}, reason=reason,
                        criterion=Criterion("the declared export arrangement meets the route Order 16 requires for "
                                            "this year's cumulative counts", "clause", "CN-CBDF",
                                            minimum={"export_declared": 1}),
                        observed={"export_declared": int(export is not None)}))
    doc["checks"] = checks
    return finish(doc, {"datasets": graded, "export_route": route,
                        "important_datasets": [g["id"] for g in graded if g["grade"] == "important"]})
