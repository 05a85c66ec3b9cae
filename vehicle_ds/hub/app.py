"""The hub's HTTP API. Every endpoint but /health, /.well-known/jwks.json, login and the device flows
needs a token, checked against the current users and devices (a revoked one stops working at once); every
query is scoped to the caller's organisation (a device writes only its own data, an engineer sees only
their organisation's), and a foreign id answers 404, like a missing one. Bad input is a 4xx, never a 5xx.

The shape of the full-stack FastAPI template: routes per resource (``routes/``), dependencies (``deps``),
request schemas (``schemas``) and storage (``store``, ``db``); this module only assembles them."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .db import make_engine, sessions
from .deps import Auth, Hub
from .monitor import Deliverer, MonitorSettings
from .routes import accounts, areas, documents, incidents, uplink
from .security import Keys, default_key_file

_SECURITY_HEADERS = {"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
                     "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _classifier() -> Any:
    from ..classifier import Classifier
    from ..classifier import Field as DataField
    from ..policy import load_policy

    classifier = Classifier(load_policy())

    @functools.lru_cache(maxsize=100_000)  # a fleet's batches repeat the same few hundred signals
    def classify(message: str, signal: str):
        return classifier.classify(DataField(name=signal, message=message))

    return classify


def _answers(app: FastAPI) -> None:
    """Security headers on every answer, no stack trace to a client, one code (422) for bad input."""
    @app.middleware("http")
    async def headers(request: Request, call_next):
        try:
            response = await call_next(request)
        except Exception:  # the hub's isolation point: never a stack trace to the client; the log has it
            logging.getLogger("vehicle_ds.hub").exception("internal error on %s %s", request.method, request.url.path)
            response = JSONResponse({"detail": "internal error"}, status_code=500)
        response.headers.update(_SECURITY_HEADERS)
        if not request.url.path.startswith("/docs"):
            response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_errors(request: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI answers a body it cannot parse with 400; everywhere else bad input is 422: one code, documented
        code = 422 if exc.status_code == 400 else exc.status_code
        headers = dict(getattr(exc, "headers", None) or {})
        if code == 405:  # Starlette names only the first route of the path; the path may have several
            allow = _allowed(app, request)
            headers["Allow"] = ", ".join(allow)
            if request.method == "OPTIONS":  # RFC 9110 §9.3.7: OPTIONS says what the resource supports
                return Response(status_code=204, headers=headers)
        return JSONResponse({"detail": exc.detail}, status_code=code, headers=headers or None)


def _allowed(app: FastAPI, request: Request) -> list[str]:
    """Every method some route serves on the request's path, OPTIONS included."""
    from starlette.routing import Match

    def leaves(routes):  # FastAPI keeps included routers whole; their routes carry the full path
        for route in routes:
            inner = getattr(route, "original_router", None)
            yield from leaves(inner.routes) if inner is not None else (route,)

    methods = {"OPTIONS"}
    for route in leaves(app.routes):
        match, _ = route.matches({**request.scope, "method": next(iter(getattr(route, "methods", None) or {"GET"}))})
        if match == Match.FULL:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def create_app(db_url: str = "sqlite:///vehicle-ds-hub.db", *, key_file: Path | None = None,
               monitor: MonitorSettings | None = None, decode_concurrency: int = 2,
               background: bool = True, rate_scale: float = 1.0, bench_noop: bool = False,
               processes: int = 1) -> FastAPI:
    """The hub on the database ``db_url``; ``rate_scale`` multiplies every rate limit (load tests and the
    fuzzer raise them), ``background`` runs the webhook deliverer, ``bench_noop`` adds the ingest benchmark's
    no-op endpoint, ``processes`` the worker processes sharing the hub (each keeps its share of every
    rate limit)."""
    Sessions = sessions(make_engine(db_url))
    keys = Keys(key_file or default_key_file(db_url))
    settings = monitor or MonitorSettings()
    deliverer = Deliverer(Sessions, settings)
    app = FastAPI(title="vehicle-ds hub", version="2", docs_url="/docs", redoc_url=None)
    app.state.hub = Hub(Sessions, keys, Auth(keys, Sessions, rate_scale, processes), settings,
                        anyio.CapacityLimiter(decode_concurrency), _classifier())
    if background:
        app.router.on_startup.append(deliverer.start)
        app.router.on_shutdown.append(deliverer.stop)
    _answers(app)
    for module in (accounts, uplink, documents, incidents, areas):
        app.include_router(module.router)
    if bench_noop:
        app.include_router(uplink.bench_router)
    return app


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
                      bench_noop=os.environ.get("VEHICLE_DS_HUB_BENCH_NOOP") == "1",
                      processes=int(os.environ.get("VEHICLE_DS_HUB_WORKERS", "1")))
