"""Password reset: ask for a code (sent out of band: kept in the platform's state), then spend it with a new
password. Securely: one answer whoever asks, an 8-digit code, five wrong codes end the reset (429)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request

from ..deps import Platform, platform

router = APIRouter()
MAX_WRONG = 5


@router.post("/api/v1/password-reset", status_code=202)
async def ask(request: Request, p: Platform = Depends(platform)) -> dict[str, Any]:
    body = await request.json()
    user = next((u for u in p.state.users.values() if u.username == body.get("username")), None)
    if user is None:
        if p.flaws.reset_enumeration:
            raise HTTPException(404, "no such user")
        return {"detail": "if the account exists, a code is on its way"}
    digits = 4 if p.flaws.reset_code_guessable else 8
    code = "".join(secrets.choice("0123456789") for _ in range(digits))
    p.state.resets[user.id] = {"code": code, "wrong": 0}
    answer: dict[str, Any] = {"detail": "if the account exists, a code is on its way"}
    if p.flaws.reset_code_returned:
        answer["reset_code"] = code
    return answer


@router.post("/api/v1/password-reset/confirm")
async def confirm(request: Request, p: Platform = Depends(platform)) -> dict[str, Any]:
    body = await request.json()
    code = str(body.get("code", ""))
    if p.flaws.reset_code_returned:  # looks the code up alone: any account's code resets the one named
        owner = next((uid for uid, r in p.state.resets.items() if secrets.compare_digest(r["code"], code)), None)
        user = next((u for u in p.state.users.values() if u.username == body.get("username")), None) if owner else None
    else:
        user = next((u for u in p.state.users.values() if u.username == body.get("username")), None)
        pending = p.state.resets.get(user.id) if user else None
        if user is None or pending is None:
            raise HTTPException(400, "invalid or expired code")
        if not secrets.compare_digest(pending["code"], code):
            pending["wrong"] += 1
            if pending["wrong"] >= MAX_WRONG and not p.flaws.reset_code_guessable:
                p.state.resets.pop(user.id)
                raise HTTPException(429, "too many wrong codes: ask for a new one")
            raise HTTPException(400, "invalid or expired code")
        owner = user.id
    if user is None or owner is None:
        raise HTTPException(400, "invalid or expired code")
    p.state.resets.pop(owner, None)
    user.password = str(body.get("new_password", user.password))
    return {"detail": "password changed"}
