"""The caller's profile and account, other users' accounts, and the admin user list."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request

from ..deps import Platform, caller, platform
from ..model import User

router = APIRouter()


@router.get("/api/v1/users/me")
def me(u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    # own_api_key: the profile page shows the user their own key for the public API (its function, no leak)
    own = {"api_key": "pk_" + hashlib.sha256(u.id.encode()).hexdigest()[:24]} if p.flaws.own_api_key else {}
    if p.flaws.mass_assignment_hidden:
        return {"id": u.id, "username": u.username, "display_name": u.name, "email": u.email, **own}
    return {"id": u.id, "username": u.username, "role": u.role, "display_name": u.name, "email": u.email, **own}


@router.get("/api/v1/billing")
def billing(u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    """The caller's payment method: the last four digits, unless ``billing_exposure`` hands out everything."""
    if not p.flaws.billing_exposure:
        return {"card": {"last4": u.card[-4:], "brand": "visa" if u.card.startswith("4") else "mastercard"}}
    from ..model import CLOUD_KEYS

    return {"card": {"number": u.card, "cvv": u.cvv, "expiry": "12/29"}, "billingAddress": u.address,
            "integration": dict(CLOUD_KEYS)}


@router.get("/api/v1/account")
def account(u: User = Depends(caller)) -> dict[str, Any]:
    return {"data": {"user": {"id": u.id, "username": u.username, "role": u.role}}}


@router.patch("/api/v1/users/me")
async def update_me(request: Request, u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    body = await request.json()
    if "display_name" in body:
        u.name = str(body["display_name"])[:64]
    if (p.flaws.mass_assignment or p.flaws.mass_assignment_hidden) and "role" in body:
        u.role = str(body["role"])
    user = {"id": u.id, "username": u.username, "role": u.role, "display_name": u.name}
    return {"data": {"user": user}} if p.flaws.mass_assignment_hidden else user


# declared after PATCH /users/me, so that route keeps matching 'me'
@router.patch("/api/v1/users/{user_id}")
async def update_user(user_id: str, request: Request, u: User = Depends(caller),
                      p: Platform = Depends(platform)) -> dict[str, Any]:
    target = u if p.flaws.id_ignored else p.state.users.get(user_id)  # id_ignored: the caller's own record
    if target is None or (target.id != u.id and not p.flaws.password_change_other):
        raise HTTPException(404, "no such user")
    body = await request.json()
    if "email" in body:
        target.email = str(body["email"])
    if "password" in body:
        target.password = str(body["password"])
    return {"id": target.id, "updated": sorted(k for k in body if k in ("email", "password"))}


@router.put("/api/v1/profile")
async def put_profile(request: Request, u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    """The caller's contact details; the body names the account (``account_in_body``: and it is believed)."""
    body = await request.json()
    named = next((x for x in p.state.users.values() if x.username == body.get("username")), None)
    if named is None or (named.id != u.id and not p.flaws.account_in_body):
        raise HTTPException(403, "you can only change your own profile")
    if "email" in body:
        named.email = str(body["email"])
    return {"username": named.username, "email": named.email}


@router.get("/api/v1/admin/users")
def admin_users(u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    if u.role != "admin" and not p.flaws.bfla:
        raise HTTPException(403, "forbidden")
    users = [{"id": x.id, "username": x.username, "phone": x.phone} for x in p.state.users.values()]
    if p.flaws.credentials_in_response:
        for row, x in zip(users, p.state.users.values(), strict=True):
            salt = hashlib.sha256(x.id.encode()).hexdigest()[:22]
            digest = hashlib.sha256(x.password.encode()).hexdigest()[:31]
            row.update(password=x.password, password_hash=f"$2b$12${salt}{digest}")
    return {"users": users}
