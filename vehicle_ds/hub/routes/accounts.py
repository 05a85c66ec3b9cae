"""Logins and tokens, users, device enrolment and revocation."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import Device, Enrollment, Org, User, now
from ..deps import Caller, Hub, address, admin, db, hub, user
from ..schemas import DeviceToken, Enroll, EnrollmentRequest, Login, errors
from ..security import _DUMMY_HASH, AUD_DEVICE, AUD_USER, DEVICE_TTL_S, USER_TTL_S, check_secret, code_digest, hash_secret

router = APIRouter()


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/.well-known/jwks.json")
def jwks(h: Hub = Depends(hub)) -> dict[str, Any]:
    return h.keys.jwks()


@router.post("/api/v1/auth/login", dependencies=[Depends(address)], responses=errors(401, 422, 429))
def login(body: Login, s: Session = Depends(db), h: Hub = Depends(hub)) -> dict[str, Any]:
    u = s.scalar(select(User).where(User.username == body.username))
    # the hash is checked even for an unknown user, so timing does not tell who exists
    if not check_secret(body.password, u.pw_hash if u else _DUMMY_HASH) or u is None or not u.active:
        raise HTTPException(401, "invalid credentials")
    token = h.keys.issue(u.username, AUD_USER, USER_TTL_S, role=u.role, org=u.org_id)
    return {"access_token": token, "token_type": "Bearer", "expires_in": USER_TTL_S}


@router.get("/api/v1/users/me", responses=errors(401, 429))
def me(caller: Caller = Depends(user), s: Session = Depends(db)) -> dict[str, Any]:
    org = s.get(Org, caller.org_id)
    return {"username": caller.sub, "role": caller.role, "org": org.name if org else None}


@router.get("/api/v1/admin/users", responses=errors(401, 403, 429))
def users(caller: Caller = Depends(admin), s: Session = Depends(db)) -> dict[str, Any]:
    rows = s.scalars(select(User).where(User.org_id == caller.org_id).order_by(User.username)).all()
    return {"users": [{"username": u.username, "role": u.role, "active": u.active} for u in rows]}


@router.delete("/api/v1/admin/users/{username}", responses=errors(401, 403, 404, 409, 429))
def revoke_user(username: str, caller: Caller = Depends(admin), s: Session = Depends(db)) -> dict[str, Any]:
    u = s.scalar(select(User).where(User.username == username, User.org_id == caller.org_id))
    if u is None:
        raise HTTPException(404, "no such user")
    if u.username == caller.sub:
        raise HTTPException(409, "an administrator cannot revoke themselves")
    u.active = False
    s.commit()
    return {"username": username, "active": False}


@router.delete("/api/v1/admin/devices/{device_id}", responses=errors(401, 403, 404, 429))
def revoke_device(device_id: str, caller: Caller = Depends(admin), s: Session = Depends(db)) -> dict[str, Any]:
    d = s.get(Device, device_id)
    if d is None or d.org_id != caller.org_id:
        raise HTTPException(404, "no such device")
    d.revoked_at = now()
    s.commit()
    return {"device_id": device_id, "revoked": True}


@router.post("/api/v1/admin/enrollments", status_code=201, responses=errors(401, 403, 422, 429))
def create_enrollment(body: EnrollmentRequest, caller: Caller = Depends(admin),
                      s: Session = Depends(db)) -> dict[str, Any]:
    code = secrets.token_urlsafe(24)
    expires = now() + dt.timedelta(hours=body.valid_hours)
    s.add(Enrollment(code_hash=code_digest(code), org_id=caller.org_id, vehicle_ref=body.vehicle_ref,
                     expires_at=expires))
    s.commit()
    return {"code": code, "vehicle_ref": body.vehicle_ref, "expires_at": expires.isoformat()}


@router.post("/api/v1/devices/enroll", status_code=201, dependencies=[Depends(address)],
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
    s.add(Device(device_id=body.device_id, org_id=e.org_id, vehicle_ref=e.vehicle_ref, secret_hash=hash_secret(secret)))
    try:
        s.commit()
    except IntegrityError:  # the device id exists: the code stays unused (the update is rolled back too)
        s.rollback()
        raise HTTPException(409, "device id already enrolled") from None
    return {"device_id": body.device_id, "device_secret": secret, "vehicle_ref": e.vehicle_ref}


@router.post("/api/v1/devices/token", dependencies=[Depends(address)], responses=errors(401, 422, 429))
def device_token(body: DeviceToken, s: Session = Depends(db), h: Hub = Depends(hub)) -> dict[str, Any]:
    d = s.get(Device, body.device_id)
    if not check_secret(body.device_secret, d.secret_hash if d else _DUMMY_HASH) or d is None or d.revoked_at:
        raise HTTPException(401, "invalid device credentials")
    token = h.keys.issue(d.device_id, AUD_DEVICE, DEVICE_TTL_S, org=d.org_id, vehicle=d.vehicle_ref)
    return {"access_token": token, "token_type": "Bearer", "expires_in": DEVICE_TTL_S}
