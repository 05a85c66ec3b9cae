"""An organisation's sensitive areas: uploaded by an admin as GeoJSON, listed, removed."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.orm import Session

from ...errors import InputError
from ...geofence import parse_geofence
from ..areas import MAX_AREAS_BYTES, areas_for, summary
from ..db import SensitiveAreas
from ..deps import Caller, Hub, admin, db, hub, user
from ..ingest import read_limited
from ..schemas import errors

router = APIRouter()
GEOJSON_BODY = {"requestBody": {"required": True, "content": {
    "application/geo+json": {"schema": {"type": "object"}}, "application/json": {"schema": {"type": "object"}}}}}


@router.put("/api/v1/sensitive-areas", openapi_extra=GEOJSON_BODY, responses=errors(401, 403, 413, 422, 429))
async def put_areas(request: Request, caller: Caller = Depends(admin), s: Session = Depends(db)) -> dict[str, Any]:
    """Replace the organisation's areas (Polygon and MultiPolygon features, [longitude, latitude] rings)."""
    raw = await read_limited(request, MAX_AREAS_BYTES)
    try:
        doc = json.loads(raw)
        areas = parse_geofence(doc)
    except (ValueError, InputError) as exc:
        raise HTTPException(422, f"not sensitive areas: {str(exc)[:200]}") from None
    row = s.get(SensitiveAreas, caller.org_id)
    text = json.dumps(doc, separators=(",", ":"))
    if row is None:
        s.add(SensitiveAreas(org_id=caller.org_id, geojson=text, version=1))
    else:
        row.geojson, row.version = text, row.version + 1
    s.commit()
    return {"areas": summary(areas)}


@router.get("/api/v1/sensitive-areas", responses=errors(401, 429))
def get_areas(caller: Caller = Depends(user), h: Hub = Depends(hub)) -> dict[str, Any]:
    return {"areas": summary(areas_for(h.sessions, caller.org_id))}


@router.delete("/api/v1/sensitive-areas", status_code=204, responses=errors(401, 403, 429))
def delete_areas(caller: Caller = Depends(admin), s: Session = Depends(db)) -> None:
    row = s.get(SensitiveAreas, caller.org_id)
    if row is not None:
        s.delete(row)
        s.commit()
