"""Health, plain informational pages (so a profile can list 30 endpoints) and, under
``undocumented_endpoint``, an unlisted debug page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from ..deps import caller
from ..model import User

router = APIRouter()
debug_router = APIRouter()  # included only with the undocumented_endpoint flaw
INFO_PAGES = 21


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


def _info_page(n: int):
    def info(_u: User = Depends(caller)) -> dict[str, Any]:
        return {"page": n, "text": "service information"}
    return info


for _n in range(1, INFO_PAGES + 1):
    router.get(f"/api/v1/info/{_n}")(_info_page(_n))


@debug_router.get("/api/v1/debug/env")
def debug_env() -> dict[str, Any]:
    return {"PATH": "/usr/local/bin:/usr/bin", "HOME": "/srv/app", "DATABASE_URL": "postgresql://tsp:Tsp-db-2024@db/tsp",
            "JWT_SECRET": "Tsp-signing-2024", "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "LANG": "C.UTF-8"}
