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
    faces_or_plates: bool | None = None  # exterior video/images holding faces or plates; None: not declared
    charging_network_operation: bool = False  # operating data of a charging network the organisation runs
    exported: bool | None = None  # declared: does this dataset leave China? None: not declared (never assumed)
    shared_with: list[str] | None = None  # declared recipients of this dataset; None: not declared
    purpose: str = ""
    storage: str = ""
    owner: str = ""  # the department or person responsible for this dataset (the filing's 责任部门／责任人)
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
    if d.category == "exterior_perception":
        if d.with_positions:
            met.append(Trigger("surveying", "perception data stored with the positions it was taken at is "
                               "surveying and mapping data", "CN-MNR-2022", "S"))
        if d.faces_or_plates:
            met.append(Trigger("exterior_faces_plates", "exterior video or images containing faces or licence "
                               "plates (Art. 3, important data item 4)", "CN-ADR-3", "V"))
        elif d.faces_or_plates is None:
            unknown.append("whether the exterior video or images contain faces or licence plates is not declared "
                           "(faces_or_plates)")
    if not personal and not met:
        many = d.persons if d.persons is not None else d.vehicles
        if many is not None and many > PERSONS_IMPORTANT:
            unknown.append(f"data on {many:,} {'persons' if d.persons is not None else 'vehicles'} in a category "
                           "the reference does not escalate by head count: a person decides whether it is personal "
                           "information of more than 100,000 persons (Art. 3, important data item 5)")
    if d.charging_network_operation:
        met.append(Trigger("charging_network", "operating data of a charging network", "CN-ADR-3", "V"))
    return met, unknown


MAX_PERSONS_PER_VEHICLE = 1_000  # engineering default: beyond it a persons figure is more likely a typo


def implausible(d: Dataset, settings: dict[str, Any]) -> list[str]:
    """Declarations that contradict each other: fewer persons than vehicles (each vehicle has a driver or an
    owner), or far more persons per vehicle than a fleet carries (``settings.max_persons_per_vehicle``)."""
    if d.persons is None or not d.vehicles:
        return []
    if d.persons < d.vehicles:
        return [f"fewer persons ({d.persons:,}) than vehicles ({d.vehicles:,}): every vehicle has an owner or driver"]
    cap = int(settings.get("max_persons_per_vehicle", MAX_PERSONS_PER_VEHICLE))
    if d.persons > cap * d.vehicles:
        return [f"{d.persons:,} persons declared for {d.vehicles:,} vehicle{'s' if d.vehicles != 1 else ''} "
                f"(more than {cap:,} per vehicle, an engineering default): confirm the persons figure"]
    return []


# -- export route (filings.md §6, Order 16) -------------------------------------------------------------------

ASSESSMENT_PI, ASSESSMENT_SENSITIVE, CONTRACT_PI = 1_000_000, 10_000, 100_000


def export_route(facts: dict[str, Any], important_exported: bool | None) -> dict[str, Any]:
    """The route for the year's exports: ``security_assessment``, ``standard_contract_or_certification``,
    ``exempt``, or ``undetermined`` with what is missing. Counts are persons since 1 January, PI excluding
    sensitive PI and sensitive PI apart. ``important_exported`` None: not declared, so undetermined.

    An exemption a person claims (Arts. 3-5, an FTZ list) covers personal information at every volume, so
    the PI thresholds it waives are listed, never silently applied below 1,000,000 and ignored above it; it
    never covers important data or a CII operator's export (Art. 7), which keep the assessment. Any export
    of PI carries the duties of PIPL Art. 39 (notice, separate consent) and Art. 55 (a PIA)."""
    cii, pi, sens = facts.get("cii"), facts.get("pi_persons_ytd"), facts.get("sensitive_persons_ytd")
    claimed = list(facts.get("exemptions", []))
    if not facts.get("exports", True):
        return {"route": "none", "tripped": [], "missing": [], "basis": "CN-CBDF", "note": "no data leaves China",
                "duties": []}
    duties = ["separate_consent", "pia"] if (pi or sens or claimed) else []
    missing = [k for k, v in (("cii", cii), ("pi_persons_ytd", pi), ("sensitive_persons_ytd", sens),
                              ("important_data_exported", important_exported)) if v is None]
    hard = (["a CII operator exporting personal information or important data (Art. 7)"] if cii else []) + \
        (["important data (notified or published as such) in the export (Arts. 2, 7)"] if important_exported else [])
    volume = ([f"{pi:,} persons' PI since 1 January ≥ 1,000,000 (Art. 7)"] if pi is not None and pi >= ASSESSMENT_PI
              else []) + ([f"{sens:,} persons' sensitive PI since 1 January ≥ 10,000 (Art. 7)"]
                          if sens is not None and sens >= ASSESSMENT_SENSITIVE else [])
    contract = ([f"{pi:,} persons' PI since 1 January ≥ 100,000"] if pi is not None and CONTRACT_PI <= pi < ASSESSMENT_PI
                else []) + ([f"{sens:,} persons' sensitive PI (no lower floor)"]
                            if sens is not None and 0 < sens < ASSESSMENT_SENSITIVE else [])
    base = {"claimed_exemptions": claimed, "duties": duties, "missing": []}
    if pi is not None and sens is not None:
        base["margin"] = {"pi_to_assessment": max(ASSESSMENT_PI - pi, 0),
                          "sensitive_to_assessment": max(ASSESSMENT_SENSITIVE - sens, 0)}
    if hard:
        return {**base, "route": "security_assessment", "tripped": hard + ([] if claimed else volume),
                "basis": "CN-CBDF Art. 7", "waived": volume if claimed else [],
                **({"note": "an exemption claimed for PI does not cover important data or a CII operator"}
                   if claimed else {})}
    if volume and not claimed:
        return {**base, "route": "security_assessment", "tripped": volume, "basis": "CN-CBDF Art. 7"}
    # a claim makes the PI counts moot, never the CII status or important data, which no claim covers
    undecided = [m for m in missing if not claimed or m in ("cii", "important_data_exported")]
    if undecided:
        return {**base, "route": "undetermined", "tripped": [], "missing": undecided, "basis": "CN-CBDF"}
    if claimed:
        return {**base, "route": "exempt", "tripped": [], "basis": "CN-CBDF Arts. 3-6", "waived": volume + contract,
                "note": "exemption claimed: a person confirms it"}
    if contract:
        return {**base, "route": "standard_contract_or_certification", "tripped": contract, "basis": "CN-CBDF Art. 8"}
    return {**base, "route": "exempt", "tripped": [], "basis": "CN-CBDF Art. 5(4)",
            "note": "fewer than 100,000 persons' PI and no sensitive PI since 1 January"}


def important_exported(graded: list[dict[str, Any]], export: dict[str, Any]) -> bool | None:
    """Whether important data leaves China: from the important datasets' own ``exported`` declarations, else
    from ``[export] important_data_exported``; None (asked, never assumed false) when neither says."""
    important = [g for g in graded if g["grade"] == "important"]
    if not important:
        return False
    said = [g["facts"]["exported"] for g in important]
    if any(said):
        return True
    if all(x is False for x in said):
        return False
    value = export.get("important_data_exported")
    return None if value is None else bool(value)


ARRANGEMENTS = {"security_assessment": {"security_assessment"},
                "standard_contract_or_certification": {"standard_contract", "certification", "security_assessment"},
                "exempt": {"none", "standard_contract", "certification", "security_assessment"},
                "none": {"none"}}


# -- reading and assessing ------------------------------------------------------------------------------------

FACTS = ("records", "vehicles", "persons", "regions", "sensitive_area_hits", "faces_or_plates", "purpose", "storage",
         "retention_days", "exported", "shared_with", "owner")


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
        warnings = implausible(d, settings)
        grade = "important" if met else "general"
        graded.append({"id": d.id, "category": d.category, "title": d.title, "title_zh": d.title_zh, "grade": grade,
                       "source": d.source, "triggers": [t.__dict__ for t in met], "unknown": unknown,
                       "warnings": warnings, "facts": {k: getattr(d, k) for k in FACTS}})
        status = "needs_review" if met or unknown or warnings else "pass"
        reason = "; ".join(warnings + ([] if met else unknown))
        checks.append(check(f"datasets.grade.{d.id}", f"Dataset {d.title or d.id} is graded at the fleet level",
                            status, "high" if met else "medium", sorted({t.basis for t in met} | {"CN-ADR-3"}),
                            evidence={"grade": grade, "triggers": [t.__dict__ for t in met], "unknown": unknown,
                                      "warnings": warnings, "source": d.source}, reason=reason,
                            criterion=Criterion("the fleet-level important-data triggers (more than 100,000 persons, "
                                                "sensitive areas, vehicle flow, exterior images with faces or plates, "
                                                "surveying, charging network) are each decided from known facts and "
                                                "consistent declarations; an important dataset is confirmed and filed "
                                                "by a person", "clause", "CN-ADR-3", minimum={"datasets": 1}),
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
    if export is None:
        route = {"route": "undetermined", "missing": ["[export] in datasets.toml"], "tripped": [], "duties": []}
        status, reason = "needs_review", "exports not declared"
    else:
        leaves = important_exported(graded, export)
        route = {**export_route(export, leaves), "important_data_exported": leaves}
        arrangement = str(export.get("arrangement", "none"))
        if route["route"] == "undetermined":
            status, reason = "needs_review", "; ".join(f"missing: {m}" for m in route["missing"])
        elif arrangement in ARRANGEMENTS[route["route"]]:
            status, reason = "pass", ""
        else:
            status, reason = "fail", (f"the route is {route['route']}; no arrangement is declared" if arrangement == "none"
                                      else f"the route is {route['route']}; the declared arrangement is {arrangement}")
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
