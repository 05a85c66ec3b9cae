"""The results document every component writes (schema ``vehicle-ds/results@2``, DESIGN.md).

Components talk to the report only through these documents, so a result produced on a gateway, a laptop
or in CI can be reported anywhere.

A verdict is earned: every check declares its :class:`Criterion` (what must hold, with numbers, and where
they come from) and what it ``observed``. :func:`check` is the one place that turns a claimed ``pass``
into ``not_assessed`` when the evidence is below the criterion's declared minimum, or into
``needs_review`` when no criterion is declared. ``@1`` documents are still read: :func:`validate_results`
upgrades them, and their passes become ``needs_review`` (they never declared a criterion)."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .errors import SchemaError
from .vocabulary import (
    ASSET_KINDS,
    CRITERION_SOURCES,
    FINDING,
    SEVERITIES,
    STATUSES,
    AssetKind,
    CriterionSource,
    Severity,
    Status,
    asset_key,
)

RESULTS_SCHEMA = "vehicle-ds/results@2"
LEGACY_RESULTS_SCHEMAS = ("vehicle-ds/results@1",)
COMPONENTS = ("edge", "probes", "models", "datasets")
# Statuses that say nothing is wrong: their severity is always "info", whatever the check's own severity.
_QUIET = ("pass", "skipped", "not_assessed")


@dataclass(frozen=True)
class Asset:
    """What a result is about. The report never merges two assets' checks."""

    kind: AssetKind
    name: str
    version: str = ""

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "version": self.version}

    @property
    def key(self) -> str:
        return asset_key(self.to_json())

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Asset:
        return cls(d["kind"], str(d.get("name", "")), str(d.get("version", "") or ""))


@dataclass(frozen=True)
class Criterion:
    """What must hold for a pass, and how much evidence a verdict needs.

    ``minimum`` maps a key of the check's ``observed`` to the least amount that makes a verdict; below it
    the check is ``not_assessed``. ``source`` says where the numbers come from (DESIGN: a clause id, a
    standard, the user's acceptance profile, or an engineering default said as such); ``ref`` names it."""

    text: str
    source: CriterionSource
    ref: str = ""
    minimum: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "source": self.source, "ref": self.ref, "minimum": dict(self.minimum)}


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def new_results(component: str, subject: dict[str, Any], settings: dict[str, Any] | None = None,
                *, asset: Asset) -> dict[str, Any]:
    if component not in COMPONENTS:
        raise ValueError(component)
    return {"schema": RESULTS_SCHEMA, "component": component,
            "tool": {"name": "vehicle-ds", "version": __version__}, "started": now_iso(), "finished": None,
            "subject": {"asset": asset.to_json(), **subject}, "settings": settings or {}, "checks": [],
            "summary": {}}


def shortfall(criterion: Criterion, observed: Mapping[str, Any]) -> str | None:
    """Why the evidence is too little for a verdict, or None when it is enough."""
    short = [f"{k} = {observed.get(k, 0)} (needs ≥ {need:g})" for k, need in criterion.minimum.items()
             if not isinstance(observed.get(k, 0), (int, float)) or observed.get(k, 0) < need]
    return "too little evidence: " + ", ".join(short) if short else None


def check(check_id: str, title: str, status: Status, severity: Severity, requirements: list[str] | tuple[str, ...], *,
          evidence: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None,
          criterion: Criterion | None, observed: Mapping[str, Any] | None = None,
          reason: str = "") -> dict[str, Any]:
    """One check of a results document. A ``pass`` (or a ``warn``) with less evidence than the criterion's
    minimum becomes ``not_assessed``; a ``pass`` without a criterion becomes ``needs_review``. A ``fail``
    stands: it rests on what was seen, not on how much."""
    if status not in STATUSES:
        raise ValueError(f"status {status!r}")
    if severity not in SEVERITIES:
        raise ValueError(f"severity {severity!r}")
    observed = dict(observed or {})
    if criterion is None:
        if status == "pass":
            status, reason = "needs_review", "no declared criterion: the numbers are reported for a person to judge"
    else:
        if criterion.source not in CRITERION_SOURCES:
            raise ValueError(f"criterion source {criterion.source!r}")
        short = shortfall(criterion, observed)
        if short and status in ("pass", "warn", "needs_review"):
            status, reason = "not_assessed", short
    return {"id": check_id, "title": title, "status": status, "severity": "info" if status in _QUIET else severity,
            "requirements": list(requirements),
            "criterion": criterion.to_json() if criterion else None, "observed": observed,
            **({"reason": reason} if reason else {}),
            "evidence": evidence or {}, "metrics": metrics or {}}


def shown_path(path: str | Path, base: str | Path | None = None) -> str:
    """A local path as an output shows it: relative to the working folder, else to ``base`` (the folder of a
    command's inputs), else the file name alone (the sha256 beside it identifies the file). Outputs travel
    to reviewers and regulators without naming this machine's folders."""
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    for root in (Path.cwd(), Path(base).resolve() if base else None):
        if root is not None:
            try:
                return p.resolve().relative_to(root.resolve()).as_posix()
            except ValueError:
                continue
    return p.name


def verdict_line(checks: list[dict[str, Any]], next_step: str = "") -> str:
    """One line a person reads at the end of a command: the checks per status, the findings named, what next."""
    counts = {s: sum(c["status"] == s for c in checks) for s in STATUSES}
    line = f"verdicts: {len(checks)} checks — " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    found = sorted({c["id"] for c in checks if c["status"] in FINDING})
    if found:
        line += f"; to look at: {', '.join(found[:6])}" + (f" and {len(found) - 6} more" if len(found) > 6 else "")
    return line + (f"; next: {next_step}" if next_step else "")


def finish(doc: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    doc["finished"] = now_iso()
    doc["summary"] = summary
    return doc


def write_text(path: str | Path, text: str) -> Path:
    """Write atomically: a crash never leaves half a file in place of a good one."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, p)
    return p


def dumps(doc: Any) -> str:
    """Strict JSON (no NaN or Infinity: other tools must be able to read what we write)."""
    return json.dumps(doc, ensure_ascii=False, indent=2, default=_default, allow_nan=False)


def write_json(path: str | Path, doc: dict[str, Any]) -> Path:
    return write_text(path, dumps(_finite(doc)) + "\n")


def _finite(o: Any) -> Any:
    """Non-finite floats become null: an unknown number is unknown, not Infinity."""
    if isinstance(o, float):
        return o if o == o and o not in (float("inf"), float("-inf")) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    return o


def _default(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return _finite(o.tolist())
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(type(o).__name__)


def _upgrade_legacy(doc: dict[str, Any]) -> dict[str, Any]:
    """A @1 document declared no criteria: its passes need a person. Its asset is inferred from the subject."""
    checks = []
    for c in doc.get("checks", []):
        c = {**c, "criterion": None, "observed": {}}
        if c["status"] == "pass":
            c["status"], c["reason"] = "needs_review", "results@1 document: no declared criterion or evidence count"
        checks.append(c)
    subject = dict(doc.get("subject") or {})
    if "asset" not in subject:
        kind = {"edge": "vehicle", "probes": "platform", "models": "model"}[doc["component"]]
        name = subject.get("target") or (subject.get("model") or {}).get("path") or "unnamed"
        subject["asset"] = {"kind": kind, "name": str(name), "version": ""}
    return {**doc, "schema": RESULTS_SCHEMA, "upgraded_from": doc["schema"], "subject": subject, "checks": checks}


def validate_results(doc: Any, origin: str = "results") -> dict[str, Any]:
    """Raise :class:`SchemaError` naming ``origin`` unless ``doc`` is a results document; return it as @2."""
    schema = doc.get("schema") if isinstance(doc, dict) else None
    if schema not in (RESULTS_SCHEMA, *LEGACY_RESULTS_SCHEMAS):
        raise SchemaError(f"not a {RESULTS_SCHEMA} document (schema={schema!r})", path=origin)
    if doc.get("component") not in COMPONENTS:
        raise SchemaError(f"unknown component {doc.get('component')!r}", path=origin)
    checks = doc.get("checks", [])
    if not isinstance(checks, list):
        raise SchemaError("'checks' is not a list", path=origin)
    for i, c in enumerate(checks):
        if not isinstance(c, dict):
            raise SchemaError(f"check {i + 1} is not an object", path=origin)
        for key in ("id", "title", "status", "severity", "requirements"):
            if key not in c:
                raise SchemaError(f"check {i + 1} has no {key!r}", path=origin)
        if c["status"] not in STATUSES or c["severity"] not in SEVERITIES:
            raise SchemaError(f"check {c['id']}: bad status or severity", path=origin)
        if schema == RESULTS_SCHEMA and ("criterion" not in c or "observed" not in c):
            raise SchemaError(f"check {c['id']} has no 'criterion' or 'observed' (required by {RESULTS_SCHEMA})",
                              path=origin)
    if schema != RESULTS_SCHEMA:
        return _upgrade_legacy(doc)
    asset = (doc.get("subject") or {}).get("asset")
    if not isinstance(asset, dict) or asset.get("kind") not in ASSET_KINDS or not asset.get("name"):
        raise SchemaError("subject.asset must name the kind (vehicle | platform | model) and name of what was "
                          "examined", path=origin)
    return doc
