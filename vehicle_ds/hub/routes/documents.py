"""Results and catalog documents, the datasets the fleet's uplink shows, and the signed current report."""

from __future__ import annotations

import hashlib
from typing import Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..db import Document
from ..deps import Caller, Hub, db, hub, user
from ..ingest import MAX_DOCUMENT_BYTES, parse_document, read_limited, require_type
from ..schemas import DOCUMENT_BODY, errors
from ..store import observed_categories, store_document

router = APIRouter()
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


@router.post("/api/v1/documents", status_code=201, openapi_extra=DOCUMENT_BODY,
             responses={200: {"description": "already stored"}, **errors(401, 413, 415, 422, 429)})
async def upload_document(request: Request, caller: Caller = Depends(user), h: Hub = Depends(hub)) -> Response:
    require_type(request, ("application/json",))
    raw = await read_limited(request, MAX_DOCUMENT_BYTES)
    doc, kind, digest = await anyio.to_thread.run_sync(parse_document, raw, limiter=h.decode_slots)
    return await run_in_threadpool(store_document, h.sessions, caller, doc, kind, digest)


@router.get("/api/v1/documents", responses=errors(401, 422, 429))
def documents(caller: Caller = Depends(user), s: Session = Depends(db),
              limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=10_000_000)) -> dict[str, Any]:
    rows = s.execute(select(Document.id, Document.kind, Document.sha256, Document.uploaded_by, Document.created_at)
                     .where(Document.org_id == caller.org_id).order_by(Document.created_at)
                     .limit(limit).offset(offset)).all()
    return {"documents": [{"id": r.id, "kind": r.kind, "sha256": r.sha256, "uploaded_by": r.uploaded_by,
                           "created_at": r.created_at.isoformat()} for r in rows]}


@router.get("/api/v1/documents/{doc_id}", responses=errors(401, 404, 429))
def document(doc_id: str, caller: Caller = Depends(user), s: Session = Depends(db)) -> dict[str, Any]:
    d = s.get(Document, doc_id[:32])
    if d is None or d.org_id != caller.org_id:
        raise HTTPException(404, "no such document")
    return d.body


@router.get("/api/v1/datasets/observed", responses=errors(401, 429))
def datasets_observed(caller: Caller = Depends(user), s: Session = Depends(db)) -> dict[str, Any]:
    """Per category of uplinked data: records, distinct (pseudonymous) vehicles, regions, period: the facts
    `vehicle-ds datasets --observed` grades. Persons are not observable here (a vehicle is not a person)."""
    return {"categories": observed_categories(s, caller.org_id)}


@router.get("/api/v1/reports/current", responses=errors(401, 404, 422, 429))
def report(caller: Caller = Depends(user), h: Hub = Depends(hub),
           fmt: str = Query("json", alias="format", pattern="^(json|html)$"),
           lang: str = Query("en", pattern="^(en|zh)$")) -> Response:
    h.auth.limit("r:" + caller.sub, h.auth.report)
    from ..reporting import current_report

    text = current_report(h.sessions, caller.org_id, fmt, lang)
    if text is None:
        raise HTTPException(404, "no documents uploaded for this organisation yet")
    # the hub signs what it serves: an ES256 token over the body's sha256, verifiable with its JWKS
    signed = {"X-VDS-Report-Signature": h.keys.sign_digest(hashlib.sha256(text.encode("utf-8")).hexdigest(),
                                                           org=caller.org_id)}
    if fmt == "html":
        return HTMLResponse(text, headers={**signed, "Content-Security-Policy": REPORT_CSP})
    return Response(text, media_type="application/json", headers=signed)
