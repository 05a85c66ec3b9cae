"""A requirement's status, per asset, from the kinds of evidence it needs.

The registry (``data/requirements.toml``) says per requirement which kinds of evidence it needs
(``catalog``, ``edge``, ``probes``, ``models``, ``attestation``: a person's signed statement). A requirement
is ``pass`` for an asset only when every needed kind is present for that asset and none of its checks
says otherwise; a missing kind is ``not_assessed`` (a missing attestation: ``needs_review``), with the
reason. A ``fail`` stands whatever else is missing. Assets are never merged."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError

EVIDENCE_KINDS = ("catalog", "edge", "probes", "models", "datasets", "attestation")
# The asset kind a section's requirements are about; processor-level duties are the organisation's.
SECTION_ASSET = {"inventory": "vehicle", "uplink": "vehicle", "interfaces": "platform", "stores": "platform",
                 "models": "model", "datasets": "platform"}
# Statuses that say nothing about the requirement: the check saw too little or did not run.
_SILENT = {"skipped", "not_assessed"}
_ORDER = ("fail", "needs_review", "not_assessed", "pass")


@dataclass(frozen=True)
class Attestation:
    requirement: str
    asset: str  # an asset key ("vehicle:sample_vehicle") or "*"
    by: str
    date: str
    statement: str

    def covers(self, requirement: str, asset_key: str) -> bool:
        return self.requirement == requirement and (self.asset == "*" or self.asset == asset_key)


def load_attestations(path: str | Path | None) -> list[Attestation]:
    """``[[attestation]]`` tables: requirement, asset, by, date, statement (all required)."""
    if path is None:
        return []
    from ..tomlfile import read_toml

    raw = read_toml(Path(path), "attestations")
    out = []
    for n, a in enumerate(raw.get("attestation", []), 1):
        missing = [k for k in ("requirement", "asset", "by", "date", "statement") if not str(a.get(k, "")).strip()]
        if missing:
            raise InputError(f"attestation {n} lacks {', '.join(missing)}", path=str(path))
        out.append(Attestation(str(a["requirement"]), str(a["asset"]), str(a["by"]), str(a["date"]),
                               str(a["statement"])))
    return out


def matches(check_id: str, patterns: Sequence[str]) -> bool:
    """``a.b`` matches itself; ``a.b.*`` matches ``a.b`` and everything below it; other globs by fnmatch."""
    for p in patterns:
        if check_id == p or (p.endswith(".*") and check_id == p[:-2]):
            return True
        if "*" in p and fnmatch.fnmatchcase(check_id, p):
            return True
    return False


def worst(statuses: Sequence[str]) -> str:
    return min(statuses, key=_ORDER.index) if statuses else "not_assessed"


def verdict_key(outcomes: Iterable[tuple[str, str]]) -> tuple:
    """All that :func:`asset_verdict` reads of an asset's matching checks: per component, which statuses
    occur. Two assets with the same key get the same verdict (the fleet report relies on it; keep the two
    together)."""
    by: dict[str, set[str]] = {}
    for component, status in outcomes:
        by.setdefault(component, set()).add(status)
    return tuple(sorted((k, tuple(sorted(v))) for k, v in by.items()))


def asset_verdict(req: dict[str, Any], checks: list[dict[str, Any]], attested: list[Attestation]) -> dict[str, Any]:
    """Status and reason of one requirement for one asset, from that asset's matching checks (what it reads
    of them is exactly :func:`verdict_key`: their components and statuses)."""
    needs = req.get("needs", [])
    statuses = [c["status"] for c in checks]
    by_kind = {k: [c for c in checks if c["component"] == k] for k in needs if k != "attestation"}
    missing = [k for k, cs in by_kind.items() if not cs]
    silent = [k for k, cs in by_kind.items() if cs and all(c["status"] in _SILENT for c in cs)]
    if "fail" in statuses:
        return {"status": "fail", "reason": ""}
    if missing:
        return {"status": "not_assessed", "reason": f"no {' or '.join(missing)} evidence for this asset"}
    if silent:
        return {"status": "not_assessed", "reason": f"the {' and '.join(silent)} checks saw too little evidence "
                                                    "or did not run"}
    if "attestation" in needs and not attested:
        return {"status": "needs_review", "reason": req.get("attestation_hint", "needs a person's attestation "
                                                                              "(report --attestations)")}
    if set(statuses) & {"warn", "needs_review", "error"}:
        return {"status": "needs_review", "reason": "a check needs review, warned or could not conclude"}
    if not statuses and not attested:
        return {"status": "not_assessed", "reason": "no evidence"}
    return {"status": "pass", "reason": ""}
