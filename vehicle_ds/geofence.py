"""Sensitive areas as user-provided GeoJSON polygons (no real sensitive-area data ships with vehicle-ds: the
demo uses a made-up polygon). Positions inside one are important data (CN-ADR-3) and are suppressed before
anything leaves the vehicle (GB/T 44464 ``geofence_suppress``). Point-in-polygon is vectorised ray casting
with numpy, per polygon ring, holes honoured; coordinates are GeoJSON's (longitude, latitude)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError


@dataclass(frozen=True)
class Area:
    name: str
    polygons: tuple[tuple[np.ndarray, ...], ...]  # per polygon: outer ring, then holes; arrays (n, 2) lon/lat

    def contains(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        inside = np.zeros(lat.shape, dtype=bool)
        for rings in self.polygons:
            p = _in_ring(rings[0], lon, lat)
            for hole in rings[1:]:
                p &= ~_in_ring(hole, lon, lat)
            inside |= p
        return inside


def _in_ring(ring: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Even-odd rule: count the ring's edges a ray to the east crosses."""
    inside = np.zeros(x.shape, dtype=bool)
    xs, ys = ring[:, 0], ring[:, 1]
    for i in range(len(ring) - 1):
        x1, y1, x2, y2 = xs[i], ys[i], xs[i + 1], ys[i + 1]
        if y1 == y2:
            continue
        crosses = (y1 > y) != (y2 > y)
        x_at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < x_at)
    return inside


def load_geofence(path: str | Path) -> list[Area]:
    p = Path(path)
    try:
        doc = json.loads(p.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable GeoJSON file: {exc}", path=str(p)) from None
    return parse_geofence(doc, str(p))


def parse_geofence(doc: object, where: str = "") -> list[Area]:
    """The areas of a GeoJSON document (a FeatureCollection, a Feature or a bare geometry)."""
    p = where
    feats = doc.get("features", [doc]) if isinstance(doc, dict) else []
    if not isinstance(feats, list):
        raise InputError("features must be a list of GeoJSON features", path=p)
    areas = []
    for n, f in enumerate(feats, 1):
        geom = f.get("geometry", f) if isinstance(f, dict) else {}
        geom = geom if isinstance(geom, dict) else {}
        kind, coords = geom.get("type"), geom.get("coordinates")
        polys = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else None
        if not polys:
            raise InputError(f"feature {n}: only Polygon and MultiPolygon areas are supported", path=str(p))
        try:
            rings = tuple(tuple(np.asarray(r, dtype=np.float64)[:, :2] for r in poly) for poly in polys)
        except (ValueError, IndexError, TypeError):
            raise InputError(f"feature {n}: coordinates are not [longitude, latitude] rings", path=str(p)) from None
        if not rings or any(not poly or any(r.ndim != 2 or r.shape[0] < 4 or r.shape[1] != 2 or not np.isfinite(r).all()
                                            for r in poly) for poly in rings):
            raise InputError(f"feature {n}: a ring needs at least four finite [longitude, latitude] positions",
                             path=str(p))
        props = f.get("properties") if isinstance(f, dict) else None
        name = str(props.get("name", f"area-{n}")) if isinstance(props, dict) else f"area-{n}"
        areas.append(Area(name, rings))
    if not areas:
        raise InputError("no areas in the GeoJSON file", path=str(p))
    return areas
