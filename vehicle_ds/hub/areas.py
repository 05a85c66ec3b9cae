"""Sensitive areas held by the hub per organisation: uploaded once as GeoJSON, parsed once per version and
applied to every incoming batch's positions (the vehicle suppresses positions inside them itself; the hub
checks what actually arrived, independent of the vehicle)."""

from __future__ import annotations

import json
import threading
from typing import Any

from ..geofence import Area, parse_geofence
from .db import SensitiveAreas

MAX_AREAS_BYTES = 2 * 1024 * 1024
_cache: dict[int, tuple[int, list[Area]]] = {}  # org -> (version, parsed areas)
_lock = threading.Lock()


def areas_for(sessions, org_id: int) -> list[Area]:
    """The organisation's areas, parsed once per stored version (one primary-key read per batch)."""
    with sessions() as s:
        row = s.get(SensitiveAreas, org_id)
        if row is None:
            return []
        version = row.version
        cached = _cache.get(org_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        text = row.geojson
    areas = parse_geofence(json.loads(text))
    with _lock:
        _cache[org_id] = (version, areas)
    return areas


def summary(areas: list[Area]) -> list[dict[str, Any]]:
    return [{"name": a.name, "polygons": len(a.polygons)} for a in areas]
