"""Who is calling: token verification, revocation against the current users and devices, rate limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import HTTPException, Request
from sqlalchemy.orm import Session

from .db import Device, User
from .security import AUD_DEVICE, AUD_USER, PER_IDENTITY_BURST, PER_IDENTITY_RATE, Keys, RateLimiter

REPORT_RATE, REPORT_BURST = 0.2, 3  # the report is the one expensive read: its own, tighter bucket


@dataclass
class Caller:
    sub: str
    org_id: int
    role: str  # engineer | admin | device


class Auth:
    def __init__(self, keys: Keys, sessions, scale: float = 1.0, processes: int = 1) -> None:
        """``scale`` multiplies every limit (a load test or a fuzzing run raises them; production keeps 1).
        ``processes``: the worker processes serving the hub. The buckets live in each process, so each holds
        its share (rate and burst divided): the sum across workers never exceeds the documented limit (a
        client whose requests all reach one worker gets less, never more)."""
        self.keys, self.sessions = keys, sessions
        share = scale / max(1, processes)
        self.per_identity = RateLimiter(rate=PER_IDENTITY_RATE * share, burst=PER_IDENTITY_BURST * share)
        self.per_address = RateLimiter(rate=10 * share, burst=20 * share)  # login and device flows: nobody known yet
        self.report = RateLimiter(rate=REPORT_RATE * share, burst=REPORT_BURST * share)

    @staticmethod
    def bearer(request: Request) -> str:
        h = request.headers.get("authorization", "")
        if not h.lower().startswith("bearer ") or len(h) > 4096:
            raise HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
        return h[7:].strip()

    def _claims(self, request: Request, audience: str) -> dict:
        try:
            return self.keys.verify(self.bearer(request), audience)
        except jwt.PyJWTError:
            raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"}) from None

    def limit(self, key: str, bucket: RateLimiter | None = None) -> None:
        if not (bucket or self.per_identity).allow(key):
            raise HTTPException(429, "rate limit", headers={"Retry-After": "1"})

    def user(self, request: Request) -> Caller:
        c = self._claims(request, AUD_USER)
        if c.get("role") not in ("engineer", "admin") or not isinstance(c.get("org"), int):
            raise HTTPException(401, "invalid token")
        self.limit("u:" + str(c["sub"]))
        with self.sessions() as s:  # a deleted or demoted user's token stops working now, not at expiry
            from sqlalchemy import select

            u = s.scalar(select(User).where(User.username == str(c["sub"])))
            if u is None or not u.active or u.org_id != c["org"] or u.role != c["role"]:
                raise HTTPException(401, "token revoked", headers={"WWW-Authenticate": "Bearer"})
        return Caller(str(c["sub"]), int(c["org"]), str(c["role"]))

    def admin(self, request: Request) -> Caller:
        caller = self.user(request)
        if caller.role != "admin":
            raise HTTPException(403, "admin role required")
        return caller

    def device(self, request: Request) -> Caller:
        c = self._claims(request, AUD_DEVICE)
        if not isinstance(c.get("org"), int):
            raise HTTPException(401, "invalid token")
        self.limit("d:" + str(c["sub"]))
        with self.sessions() as s:
            d = s.get(Device, str(c["sub"]))
            if d is None or d.revoked_at is not None or d.org_id != c["org"]:
                raise HTTPException(401, "token revoked", headers={"WWW-Authenticate": "Bearer"})
        return Caller(str(c["sub"]), int(c["org"]), "device")

    def address(self, request: Request) -> None:
        if not self.per_address.allow("a:" + (request.client.host if request.client else "?")):
            raise HTTPException(429, "rate limit", headers={"Retry-After": "1"})


@dataclass
class Hub:
    """One app's shared parts, on ``app.state.hub``: what the routes reach through the dependencies below."""

    sessions: Any
    keys: Keys
    auth: Auth
    settings: Any  # MonitorSettings
    decode_slots: Any  # anyio.CapacityLimiter: batches decoded at once
    classify: Callable[[str, str], Any]  # (message, signal) -> the policy's classification, cached


def hub(request: Request) -> Hub:
    return request.app.state.hub


def db(request: Request) -> Iterator[Session]:
    with hub(request).sessions() as s:
        yield s


def user(request: Request) -> Caller:
    """An engineer or admin of an organisation, by a current user token."""
    return hub(request).auth.user(request)


def admin(request: Request) -> Caller:
    return hub(request).auth.admin(request)


def device(request: Request) -> Caller:
    """An enrolled, unrevoked device, by a device token."""
    return hub(request).auth.device(request)


def address(request: Request) -> None:
    """The per-address rate limit of the flows where nobody is known yet (login, enrolment)."""
    hub(request).auth.address(request)
