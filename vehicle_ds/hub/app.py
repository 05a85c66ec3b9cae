"""The hub's HTTP API. Every endpoint but /health, /.well-known/jwks.json, login and the device flows
needs a token, checked against the current users and devices (a revoked one stops working at once); every
query is scoped to the caller's organisation (a device writes only its own data, an engineer sees only
their organisation's), and a foreign id answers 404, like a missing one. Bad input is a 4xx, never a 5xx."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import secrets
import uuid
from pathlib import Path
from typing import Any

import anyio
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from .db import Batch, DatasetObservation, Device, Document, Enrollment, Org, User, make_engine, now, sessions
from .deps import Auth, Caller
from .ingest import (
    BATCH_TYPES,
    MAX_BATCH_BYTES,
    MAX_DOCUMENT_BYTES,
    outcomes_of,
    parse_batch,
    parse_document,
    read_limited,
    require_type,
    subject_key,
    summary_of,
)
from .monitor import DOCUMENT_RULES, Deliverer, MonitorSettings, record, rule_new_unknown_ids
from .security import (
    _DUMMY_HASH,
    AUD_DEVICE,
    AUD_USER,
    DEVICE_TTL_S,
    USER_TTL_S,
    Keys,
    check_secret,
    code_digest,
    default_key_file,
    hash_secret,
)

ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class EnrollmentRequest(BaseModel):
    vehicle_ref: str = Field(min_length=1, max_length=64, pattern=ID)
    valid_hours: int = Field(default=24, ge=1, le=720)


class Enroll(BaseModel):
    code: str = Field(min_length=8, max_length=128)
    device_id: str = Field(min_length=3, max_length=64, pattern=ID)


class DeviceToken(BaseModel):
    device_id: str = Field(min_length=3, max_length=64)
    device_secret: str = Field(min_length=16, max_length=128)


class Error(BaseModel):
    detail: Any


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {400: "bad request", 401: "authentication required or token invalid/revoked", 403: "not allowed",
            404: "not found (or not yours)", 409: "conflict", 413: "body too large", 415: "wrong Content-Type",
            422: "invalid input", 429: "rate limit (see Retry-After)", 503: "busy (see Retry-After)"}
    return {c: {"model": Error, "description": text[c]} for c in codes}


BATCH_BODY = {"requestBody": {"required": True, "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                                             for t in BATCH_TYPES}}}
DOCUMENT_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "a vehicle-ds results (@1/@2) or catalog document",
    "required": ["schema"], "properties": {"schema": {"type": "string"}}}}}}}


def create_app(db_url: str = "sqlite:///vehicle-ds-hub.db", *, key_file: Path | None = None,
               monitor: MonitorSettings | None = None, decode_concurrency: int = 2,
               background: bool = True, rate_scale: float = 1.0, bench_noop: bool = False) -> FastAPI:
    engine = make_engine(db_url)
    Sessions = sessions(engine)
    keys = Keys(key_file or default_key_file(db_url))
    auth = Auth(keys, Sessions, rate_scale)
    settings = monitor or MonitorSettings()
    decode_slots = anyio.CapacityLimiter(decode_concurrency)
    deliverer = Deliverer(Sessions, settings)
    app = FastAPI(title="vehicle-ds hub", version="2", docs_url="/docs", redoc_url=None)
    app.state.sessions, app.state.keys, app.state.deliverer, app.state.settings = Sessions, keys, deliverer, settings
    if background:
        app.router.on_startup.append(deliverer.start)
        app.router.on_shutdown.append(deliverer.stop)
    from ..classifier import Classifier
    from ..classifier import Field as DataField
    from ..policy import load_policy

    classifier = Classifier(load_policy())
    @functools.lru_cache(maxsize=100_000)  # a fleet's batches repeat the same few hundred signals
    def classify(message: str, signal: str):
        return classifier.classify(DataField(name=signal, message=message))

    def db():
        with Sessions() as s:
            yield s

    @app.middleware("http")
    async def headers(request: Request, call_next):
        try:
            response = await call_next(request)
        except Exception:  # never a stack trace to the client; the log has it
            logging.getLogger("vehicle_ds.hub").exception("internal error on %s %s", request.method, request.url.path)
            response = JSONResponse({"detail": "internal error"}, status_code=500)
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        if not request.url.path.startswith("/docs"):
            response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        return response

    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def http_errors(request: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI answers a body it cannot parse with 400; everywhere else bad input is 422: one code, documented
        code = 422 if exc.status_code == 400 else exc.status_code
        return JSONResponse({"detail": exc.detail}, status_code=code, headers=getattr(exc, "headers", None))

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/.well-known/jwks.json")
    def jwks() -> dict[str, Any]:
        return keys.jwks()

    @app.post("/api/v1/auth/login", dependencies=[Depends(auth.address)], responses=errors(401, 422, 429))
    def login(body: Login, s: Session = Depends(db)) -> dict[str, Any]:
        u = s.scalar(select(User).where(User.username == body.username))
        if not check_secret(body.password, u.pw_hash if u else _DUMMY_HASH) or u is None or not u.active:
            raise HTTPException(401, "invalid credentials")
        token = keys.issue(u.username, AUD_USER, USER_TTL_S, role=u.role, org=u.org_id)
        return {"access_token": token, "token_type": "Bearer", "expires_in": USER_TTL_S}

    @app.get("/api/v1/users/me", responses=errors(401, 429))
    def me(caller: Caller = Depends(auth.user), s: Session = Depends(db)) -> dict[str, Any]:
        org = s.get(Org, caller.org_id)
        return {"username": caller.sub, "role": caller.role, "org": org.name if org else None}

    @app.get("/api/v1/admin/users", responses=errors(401, 403, 429))
    def users(caller: Caller = Depends(auth.admin), s: Session = Depends(db)) -> dict[str, Any]:
        rows = s.scalars(select(User).where(User.org_id == caller.org_id).order_by(User.username)).all()
        return {"users": [{"username": u.username, "role": u.role, "active": u.active} for u in rows]}

    @app.delete("/api/v1/admin/users/{username}", responses=errors(401, 403, 404, 409, 429))
    def revoke_user(username: str, caller: Caller = Depends(auth.admin), s: Session = Depends(db)) -> dict[str, Any]:
        u = s.scalar(select(User).where(User.username == username, User.org_id == caller.org_id))
        if u is None:
            raise HTTPException(404, "no such user")
        if u.username == caller.sub:
            raise HTTPException(409, "an administrator cannot revoke themselves")
        u.active = False
        s.commit()
        return {"username": username, "active": False}

    @app.delete("/api/v1/admin/devices/{device_id}", responses=errors(401, 403, 404, 429))
    def revoke_device(device_id: str, caller: Caller = Depends(auth.admin), s: Session = Depends(db)) -> dict[str, Any]:
        d = s.get(Device, device_id)
        if d is None or d.org_id != caller.org_id:
            raise HTTPException(404, "no such device")
        d.revoked_at = now()
        s.commit()
        return {"device_id": device_id, "revoked": True}

    @app.post("/api/v1/admin/enrollments", status_code=201, responses=errors(401, 403, 422, 429))
    def create_enrollment(body: EnrollmentRequest, caller: Caller = Depends(auth.admin),
                          s: Session = Depends(db)) -> dict[str, Any]:
        code = secrets.token_urlsafe(24)
        expires = now() + dt.timedelta(hours=body.valid_hours)
        s.add(Enrollment(code_hash=code_digest(code), org_id=caller.org_id, vehicle_ref=body.vehicle_ref,
                         expires_at=expires))
        s.commit()
        return {"code": code, "vehicle_ref": body.vehicle_ref, "expires_at": expires.isoformat()}

    @app.post("/api/v1/devices/enroll", status_code=201, dependencies=[Depends(auth.address)],
              responses=errors(401, 409, 422, 429))
    def enroll(body: Enroll, s: Session = Depends(db)) -> dict[str, Any]:
        digest = code_digest(body.code)
        # single use, decided by the database: of parallel attempts with one code, one update matches
        claimed = s.execute(update(Enrollment).where(Enrollment.code_hash == digest, Enrollment.used_at.is_(None),
                                                     Enrollment.expires_at > now()).values(used_at=now()))
        if claimed.rowcount != 1:
            s.rollback()
            raise HTTPException(401, "invalid, expired or used enrollment code")
        e = s.get(Enrollment, digest)
        secret = secrets.token_urlsafe(32)
        s.add(Device(device_id=body.device_id, org_id=e.org_id, vehicle_ref=e.vehicle_ref,
                     secret_hash=hash_secret(secret)))
        try:
            s.commit()
        except IntegrityError:  # the device id exists: the code stays unused (the update is rolled back too)
            s.rollback()
            raise HTTPException(409, "device id already enrolled") from None
        return {"device_id": body.device_id, "device_secret": secret, "vehicle_ref": e.vehicle_ref}

    @app.post("/api/v1/devices/token", dependencies=[Depends(auth.address)], responses=errors(401, 422, 429))
    def device_token(body: DeviceToken, s: Session = Depends(db)) -> dict[str, Any]:
        d = s.get(Device, body.device_id)
        if not check_secret(body.device_secret, d.secret_hash if d else _DUMMY_HASH) or d is None or d.revoked_at:
            raise HTTPException(401, "invalid device credentials")
        token = keys.issue(d.device_id, AUD_DEVICE, DEVICE_TTL_S, org=d.org_id, vehicle=d.vehicle_ref)
        return {"access_token": token, "token_type": "Bearer", "expires_in": DEVICE_TTL_S}

    @app.post("/api/v1/uplink", status_code=201, openapi_extra=BATCH_BODY,
              responses={200: {"description": "already stored (this device's own retry)"},
                         **errors(401, 403, 409, 413, 415, 422, 429, 503)})
    async def uplink(request: Request, caller: Caller = Depends(auth.device)) -> Response:
        require_type(request, BATCH_TYPES)
        raw = await read_limited(request, MAX_BATCH_BYTES)
        with anyio.move_on_after(30) as wait:  # decoding slots: a flood of huge batches queues, then 503
            async with decode_slots:
                parsed = await anyio.to_thread.run_sync(parse_batch, raw, settings, classify)
        if wait.cancelled_caught:
            raise HTTPException(503, "hub busy decoding", headers={"Retry-After": "5"})
        if request.headers.get("x-batch-id", parsed.batch_id) != parsed.batch_id:
            raise HTTPException(422, "X-Batch-Id does not match the batch")
        if parsed.device != caller.sub:  # a device writes only its own data
            raise HTTPException(403, "batch belongs to another device")
        return await run_in_threadpool(_store_batch, parsed, caller, raw)

    def observe_datasets(s: Session, caller: Caller, observed: dict[str, dict[str, Any]]) -> None:
        for cat, o in observed.items():
            row = s.get(DatasetObservation, (caller.org_id, cat[:64], caller.sub))
            if row is None:
                row = DatasetObservation(org_id=caller.org_id, category=cat[:64], device_id=caller.sub, records=0,
                                         regions=[])
                s.add(row)
            row.records += o["records"]
            if o["regions"] - set(row.regions):
                row.regions = sorted(set(row.regions) | o["regions"])[:1000]
            row.last_seen = now()

    def _store_batch(parsed, caller: Caller, raw: bytes) -> Response:
        with Sessions() as s:
            try:
                s.add(Batch(batch_id=parsed.batch_id, device_id=caller.sub, org_id=caller.org_id, size=len(raw),
                            records=parsed.records, messages=parsed.messages, body=raw))
                s.execute(update(Device).where(Device.device_id == caller.sub).values(last_seen=now()))
                s.commit()
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

    @app.get("/api/v1/uplink/batches", responses=errors(401, 422, 429))
    def batches(caller: Caller = Depends(auth.user), s: Session = Depends(db),
                limit: int = Query(50, ge=1, le=100), offset: int = Query(0, ge=0, le=10_000_000)) -> dict[str, Any]:
        q = select(Batch).where(Batch.org_id == caller.org_id).order_by(Batch.received_at).limit(limit).offset(offset)
        total = s.scalar(select(func.count()).select_from(Batch).where(Batch.org_id == caller.org_id))
        return {"total": total, "batches": [_batch_meta(b) for b in s.scalars(q)]}

    @app.get("/api/v1/uplink/batches/{batch_id}", responses=errors(401, 404, 429))
    def batch(batch_id: str, caller: Caller = Depends(auth.user), s: Session = Depends(db)) -> dict[str, Any]:
        b = s.get(Batch, batch_id[:64])
        if b is None or b.org_id != caller.org_id:
            raise HTTPException(404, "no such batch")
        return _batch_meta(b)

    @app.post("/api/v1/documents", status_code=201, openapi_extra=DOCUMENT_BODY,
              responses={200: {"description": "already stored"}, **errors(401, 413, 415, 422, 429)})
    async def upload_document(request: Request, caller: Caller = Depends(auth.user)) -> Response:
        require_type(request, ("application/json",))
        raw = await read_limited(request, MAX_DOCUMENT_BYTES)
        doc, kind, digest = await anyio.to_thread.run_sync(parse_document, raw, limiter=decode_slots)
        return await run_in_threadpool(_store_document, caller, doc, kind, digest)

    def _store_document(caller: Caller, doc: dict, kind: str, digest: str) -> Response:
        with Sessions() as s:
            found = s.scalar(select(Document).where(Document.org_id == caller.org_id, Document.sha256 == digest))
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
            except IntegrityError:
                s.rollback()
                found = s.scalar(select(Document).where(Document.org_id == caller.org_id, Document.sha256 == digest))
                return JSONResponse({"id": found.id if found else None, "stored": False}, status_code=200)
        return JSONResponse({"id": d.id, "kind": kind, "stored": True}, status_code=201)

    @app.get("/api/v1/documents", responses=errors(401, 422, 429))
    def documents(caller: Caller = Depends(auth.user), s: Session = Depends(db),
                  limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=10_000_000)) -> dict[str, Any]:
        rows = s.execute(select(Document.id, Document.kind, Document.sha256, Document.uploaded_by, Document.created_at)
                         .where(Document.org_id == caller.org_id).order_by(Document.created_at)
                         .limit(limit).offset(offset)).all()
        return {"documents": [{"id": r.id, "kind": r.kind, "sha256": r.sha256, "uploaded_by": r.uploaded_by,
                               "created_at": r.created_at.isoformat()} for r in rows]}

    @app.get("/api/v1/documents/{doc_id}", responses=errors(401, 404, 429))
    def document(doc_id: str, caller: Caller = Depends(auth.user), s: Session = Depends(db)) -> dict[str, Any]:
        d = s.get(Document, doc_id[:32])
        if d is None or d.org_id != caller.org_id:
            raise HTTPException(404, "no such document")
        return d.body

    @app.get("/api/v1/datasets/observed", responses=errors(401, 429))
    def datasets_observed(caller: Caller = Depends(auth.user), s: Session = Depends(db)) -> dict[str, Any]:
        """Per category of uplinked data: records, distinct (pseudonymous) vehicles, regions, period: the facts
        `vehicle-ds datasets --observed` grades. Persons are not observable here (a vehicle is not a person)."""
        rows = s.scalars(select(DatasetObservation).where(DatasetObservation.org_id == caller.org_id)).all()
        cats: dict[str, dict[str, Any]] = {}
        for r in rows:
            c = cats.setdefault(r.category, {"category": r.category, "records": 0, "vehicles": 0, "regions": set(),
                                             "first": r.first_seen, "last": r.last_seen})
            c["records"] += r.records
            c["vehicles"] += 1
            c["regions"] |= set(r.regions)
            c["first"], c["last"] = min(c["first"], r.first_seen), max(c["last"], r.last_seen)
        if "location" in cats:  # positions inside sensitive areas, as the vehicles' own results count them
            hits = 0
            for summary in s.scalars(select(Document.summary).where(Document.org_id == caller.org_id,
                                                                    Document.kind == "edge", Document.latest.is_(True))):
                hits += sum(((summary or {}).get("summary", {}).get("geofence") or {}).get("positions_inside", {}).values())
            cats["location"]["sensitive_area_hits"] = hits
        return {"categories": [{**c, "regions": sorted(c["regions"]), "first": c["first"].isoformat(),
                                "last": c["last"].isoformat()} for c in sorted(cats.values(), key=lambda c: c["category"])]}

    @app.get("/api/v1/reports/current", responses=errors(401, 404, 422, 429))
    def report(caller: Caller = Depends(auth.user), fmt: str = Query("json", alias="format", pattern="^(json|html)$"),
               lang: str = Query("en", pattern="^(en|zh)$")) -> Response:
        auth.limit("r:" + caller.sub, auth.report)
        from .reporting import current_report

        text = current_report(Sessions, caller.org_id, fmt, lang)
        if text is None:
            raise HTTPException(404, "no documents uploaded for this organisation yet")
        # the hub signs what it serves: an ES256 token over the body's sha256, verifiable with its JWKS
        signed = {"X-VDS-Report-Signature": keys.sign_digest(hashlib.sha256(text.encode("utf-8")).hexdigest(),
                                                             org=caller.org_id)}
        if fmt == "html":
            return HTMLResponse(text, headers={**signed, "Content-Security-Policy": "default-src 'none'; style-src "
                                               "'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"})
        return Response(text, media_type="application/json", headers=signed)

    if bench_noop:  # benchmarks/hub_ingest.py: the same body reading and auth, nothing stored
        @app.post("/bench/noop", status_code=201, include_in_schema=False)
        async def noop(request: Request, caller: Caller = Depends(auth.device)) -> Response:
            require_type(request, BATCH_TYPES)
            raw = await read_limited(request, MAX_BATCH_BYTES)
            return JSONResponse({"bytes": len(raw)}, 201)

    from .routes_ops import ops_router

    app.include_router(ops_router(auth, db, errors))
    return app


def _batch_meta(b: Batch) -> dict[str, Any]:
    return {"batch_id": b.batch_id, "device_id": b.device_id, "received_at": b.received_at.isoformat(),
            "size": b.size, "records": b.records, "messages": b.messages}


def from_environment() -> FastAPI:
    """The app of `vehicle-ds hub serve --workers N` (uvicorn imports it in every worker)."""
    import os
    import sys

    hub_log = logging.getLogger("vehicle_ds.hub")
    if not any(isinstance(h, logging.StreamHandler) for h in hub_log.handlers):
        hub_log.addHandler(logging.StreamHandler(sys.stderr))
        hub_log.setLevel(logging.INFO)

    return create_app(os.environ.get("VEHICLE_DS_HUB_DB", "sqlite:///vehicle-ds-hub.db"),
                      key_file=Path(os.environ["VEHICLE_DS_HUB_KEY_FILE"]) if os.environ.get("VEHICLE_DS_HUB_KEY_FILE")
                      else None, rate_scale=float(os.environ.get("VEHICLE_DS_HUB_RATE_SCALE", "1")),
                      bench_noop=os.environ.get("VEHICLE_DS_HUB_BENCH_NOOP") == "1")

