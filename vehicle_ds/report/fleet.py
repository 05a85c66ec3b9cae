"""Reports at fleet scale: :func:`fleet_report` builds the report of thousands of assets from their check
outcomes: per requirement the number of assets in each status (exact) and the worst ``max_assets`` assets
in detail. The hub serves it; 10,000 vehicles would otherwise make a report of hundreds of megabytes, built
in minutes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..vocabulary import FINDING, REQUIREMENT_STATUSES
from .inputs import Input
from .verdicts import _ORDER, verdict_key


@dataclass
class AssetOutcomes:
    """What the fleet report needs of one asset without loading its documents: its check outcomes."""

    key: str
    outcomes: list[tuple[str, str, str, str]]  # (component, check id, status, severity)
    detailed: bool = False  # always shown in detail (an asset with a catalog, a platform, a model)

    def signature(self) -> tuple:
        return tuple(sorted((c, i, s) for c, i, s, _ in self.outcomes))


def fleet_report(assets: list[AssetOutcomes], load: Callable[[list[str]], list[Input]], max_assets: int = 50,
                 today: Any = None) -> dict[str, Any]:
    """The report of a whole fleet from its outcomes: assets with the same outcomes share one verdict per
    requirement (computed once from one of them), counted for all; the worst ``max_assets`` assets, and
    every ``detailed`` one, are built in full from ``load(keys)``. Exact counts, bounded detail."""
    from .build import build_report, load_requirements

    groups: dict[tuple, list[AssetOutcomes]] = {}
    for a in assets:
        if not a.detailed:
            groups.setdefault(a.signature(), []).append(a)
    req_ids = [r["id"] for r in load_requirements()]
    verdicts = _Verdicts(req_ids)
    group_status: list[tuple[list[AssetOutcomes], dict[str, str]]] = []
    for members in groups.values():
        status = verdicts.derive(members[0])
        if status is None:  # a combination not seen yet: built in full once, and learned from
            status = verdicts.learn(members[0], build_report(load([members[0].key]), today))
        group_status.append((members, status))

    def rank(st: dict[str, str]) -> tuple:
        return tuple(sorted(_ORDER.index(s) for s in st.values()))

    shown = [a.key for a in assets if a.detailed]
    room = max_assets + len(shown)
    for members, _ in sorted(group_status, key=lambda g: (rank(g[1]), -len(g[0]))):
        for a in members[: max(0, room - len(shown))]:
            shown.append(a.key)
    detail = build_report(load(shown), today)
    shown_set = set(shown)
    counts: dict[str, Counter] = {r: Counter() for r in req_ids}
    for q in detail["requirements"]:
        for row in q["by_asset"]:
            counts[q["id"]][row["status"]] += 1
    for members, st in group_status:
        rest = sum(1 for a in members if a.key not in shown_set)
        for rid, status in st.items():
            counts[rid][status] += rest
    for q in detail["requirements"]:
        c = counts[q["id"]]
        if c:
            q["asset_status_counts"] = dict(c)
            q["assets_total"] = sum(c.values())
            q["assets_omitted"] = q["assets_total"] - len(q["by_asset"])
            q["status"] = min(c, key=_ORDER.index)
    req_counts = Counter(q["status"] for q in detail["requirements"])
    everything = [o for a in assets for o in a.outcomes]
    detail["summary"]["requirements"] = {s: req_counts.get(s, 0) for s in REQUIREMENT_STATUSES}
    detail["summary"]["checks"] = dict(Counter(o[2] for o in everything))
    detail["summary"]["findings"] = sum(o[2] in FINDING for o in everything)
    detail["summary"]["failed_by_severity"] = {s: sum(o[2] == "fail" and o[3] == s for o in everything)
                                               for s in detail["summary"]["failed_by_severity"]}
    detail["status"] = ("fail" if req_counts["fail"] else "needs_review"
                        if req_counts["needs_review"] or req_counts["not_assessed"] else "pass")
    detail["assets_total"] = len(assets)
    detail["fleet_view"] = {"max_assets": max_assets, "asset_groups": len(groups), "assets_in_detail": len(shown),
                            "built_in_full": verdicts.built}
    return detail


class _Verdicts:
    """A requirement's verdict on an asset depends only on the checks that are its evidence, and of them only
    on which statuses each component has (``verdict_key``, what ``asset_verdict`` reads). So verdicts are kept
    per (requirement, that key), and which checks are evidence of which requirement is learned from the
    assets built in full:
    a fleet whose every vehicle differs somewhere still needs only as many full builds as there are distinct
    combinations per requirement, not one per vehicle."""

    def __init__(self, req_ids: list[str]) -> None:
        self.req_ids = req_ids
        self.evidence_of: dict[tuple[str, str], frozenset[str]] = {}  # (component, check id) -> requirements
        self.verdict: dict[tuple[str, tuple], str | None] = {}  # (requirement, its evidence's outcomes) -> status
        self.built = 0

    def _part(self, a: AssetOutcomes, rid: str) -> tuple:
        return verdict_key((c, s) for c, i, s, _ in a.outcomes if rid in self.evidence_of[(c, i)])

    def derive(self, a: AssetOutcomes) -> dict[str, str] | None:
        if any((c, i) not in self.evidence_of for c, i, _, _ in a.outcomes):
            return None
        out: dict[str, str] = {}
        for rid in self.req_ids:
            key = (rid, self._part(a, rid))
            if key not in self.verdict:
                return None
            if self.verdict[key] is not None:
                out[rid] = self.verdict[key]  # type: ignore[assignment]
        return out

    def learn(self, a: AssetOutcomes, mini: dict[str, Any]) -> dict[str, str]:
        self.built += 1
        checks = mini["checks"]
        learned: dict[tuple[str, str], set[str]] = {(c["component"], c["id"]): set() for c in checks}
        for q in mini["requirements"]:
            for row in q["by_asset"]:
                for ix in row["evidence"]:
                    learned[(checks[ix]["component"], checks[ix]["id"])].add(q["id"])
        for k, rids in learned.items():
            self.evidence_of[k] = frozenset(rids) | self.evidence_of.get(k, frozenset())
        status = {q["id"]: q["by_asset"][0]["status"] for q in mini["requirements"] if q["by_asset"]}
        if all((c, i) in self.evidence_of for c, i, _, _ in a.outcomes):
            for rid in self.req_ids:
                self.verdict[(rid, self._part(a, rid))] = status.get(rid)
        return status
