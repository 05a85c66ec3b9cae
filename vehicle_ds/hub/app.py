"""The hub's HTTP API. Every endpoint but /health, /.well-known/jwks.json, login and the device flows
needs a token; every query is scoped to the caller's organisation (a device writes only its own data,
an engineer sees only their organisation's), and a foreign id answers 404, like a missing one."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..catalog import CATALOG_SCHEMA
from ..errors import SchemaError
from ..results import LEGACY_RESULTS_SCHEMAS, RESULTS_SCHEMA, validate_results
from ..uplink_format import BatchFormatError, decode_batch_bytes, summarize
from .db import Batch, Device, Document, Enrollment, Org, User, make_engine, now, sessions
from .security import (
    _DUMMY_HASH,
    AUD_DEVICE,
    AUD_USER,
    DEVICE_TTL_S,
    PER_IDENTITY_BURST,
    PER_IDENTITY_RATE,
    USER_TTL_S,
    Keys,
    RateLimiter,
    check_secret,
    code_digest,
    hash_secret,
)

MAX_BATCH_BYTES = 16 * 1024 * 1024
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class EnrollmentRequest(BaseModel):
    vehicle_ref: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    valid_hours: int = Field(default=24, ge=1, le=720)


class Enroll(BaseModel):
    code: str = Field(min_length=8, max_length=128)
    device_id: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")


class DeviceToken(BaseModel):
    device_id: str = Field(min_length=3, max_length=64)
    device_secret: str = Field(min_length=16, max_length=128)


@dataclass
class Caller:
    sub: str
    org_id: int
    role: str  # engineer | admin | device


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise HTTPException(413, f"body larger than {limit} bytes")
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
    return bytes(body)


def create_app(db_url: str = "sqlite:///vehicle-ds-hub.db") -> FastAPI:
    engine = make_engine(db_url)
    Sessions = sessions(engine)
    with Sessions() as s:
        keys = Keys(s)
    per_identity = RateLimiter(rate=PER_IDENTITY_RATE, burst=PER_IDENTITY_BURST)
    per_address = RateLimiter(rate=10, burst=20)  # login and device flows, before anyone is known
    app = FastAPI(title="vehicle-ds hub", version="1", docs_url="/docs", redoc_url=None)
    app.state.sessions = Sessions
    app.state.keys = keys

    def db():
        with Sessions() as s:
            yield s

    def _bearer(request: Request) -> str:
        h = request.headers.get("authorization", "")
        if not h.lower().startswith("bearer ") or len(h) > 4096:
            raise HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
        return h[7:].strip()

    def _limit(key: str) -> None:
        if not per_identity.allow(key):
            raise HTTPException(429, "rate limit", headers={"Retry-After": "1"})

    def user(request: Request) -> Caller:
        try:
            c = keys.verify(_bearer(request), AUD_USER)
        except jwt.PyJWTError:
            raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"}) from None
        if c.get("role") not in ("engineer", "admin") or not isinstance(c.get("org"), int):
            raise HTTPException(401, "invalid token")
        _limit("u:" + str(c["sub"]))
        return Caller(str(c["sub"]), int(c["org"]), str(c["role"]))

    def admin(caller: Caller = Depends(user)) -> Caller:
        if caller.role != "admin":
            raise HTTPException(403, "admin role required")
        return caller

    def device(request: Request) -> Caller:
        try:
            c = keys.verify(_bearer(request), AUD_DEVICE)
        except jwt.PyJWTError:
            raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"}) from None
        _limit("d:" + str(c["sub"]))
        return Caller(str(c["sub"]), int(c["org"]), "device")

    def address_limit(request: Request) -> None:
        if not per_address.allow("a:" + (request.client.host if request.client else "?")):
            raise HTTPException(429, "rate limit", headers={"Retry-After": "1"})

    @app.middleware("http")
    async def headers(request: Request, call_next):
        try:
            response = await call_next(request)
        except Exception:  # never a stack trace to the client
            response = JSONResponse({"detail": "internal error"}, status_code=500)
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        if not request.url.path.startswith("/docs"):
            response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        return response

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/.well-known/jwks.json")
    def jwks() -> dict[str, Any]:
        return keys.jwks()

    @app.post("/api/v1/auth/login", dependencies=[Depends(address_limit)])
    def login(body: Login, s: Session = Depends(db)) -> dict[str, Any]:
        u = s.scalar(select(User).where(User.username == body.username))
        if not check_secret(body.password, u.pw_hash if u else _DUMMY_HASH) or u is None:
            raise HTTPException(401, "invalid credentials")
        token = keys.issue(u.username, AUD_USER, USER_TTL_S, role=u.role, org=u.org_id)
        return {"access_token": token, "token_type": "Bearer", "expires_in": USER_TTL_S}

    @app.get("/api/v1/users/me")
    def me(caller: Caller = Depends(user), s: Session = Depends(db)) -> dict[str, Any]:
        org = s.get(Org, caller.org_id)
        return {"username": caller.sub, "role": caller.role, "org": org.name if org else None}

    @app.get("/api/v1/admin/users")
    def users(caller: Caller = Depends(admin), s: Session = Depends(db)) -> dict[str, Any]:
        rows = s.scalars(select(User).where(User.org_id == caller.org_id).order_by(User.username)).all()
        return {"users": [{"username": u.username, "role": u.role} for u in rows]}

    @app.post("/api/v1/admin/enrollments", status_code=201)
    def create_enrollment(body: EnrollmentRequest, caller: Caller = Depends(admin),
                          s: Session = Depends(db)) -> dict[str, Any]:
        code = secrets.token_urlsafe(24)
        expires = now() + dt.timedelta(hours=body.valid_hours)
        s.add(Enrollment(code_hash=code_digest(code), org_id=caller.org_id, vehicle_ref=body.vehicle_ref,
                         expires_at=expires))
        s.commit()
        return {"code": code, "vehicle_ref": body.vehicle_ref, "expires_at": expires.isoformat()}

    @app.post("/api/v1/devices/enroll", status_code=201, dependencies=[Depends(address_limit)])
    def enroll(body: Enroll, s: Session = Depends(db)) -> dict[str, Any]:
        e = s.get(Enrollment, code_digest(body.code))
        expires = e.expires_at if e is None or e.expires_at.tzinfo else e.expires_at.replace(tzinfo=dt.timezone.utc)
        if e is None or e.used_at is not None or expires < now():
            raise HTTPException(401, "invalid or used enrollment code")
        if s.get(Device, body.device_id) is not None:
            raise HTTPException(409, "device id already enrolled")
        secret = secrets.token_urlsafe(32)
        e.used_at = now()
        s.add(Device(device_id=body.device_id, org_id=e.org_id, vehicle_ref=e.vehicle_ref,
                     secret_hash=hash_secret(secret)))
        s.commit()
        return {"device_id": body.device_id, "device_secret": secret, "vehicle_ref": e.vehicle_ref}

    @app.post("/api/v1/devices/token", dependencies=[Depends(address_limit)])
    def device_token(body: DeviceToken, s: Session = Depends(db)) -> dict[str, Any]:
        d = s.get(Device, body.device_id)
        if not check_secret(body.device_secret, d.secret_hash if d else _DUMMY_HASH) or d is None:
            raise HTTPException(401, "invalid device credentials")
        token = keys.issue(d.device_id, AUD_DEVICE, DEVICE_TTL_S, org=d.org_id, vehicle=d.vehicle_ref)
        return {"access_token": token, "token_type": "Bearer", "expires_in": DEVICE_TTL_S}

    @app.post("/api/v1/uplink", status_code=201)
    async def uplink(request: Request, caller: Caller = Depends(device)) -> Response:
        raw = await _read_limited(request, MAX_BATCH_BYTES)
        try:
            doc = decode_batch_bytes(raw)
        except BatchFormatError as exc:
            raise HTTPException(422, str(exc)) from None
        batch_id = str(doc["batch_id"])
        if request.headers.get("x-batch-id", batch_id) != batch_id or len(batch_id) > 64:
            raise HTTPException(422, "X-Batch-Id does not match the batch")
        if doc["device"] != caller.sub:  # a device writes only its own data
            raise HTTPException(403, "batch belongs to another device")
        messages = summarize(doc)
        rec = sum(m["rows"] for m in messages.values())
        return await run_in_threadpool(_store_batch, batch_id, caller, raw, rec, messages)

    def _store_batch(batch_id: str, caller: Caller, raw: bytes, rec: int, messages: dict) -> Response:
        with Sessions() as s:
            s.add(Batch(batch_id=batch_id, device_id=caller.sub, org_id=caller.org_id, size=len(raw),
                        records=rec, messages=messages, body=raw))
            try:
                s.commit()
            except IntegrityError:  # a retried upload: already stored, stored once
                s.rollback()
                existing = s.get(Batch, batch_id)
                if existing is None or existing.device_id != caller.sub:
                    raise HTTPException(409, "batch id already used") from None
                return JSONResponse({"batch_id": batch_id, "stored": False, "duplicate": True}, status_code=409)
        return JSONResponse({"batch_id": batch_id, "stored": True, "records": rec}, status_code=201)

    @app.get("/api/v1/uplink/batches")
    def batches(caller: Caller = Depends(user), s: Session = Depends(db),
                limit: int = Query(50, ge=1, le=100), offset: int = Query(0, ge=0)) -> dict[str, Any]:
        q = select(Batch).where(Batch.org_id == caller.org_id).order_by(Batch.received_at).limit(limit).offset(offset)
        total = s.scalar(select(func.count()).select_from(Batch).where(Batch.org_id == caller.org_id))
        return {"total": total, "batches": [_batch_meta(b) for b in s.scalars(q)]}

    @app.get("/api/v1/uplink/batches/{batch_id}")
    def batch(batch_id: str, caller: Caller = Depends(user), s: Session = Depends(db)) -> dict[str, Any]:
        b = s.get(Batch, batch_id)
        if b is None or b.org_id != caller.org_id:
            raise HTTPException(404, "no such batch")
        return _batch_meta(b)

    @app.post("/api/v1/documents", status_code=201)
    async def upload_document(request: Request, caller: Caller = Depends(user)) -> Response:
        raw = await _read_limited(request, MAX_DOCUMENT_BYTES)
        try:
            doc = json.loads(raw)
        except ValueError:
            raise HTTPException(400, "body is not JSON") from None
        kind = _validate_document(doc)
        return await run_in_threadpool(_store_document, caller, doc, kind, hashlib.sha256(raw).hexdigest())

    def _store_document(caller: Caller, doc: dict, kind: str, digest: str) -> Response:
        with Sessions() as s:
            found = s.scalar(select(Document).where(Document.org_id == caller.org_id, Document.sha256 == digest))
            if found is not None:
                return JSONResponse({"id": found.id, "stored": False}, status_code=200)
            d = Document(id=uuid.uuid4().hex, org_id=caller.org_id, kind=kind, sha256=digest, uploaded_by=caller.sub,
                         body=doc)
            s.add(d)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                found = s.scalar(select(Document).where(Document.org_id == caller.org_id, Document.sha256 == digest))
                return JSONResponse({"id": found.id if found else None, "stored": False}, status_code=200)
        return JSONResponse({"id": d.id, "kind": kind, "stored": True}, status_code=201)

    @app.get("/api/v1/documents")
    def documents(caller: Caller = Depends(user), s: Session = Depends(db)) -> dict[str, Any]:
        rows = s.scalars(select(Document).where(Document.org_id == caller.org_id).order_by(Document.created_at)).all()
        return {"documents": [{"id": d.id, "kind": d.kind, "sha256": d.sha256, "uploaded_by": d.uploaded_by,
                               "created_at": d.created_at.isoformat()} for d in rows]}

    @app.get("/api/v1/documents/{doc_id}")
    def document(doc_id: str, caller: Caller = Depends(user), s: Session = Depends(db)) -> dict[str, Any]:
        d = s.get(Document, doc_id)
        if d is None or d.org_id != caller.org_id:
            raise HTTPException(404, "no such document")
        return d.body

    @app.get("/api/v1/reports/current")
    def report(caller: Caller = Depends(user), s: Session = Depends(db), fmt: str = Query("json", alias="format",
               pattern="^(json|html)$"), lang: str = Query("en", pattern="^(en|zh)$")) -> Response:
        from ..report import build_report, render
        from ..report.inputs import Input

        rows = s.scalars(select(Document).where(Document.org_id == caller.org_id).order_by(Document.created_at)).all()
        latest: dict[str, Document] = {}
        for d in rows:  # the newest document of each kind and subject
            latest[f"{d.kind}:{json.dumps(d.body.get('subject', d.body.get('sources')), sort_keys=True)[:512]}"] = d
        if not latest:
            raise HTTPException(404, "no documents uploaded for this organisation yet")
        inputs = [Input(f"hub:document/{d.id}", d.sha256, d.kind,
                        d.body if d.kind == "catalog" else validate_results(d.body, f"hub:document/{d.id}"))
                  for d in latest.values()]
        rep = build_report(inputs)
        rep["hub"] = {"uplink_batches": s.scalar(select(func.count()).select_from(Batch)
                                                 .where(Batch.org_id == caller.org_id))}
        text = render(rep, fmt, lang)
        if fmt == "html":
            return HTMLResponse(text, headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                                         "script-src 'unsafe-inline'; img-src data:"})
        return Response(text, media_type="application/json")

    return app


def _batch_meta(b: Batch) -> dict[str, Any]:
    return {"batch_id": b.batch_id, "device_id": b.device_id, "received_at": b.received_at.isoformat(),
            "size": b.size, "records": b.records, "messages": b.messages}


def _validate_document(doc: Any) -> str:
    if not isinstance(doc, dict):
        raise HTTPException(422, "a document is a JSON object")
    if doc.get("schema") in (RESULTS_SCHEMA, *LEGACY_RESULTS_SCHEMAS):
        try:
            validate_results(doc, "upload")
        except SchemaError as exc:
            raise HTTPException(422, str(exc)) from None
        return str(doc["component"])
    if doc.get("schema") == CATALOG_SCHEMA:
        from ..report.inputs import validate_catalog

        try:
            validate_catalog(doc, "upload")
        except SchemaError as exc:
            raise HTTPException(422, str(exc)) from None
        return "catalog"
    raise HTTPException(422, f"unknown schema {str(doc.get('schema'))[:80]!r}")
