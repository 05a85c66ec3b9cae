"""Writing uploads and reading what the fleet uplinked: batches stored once per device, documents once per
organisation, each with the findings its rules raise and the dataset facts it adds."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.responses import JSONResponse, Response
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import Batch, DatasetObservation, Device, Document, now
from .deps import Caller
from .ingest import outcomes_of, subject_key, summary_of
from .monitor import DOCUMENT_RULES, record, rule_new_unknown_ids


def observe_datasets(s: Session, caller: Caller, observed: dict[str, dict[str, Any]]) -> None:
    """Add a batch's records and regions to its device's row per data category, atomically: the count is
    incremented in the database (never read, added to and written back, which loses concurrent batches),
    and that update locks the row before its regions are merged."""
    for cat, o in observed.items():
        key = {"org_id": caller.org_id, "category": cat[:64], "device_id": caller.sub}
        if s.get(DatasetObservation, tuple(key.values())) is None:
            try:
                with s.begin_nested():  # a concurrent first batch may create it: either insert wins
                    s.add(DatasetObservation(**key, records=0, regions=[]))
            except IntegrityError:
                pass
        where = [getattr(DatasetObservation, k) == v for k, v in key.items()]
        s.execute(update(DatasetObservation).where(*where)
                  .values(records=DatasetObservation.records + int(o["records"]), last_seen=now()))
        row = s.scalars(select(DatasetObservation).where(*where).execution_options(populate_existing=True)).one()
        if o["regions"] - set(row.regions):
            row.regions = sorted(set(row.regions) | o["regions"])[:1000]


def store_batch(sessions, parsed, caller: Caller, raw: bytes) -> Response:
    """201 stored; 200 for this device's own retry of a stored batch; 409 when another device holds the id.
    The batch, its alerts and its dataset counts are one transaction (one commit, one WAL flush): a crash
    stores all of them or none, and the device's retry then stores them once."""
    with sessions() as s:
        try:
            with s.begin_nested():  # a duplicate id fails here, before anything else is written
                s.add(Batch(batch_id=parsed.batch_id, device_id=caller.sub, org_id=caller.org_id, size=len(raw),
                            records=parsed.records, messages=parsed.messages, body=raw))
                s.execute(update(Device).where(Device.device_id == caller.sub).values(last_seen=now()))
        except IntegrityError:
            s.rollback()
            existing = s.get(Batch, parsed.batch_id)
            if existing is not None and existing.device_id == caller.sub and existing.size == len(raw):
                return JSONResponse({"batch_id": parsed.batch_id, "stored": False, "duplicate": True}, 200)
            # another device's (or organisation's) id: the sender keeps its batch and sends it under a new id
            return JSONResponse({"detail": "batch id taken", "code": "batch_id_taken"}, 409)
        for f in parsed.findings:
            record(s, caller.org_id, f)
        observe_datasets(s, caller, parsed.observed)
        s.commit()
    return JSONResponse({"batch_id": parsed.batch_id, "stored": True, "records": parsed.records}, 201)


def _stored(s: Session, caller: Caller, digest: str) -> Document | None:
    return s.scalar(select(Document).where(Document.org_id == caller.org_id, Document.sha256 == digest))


def store_document(sessions, caller: Caller, doc: dict, kind: str, digest: str) -> Response:
    """201 stored (the latest of its subject); 200 when the organisation already has this exact document."""
    with sessions() as s:
        found = _stored(s, caller, digest)
        if found is not None:
            return JSONResponse({"id": found.id, "stored": False}, status_code=200)
        key = subject_key(kind, doc)
        s.execute(update(Document).where(Document.org_id == caller.org_id, Document.subject_key == key)
                  .values(latest=False))
        asset_key, outcomes = outcomes_of(kind, doc)
        d = Document(id=uuid.uuid4().hex, org_id=caller.org_id, kind=kind, sha256=digest, uploaded_by=caller.sub,
                     body=doc, subject_key=key, latest=True, summary=summary_of(kind, doc), asset_key=asset_key,
                     outcomes=outcomes)
        s.add(d)
        for rule in DOCUMENT_RULES:
            for f in rule(doc):
                record(s, caller.org_id, f)
        for f in list(rule_new_unknown_ids(s, caller.org_id, doc)):
            record(s, caller.org_id, f)
        try:
            s.commit()
        except IntegrityError:  # a parallel upload of the same document won
            s.rollback()
            found = _stored(s, caller, digest)
            return JSONResponse({"id": found.id if found else None, "stored": False}, status_code=200)
    return JSONResponse({"id": d.id, "kind": kind, "stored": True}, status_code=201)


def batch_meta(b: Batch) -> dict[str, Any]:
    return {"batch_id": b.batch_id, "device_id": b.device_id, "received_at": b.received_at.isoformat(),
            "size": b.size, "records": b.records, "messages": b.messages}


def _outbound_area_hits(s: Session, org_id: int) -> int | None:
    """Positions inside sensitive areas that left the vehicles (what the platform holds), summed over the
    vehicles' latest results; unknown (None) unless every one of them checked a geofence: positions decoded
    inside an area and suppressed in the vehicle are not the platform's data."""
    hits, summaries = 0, 0
    for summary in s.scalars(select(Document.summary).where(Document.org_id == org_id, Document.kind == "edge",
                                                            Document.latest.is_(True))):
        summaries += 1
        outbound = ((summary or {}).get("summary", {}).get("geofence") or {}).get("positions_inside_outbound")
        if outbound is None:
            return None
        hits += sum(outbound.values())
    return hits if summaries else None


def observed_categories(s: Session, org_id: int) -> list[dict[str, Any]]:
    """Per category of uplinked data: records, distinct (pseudonymous) vehicles, regions, period, and for
    location the positions inside sensitive areas that the vehicles' own results count."""
    cats: dict[str, dict[str, Any]] = {}
    for r in s.scalars(select(DatasetObservation).where(DatasetObservation.org_id == org_id)).all():
        c = cats.setdefault(r.category, {"category": r.category, "records": 0, "vehicles": 0, "regions": set(),
                                         "first": r.first_seen, "last": r.last_seen})
        c["records"] += r.records
        c["vehicles"] += 1
        c["regions"] |= set(r.regions)
        c["first"], c["last"] = min(c["first"], r.first_seen), max(c["last"], r.last_seen)
    if "location" in cats:
        cats["location"]["sensitive_area_hits"] = _outbound_area_hits(s, org_id)
    return [{**c, "regions": sorted(c["regions"]), "first": c["first"].isoformat(), "last": c["last"].isoformat()}
            for c in sorted(cats.values(), key=lambda c: c["category"])]
