"""The test vehicle platform (FastAPI): owners, vehicles, trips, notes, notices, RS256 (or HS256) JWTs and a
session cookie at login; every field of :class:`Flaws` switches on one failure."""

from __future__ import annotations

import traceback

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from .deps import Platform
from .model import NAME, Flaws, seed
from .routes import auth, info, notes, reset, users, vehicles
from .tokens import Tokens


def _security_headers(app: FastAPI, flaws: Flaws) -> None:
    """Errors answered without (or, under ``verbose_errors``, with) a stack trace; HSTS, CORS and server
    headers as the flaws say."""
    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        try:
            response = await call_next(request)
        except Exception:  # the platform's last line: an unhandled error becomes a 500 answer
            if flaws.verbose_errors:
                return PlainTextResponse(traceback.format_exc(), status_code=500)
            return JSONResponse({"detail": "internal error"}, status_code=500)
        if not flaws.no_hsts:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        origin = request.headers.get("origin")
        if flaws.cors and origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Cache-Control"] = "no-store"
        if flaws.header_disclosure:
            response.headers["X-Powered-By"] = "FastAPI/0.110.0"
            response.headers["Server"] = "uvicorn/0.29.0 (Debian)"
        return response


def create_app(flaws: set[str] | Flaws | None = None, identity_claim: str = "sub", token_ttl: int = 900) -> FastAPI:
    """``identity_claim`` names the JWT claim that identifies the caller; with ``user_id`` every token's ``sub``
    is the app's client id, as on many real platforms. Login sets a session cookie as well as returning a
    token, and either authenticates."""
    on = flaws if isinstance(flaws, Flaws) else Flaws.of(flaws)
    tokens = Tokens(on, identity_claim, token_ttl)
    app = FastAPI(title=NAME, version="1.0", docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.state.platform = seed(on)
    app.state.deps = Platform(app.state.platform, tokens)
    app.state.private_pem = tokens.private_pem()
    _security_headers(app, on)
    app.include_router(info.router)
    if on.undocumented_endpoint:
        app.include_router(info.debug_router)
    for module in (auth, reset, users, notes, vehicles):
        app.include_router(module.router)
    return app
