"""What every route needs: the platform (state, flaws, tokens) and the authenticated caller."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fastapi import Header, HTTPException, Request

from .model import Flaws, State, User
from .tokens import Tokens

RATE_LIMIT_PER_S = 50


@dataclass
class Platform:
    state: State
    tokens: Tokens

    @property
    def flaws(self) -> Flaws:
        return self.state.flaws

    def caller(self, request: Request, authorization: str | None) -> User:
        """The user a bearer token (or, under ``token_in_query``, a query token) or the session cookie names."""
        token = None
        if authorization and authorization.startswith("Bearer "):
            token = authorization[7:]
        elif self.flaws.token_in_query:
            token = request.query_params.get("access_token") or request.query_params.get("token")
        if token and token in self.state.revoked:
            raise HTTPException(401, "logged out")
        if token:
            try:
                claims = self.tokens.verify(token)
            except HTTPException:
                if not self.flaws.default_user:
                    raise
                claims = {self.tokens.identity_claim: "u-1001"}
            user = self.state.users.get(str(claims.get(self.tokens.identity_claim)))
            if user is None:
                raise HTTPException(401, "unknown subject")
        else:
            user = self.state.users.get(self.state.sessions.get(request.cookies.get("sid") or "", ""))
            if user is None and self.flaws.default_user:
                user = self.state.users["u-1001"]
            if user is None:
                raise HTTPException(401, "authentication required")
        self.limit(user.id)
        return user

    def limit(self, who: str) -> None:
        """More than ``RATE_LIMIT_PER_S`` requests of one user in a second: 429 (unless ``no_rate_limit``)."""
        if self.flaws.no_rate_limit:
            return
        now = time.monotonic()
        hits = [t for t in self.state.hits.get(who, []) if now - t < 1.0]
        hits.append(now)
        self.state.hits[who] = hits
        if len(hits) > RATE_LIMIT_PER_S:
            raise HTTPException(429, "rate limit", headers={"Retry-After": "1"})

    def vehicle_for(self, user: User, vin: str) -> dict[str, Any]:
        v = self.state.vehicles.get(vin)
        if v is None or (not self.flaws.bola and v["owner"] != user.id and user.role != "admin"):
            raise HTTPException(404, "no such vehicle")
        return v

    def note_for(self, user: User, nid: str) -> dict[str, Any]:
        """A note its owner (or, under ``cross_user_write``, anyone) may change."""
        n = self.state.notes.get(nid)
        if n is None or (n["owner"] != user.id and not self.flaws.cross_user_write):
            raise HTTPException(404, "no such note")
        return n


def platform(request: Request) -> Platform:
    return request.app.state.deps


def caller(request: Request, authorization: str | None = Header(None)) -> User:
    return platform(request).caller(request, authorization)
