"""The results document every component writes (schema ``vehicle-ds/results@1``, DESIGN.md).

Components talk to the report only through these documents, so a result produced on a gateway, a laptop
or in CI can be reported anywhere."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from . import __version__
from .errors import SchemaError
from .vocabulary import SEVERITIES, STATUSES

RESULTS_SCHEMA = "vehicle-ds/results@1"
COMPONENTS = ("edge", "probes", "models")


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def new_results(component: str, subject: dict[str, Any], settings: dict[str, Any] | None = None) -> dict[str, Any]:
    if component not in COMPONENTS:
        raise ValueError(component)
    return {"schema": RESULTS_SCHEMA, "component": component,
            "tool": {"name": "vehicle-ds", "version": __version__}, "started": now_iso(), "finished": None,
            "subject": subject, "settings": settings or {}, "checks": [], "summary": {}}


def check(check_id: str, title: str, status: str, severity: str, requirements: list[str],
          evidence: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    if status not in STATUSES:
        raise ValueError(f"status {status!r}")
    if severity not in SEVERITIES:
        raise ValueError(f"severity {severity!r}")
    return {"id": check_id, "title": title, "status": status, "severity": severity,
            "requirements": list(requirements), "evidence": evidence or {}, "metrics": metrics or {}}


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


def write_json(path: str | Path, doc: dict[str, Any]) -> Path:
    return write_text(path, json.dumps(doc, ensure_ascii=False, indent=2, default=_default) + "\n")


def _default(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(type(o).__name__)


def validate_results(doc: Any, origin: str = "results") -> dict[str, Any]:
    """Raise :class:`SchemaError` naming ``origin`` unless ``doc`` is a results document."""
    if not isinstance(doc, dict) or doc.get("schema") != RESULTS_SCHEMA:
        raise SchemaError(f"not a {RESULTS_SCHEMA} document (schema={doc.get('schema') if isinstance(doc, dict) else None!r})",
                          path=origin)
    if doc.get("component") not in COMPONENTS:
        raise SchemaError(f"unknown component {doc.get('component')!r}", path=origin)
    for i, c in enumerate(doc.get("checks", [])):
        for key in ("id", "title", "status", "severity", "requirements"):
            if key not in c:
                raise SchemaError(f"check {i + 1} has no {key!r}", path=origin)
        if c["status"] not in STATUSES or c["severity"] not in SEVERITIES:
            raise SchemaError(f"check {c['id']}: bad status or severity", path=origin)
    return doc
