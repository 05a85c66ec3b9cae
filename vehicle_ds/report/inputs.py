"""Load report inputs: catalog and results documents, given as files or folders of ``*.json``."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..catalog import CATALOG_SCHEMA, vehicle_asset
from ..errors import InputError, SchemaError
from ..results import LEGACY_RESULTS_SCHEMAS, RESULTS_SCHEMA, shown_path, validate_results
from ..vocabulary import asset_key


@dataclass
class Input:
    path: str
    sha256: str
    kind: str  # "catalog" | "edge" | "probes" | "models"
    doc: dict[str, Any]

    @cached_property
    def asset(self) -> dict[str, str]:
        """What this input is about: the results document's ``subject.asset``; a catalog's ``asset`` (older
        catalogs: the vehicle named after its databases, as ``vehicle-ds catalog`` names it)."""
        if self.kind == "catalog":
            if isinstance(self.doc.get("asset"), dict):
                return self.doc["asset"]
            return vehicle_asset([s.get("path", "") for s in self.doc.get("sources", [])]).to_json()
        return self.doc["subject"]["asset"]

    @cached_property
    def asset_key(self) -> str:
        return asset_key(self.asset)

    def describe(self) -> dict[str, Any]:
        d = {"path": self.path, "sha256": self.sha256, "kind": self.kind, "schema": self.doc.get("schema"),
             "asset": self.asset}
        if self.kind != "catalog":
            d.update({"tool": self.doc.get("tool"), "started": self.doc.get("started"),
                      "finished": self.doc.get("finished"), "settings": self.doc.get("settings", {})})
        else:
            d["policy"] = self.doc.get("policy")
        return d


def validate_catalog(doc: dict[str, Any], origin: str) -> None:
    for key in ("policy", "sources", "entries", "combinations"):
        if key not in doc:
            raise SchemaError(f"catalog document has no {key!r}", path=origin)
    for i, e in enumerate(doc["entries"]):
        missing = {"message", "signal", "category", "pi", "grade", "handling", "basis"} - set(e)
        if missing:
            raise SchemaError(f"catalog entry {i + 1} lacks {', '.join(sorted(missing))}", path=origin)


def _load_file(p: Path, base: Path | None = None) -> Input:
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(p)) from None
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise SchemaError(f"not JSON: {getattr(exc, 'msg', exc)}", path=str(p), line=line) from None
    schema = doc.get("schema") if isinstance(doc, dict) else None
    if schema == CATALOG_SCHEMA:
        validate_catalog(doc, str(p))
        kind = "catalog"
    elif schema in (RESULTS_SCHEMA, *LEGACY_RESULTS_SCHEMAS):
        doc = validate_results(doc, str(p))  # @1 documents come back upgraded: their passes need review
        kind = doc["component"]
    else:
        raise SchemaError(f"unknown schema {schema!r} (expected {CATALOG_SCHEMA} or {RESULTS_SCHEMA})", path=str(p))
    return Input(shown_path(p, base), hashlib.sha256(raw).hexdigest(), kind, doc)


def load_inputs(paths: list[str | Path]) -> list[Input]:
    """Every input file, folders searched recursively for ``*.json`` that carry a vehicle-ds schema. Each is
    named relative to the working folder, else to the folder the inputs share (outputs name no local folder)."""
    files: list[Path] = []
    for given in paths:
        p = Path(given)
        if p.is_dir():
            found = []
            for f in sorted(p.rglob("*.json")):
                try:
                    head = json.loads(f.read_text("utf-8"))
                except (OSError, ValueError):
                    continue
                if isinstance(head, dict) and head.get("schema") in (CATALOG_SCHEMA, RESULTS_SCHEMA, *LEGACY_RESULTS_SCHEMAS):
                    found.append(f)
            if not found:
                raise InputError("no catalog or results documents in this folder", path=str(p))
            files.extend(found)
        elif p.exists():
            files.append(p)
        else:
            raise InputError("no such file or folder", path=str(p))
    base = Path(os.path.commonpath([f.resolve().parent for f in files])) if files else None
    return [_load_file(f, base) for f in files]
