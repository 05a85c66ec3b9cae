"""Login (JSON, with a session cookie), the OAuth2 password grant, registration and the JWKS."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from ..deps import Platform, platform
from ..model import User

router = APIRouter()


def _user_named(p: Platform, username: Any) -> User | None:
    return next((u for u in p.state.users.values() if u.username == username), None)


@router.get("/.well-known/jwks.json")
def jwks(p: Platform = Depends(platform)) -> dict[str, Any]:
    return {"keys": [] if p.tokens.hs_secret else [p.tokens.jwk]}


def _failed_login(why: str) -> JSONResponse:
    """How some platforms say a login failed: 200, with volatile fields that differ on every answer."""
    import datetime as dt

    return JSONResponse({"ok": False, "error": why, "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(),
                         "request_id": secrets.token_hex(8)})


@router.post("/api/v1/login")
async def login(request: Request, p: Platform = Depends(platform)) -> JSONResponse:
    if p.flaws.login_in_query and "password" in request.query_params:
        body: dict[str, Any] = dict(request.query_params)
    else:
        body = await request.json()
    user = _user_named(p, body.get("username"))
    if user is None and p.flaws.user_enumeration:
        if p.flaws.login_200:
            return _failed_login("no such user")
        raise HTTPException(404, "no such user")
    if user is None or not hmac.compare_digest(user.password, str(body.get("password", ""))):
        if p.flaws.login_200:
            return _failed_login("invalid credentials")
        raise HTTPException(401, "invalid credentials")
    sid = secrets.token_urlsafe(16)
    p.state.sessions[sid] = user.id
    response = JSONResponse({"access_token": p.tokens.issue(user), "token_type": "Bearer", "expires_in": p.tokens.ttl})
    response.set_cookie("sid", sid, httponly=True, secure=True, samesite="lax")
    return response


@router.post("/api/v1/logout", status_code=204)
def logout(request: Request, p: Platform = Depends(platform), authorization: str | None = Header(None)) -> None:
    """Ends the session the request carries: its token and its cookie (``logout_ignored``: neither)."""
    p.caller(request, authorization)
    if p.flaws.logout_ignored:
        return
    if authorization and authorization.startswith("Bearer "):
        p.state.revoked.add(authorization[7:])
    p.state.sessions.pop(request.cookies.get("sid") or "", None)


@router.post("/api/v1/token")
async def oauth2_token(request: Request, p: Platform = Depends(platform)) -> dict[str, Any]:
    """OAuth2 resource-owner password grant, form-encoded (RFC 6749 §4.3)."""
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))  # x-www-form-urlencoded
    if form.get("grant_type") != "password":
        raise HTTPException(400, "unsupported_grant_type")
    user = _user_named(p, form.get("username"))
    if user is None or not hmac.compare_digest(user.password, str(form.get("password", ""))):
        raise HTTPException(400, "invalid_grant")
    return {"access_token": p.tokens.issue(user), "token_type": "Bearer", "expires_in": p.tokens.ttl}


@router.post("/api/v1/register", status_code=201)
async def register(request: Request, p: Platform = Depends(platform)) -> dict[str, Any]:
    body = await request.json()
    name = str(body.get("username", ""))
    if not name or _user_named(p, name) is not None:
        raise HTTPException(409, "username taken")
    uid = f"u-{2000 + len(p.state.users)}"
    role = str(body.get("role", "owner")) if p.flaws.registration_mass_assignment else "owner"
    p.state.users[uid] = User(uid, name, str(body.get("password", "")), role, "", "", "", (0.0, 0.0))
    return {"data": {"user": {"id": uid, "username": name, "role": role}}}
