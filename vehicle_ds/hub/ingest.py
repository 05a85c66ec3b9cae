"""What the hub accepts, checked strictly before anything is stored: uplink batches (decoded off the event
loop, a bounded number at a time, inflated at most a fixed multiple of their size) and results/catalog
documents (strict JSON: no NaN or Infinity, bounded nesting)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request

from ..catalog import CATALOG_SCHEMA
from ..errors import SchemaError
from ..results import LEGACY_RESULTS_SCHEMAS, RESULTS_SCHEMA, validate_results
from ..uplink_format import BatchFormatError, decode_batch_bytes, summarize
from .monitor import Finding, MonitorSettings, batch_findings

MAX_BATCH_BYTES = 16 * 1024 * 1024
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
MAX_INFLATE_RATIO = 64  # a real batch inflates 3-10x; a bomb is refused long before it fills memory
MAX_INFLATED = 64 * 1024 * 1024
MAX_JSON_DEPTH = 64
BATCH_TYPES = ("application/x-vehicle-ds-batch", "application/octet-stream")


def require_type(request: Request, allowed: tuple[str, ...]) -> None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in allowed:
        raise HTTPException(415, f"Content-Type must be {' or '.join(allowed)}")


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise HTTPException(413, f"body larger than {limit} bytes")
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
    return bytes(body)


@dataclass
class ParsedBatch:
    batch_id: str
    device: str
    messages: dict[str, Any]
    records: int
    findings: list[Finding]
    observed: dict[str, dict[str, Any]]  # category -> {"records": n, "regions": {cells}}


def _cell(lat: float, lon: float) -> str:
    return f"{abs(int(lat // 1))}{'N' if lat >= 0 else 'S'}{abs(int(lon // 1))}{'E' if lon >= 0 else 'W'}"


def observe(doc: dict[str, Any], classify) -> dict[str, dict[str, Any]]:
    """Per category of the signals a batch carries: rows, and the 1-degree cells its positions fall in."""
    import numpy as np

    out: dict[str, dict[str, Any]] = {}
    for name, m in doc["messages"].items():
        lat = lon = None
        cats: set[str] = set()
        for sig, col in m["signals"].items():
            cls = classify(name, sig)
            cats.add("charging" if cls.role == "charging" else cls.category)
            if cls.role in ("latitude", "longitude") and col.get("enc") == "array":
                try:
                    v = np.frombuffer(col["data"], dtype=np.dtype(col["dtype"])).astype(np.float64)
                except (TypeError, ValueError, KeyError):
                    continue
                lat, lon = (v, lon) if cls.role == "latitude" else (lat, v)
        for cat in cats:  # a message's rows count once per category it carries
            out.setdefault(cat, {"records": 0, "regions": set()})["records"] += int(m["n"])
        if lat is not None and lon is not None and lat.shape == lon.shape:
            ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
            cells = {_cell(a, b) for a, b in set(zip(np.floor(lat[ok]).tolist(), np.floor(lon[ok]).tolist(),
                                                     strict=True))}
            out.setdefault("location", {"records": 0, "regions": set()})["regions"] |= cells
    return out


def parse_batch(raw: bytes, settings: MonitorSettings, classify, areas=()) -> ParsedBatch:
    """Runs in a worker thread (CPU: inflate, unpack, monitoring rules; ``areas``: the organisation's
    sensitive areas)."""
    cap = min(MAX_INFLATED, MAX_INFLATE_RATIO * len(raw) + 65536)
    try:
        doc = decode_batch_bytes(raw, max_inflated=cap)
        messages = summarize(doc)
        findings = list(batch_findings(doc, doc["device"], settings, classify, areas))
        observed = observe(doc, classify)
    except BatchFormatError as exc:
        raise HTTPException(422, str(exc)[:300]) from None
    except (KeyError, TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise HTTPException(422, f"malformed batch: {type(exc).__name__}") from None
    return ParsedBatch(doc["batch_id"], doc["device"], messages, sum(m["rows"] for m in messages.values()), findings,
                       observed)


def _strict_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    """A JSON number as a float, refused when it is not finite (1e999 overflows to infinity)."""
    import math

    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is not a finite number")
    return value


def _depth(obj: Any, limit: int) -> None:
    """Refuses nesting deeper than ``limit`` and NUL characters in any string or key (PostgreSQL text and
    JSON cannot hold them, and no results document needs one)."""
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if d > limit:
            raise ValueError(f"nested deeper than {limit} levels")
        if isinstance(o, dict):
            if any("\x00" in k for k in o):
                raise ValueError("a key holds a NUL character")
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o)
        elif isinstance(o, str) and "\x00" in o:
            raise ValueError("a string holds a NUL character")


def parse_document(raw: bytes) -> tuple[dict[str, Any], str, str]:
    """(document, kind, sha256) of an uploaded results or catalog document."""
    try:
        doc = json.loads(raw, parse_constant=_strict_constant, parse_float=_finite)
        _depth(doc, MAX_JSON_DEPTH)
    except RecursionError:
        raise HTTPException(422, f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(422, f"body is not strict JSON: {str(exc)[:200]}") from None
    if not isinstance(doc, dict):
        raise HTTPException(422, "a document is a JSON object")
    try:
        if doc.get("schema") in (RESULTS_SCHEMA, *LEGACY_RESULTS_SCHEMAS):
            doc = validate_results(doc, "upload")  # @1 documents are upgraded (their passes need review)
            kind = str(doc["component"])
        elif doc.get("schema") == CATALOG_SCHEMA:
            from ..report.inputs import validate_catalog

            validate_catalog(doc, "upload")
            kind = "catalog"
        else:
            raise HTTPException(422, f"unknown schema {str(doc.get('schema'))[:80]!r}")
    except SchemaError as exc:
        raise HTTPException(422, str(exc)[:300]) from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise HTTPException(422, f"malformed document: {type(exc).__name__}") from None
    return doc, kind, hashlib.sha256(raw).hexdigest()


def subject_key(kind: str, doc: dict[str, Any]) -> str:
    """What a newer document of the same kind replaces: the same asset (or, for a catalog, its sources)."""
    subject = doc.get("subject", {}).get("asset") or doc.get("asset") or doc.get("subject", doc.get("sources"))
    return hashlib.sha256(f"{kind}\x00{json.dumps(subject, sort_keys=True, default=str)}".encode()).hexdigest()


EVIDENCE_CAP = 1024
EDGE_SUMMARY = ("frames_total", "frames_decoded", "frames_unknown", "frames_error", "frames_truncated",
                "frames_transport", "uplink", "rates", "warnings", "interrupted", "policy", "unknown_ids",
                "signals_by_handling", "signals_by_category", "dropped_by_reason", "transport", "geofence")


def summary_of(kind: str, doc: dict[str, Any]) -> dict[str, Any]:
    """What the report reads: the document without bulky evidence (request logs, per-sample data), computed
    once at ingestion; the full body stays available at /api/v1/documents/{id}."""
    if kind == "catalog":
        return doc
    out = {k: v for k, v in doc.items() if k not in ("checks", "request_log")}
    if kind == "edge":  # per-signal counts stay in the full document; the fleet report needs the totals
        out["summary"] = {k: v for k, v in doc.get("summary", {}).items() if k in EDGE_SUMMARY}
    checks = []
    for c in doc.get("checks", []):
        # a passing check's evidence is not shown at fleet scale; a finding's is, up to EVIDENCE_CAP
        ev = c.get("evidence", {}) if c.get("status") != "pass" else {}
        if len(json.dumps(ev, default=str)) > EVIDENCE_CAP:
            ev = {"truncated": True, "keys": sorted(ev)[:50] if isinstance(ev, dict) else []}
        checks.append({k: v for k, v in c.items() if k not in ("evidence", "metrics")} | {"evidence": ev})
    out["checks"] = checks
    return out


def outcomes_of(kind: str, doc: dict[str, Any]) -> tuple[str, list[list[str]]]:
    """(asset key, [[check id, status, severity], ...]): what the fleet report reads of every document."""
    from ..report.derive import catalog_checks
    from ..report.inputs import Input

    inp = Input("", "", kind, doc)
    checks = catalog_checks(doc) if kind == "catalog" else doc.get("checks", [])
    return inp.asset_key, [[c["id"], c["status"], c["severity"]] for c in checks]
