"""Vehicles, their location and trips, and the remote unlock command."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import PlainTextResponse

from ..deps import Platform, caller, platform
from ..model import User

router = APIRouter()


@router.get("/api/v1/vehicles")
def vehicles(u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    return {"vehicles": [{"vin": vin, "model": v["model"]} for vin, v in p.state.vehicles.items() if v["owner"] == u.id]}


@router.get("/api/v1/vehicles/{vin}")
def vehicle(vin: str, u: User = Depends(caller), p: Platform = Depends(platform)) -> Any:
    if p.flaws.db_errors and len(vin) != 17:
        return PlainTextResponse(
            f'psycopg.errors.InvalidTextRepresentation: ERROR:  invalid input syntax for type character(17): '
            f'"{vin}"\nLINE 1: SELECT v.vin, v.model, v.owner_id FROM vehicles v WHERE v.vin = \'{vin}\'\n',
            status_code=500)
    if p.flaws.verbose_errors and len(vin) != 17:
        raise ValueError(f"malformed VIN {vin!r}: expected 17 characters")
    v = p.vehicle_for(u, vin)
    out = {"vin": vin, "model": v["model"], "nickname": v["nickname"], "plan": v["plan"]}
    if p.flaws.exposure:
        owner = p.state.users[v["owner"]]
        out.update({"owner_name": owner.name, "owner_phone": owner.phone, "owner_id_number": owner.id_number,
                    "home_latitude": owner.home[0], "home_longitude": owner.home[1], "plate": v["plate"]})
    return out


@router.patch("/api/v1/vehicles/{vin}")
async def rename(vin: str, request: Request, u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    """The owner renames the car; ``vehicle_mass_assignment`` also stores the paid service plan it is sent."""
    v = p.vehicle_for(u, vin)
    body = await request.json()
    if "nickname" in body:
        v["nickname"] = str(body["nickname"])[:64]
    if p.flaws.vehicle_mass_assignment and "plan" in body:
        v["plan"] = str(body["plan"])
    return {"vin": vin, "nickname": v["nickname"]}


@router.get("/api/v1/vehicles/{vin}/location")
def location(vin: str, request: Request, authorization: str | None = Header(None),
             p: Platform = Depends(platform)) -> dict[str, Any]:
    if p.flaws.no_auth_location and not authorization:
        v = p.state.vehicles.get(vin)
        if v is None:
            raise HTTPException(404, "no such vehicle")
    else:
        v = p.vehicle_for(p.caller(request, authorization), vin)
    lat, lon = v["position"]
    return {"vin": vin, "latitude": lat, "longitude": lon, "ts": int(time.time())}


@router.get("/api/v1/vehicles/{vin}/trips")
def trips(vin: str, u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    p.vehicle_for(u, vin)
    return {"trips": [{"id": t["id"], "km": t["km"]} for t in p.state.trips.values() if t["vin"] == vin]}


@router.get("/api/v1/trips/{trip_id}")
def trip(trip_id: str, u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    t = p.state.trips.get(trip_id)
    if t is None or (not p.flaws.sequential_ids and not p.flaws.bola and t["owner"] != u.id):
        raise HTTPException(404, "no such trip")
    return {"id": t["id"], "vin": t["vin"], "km": t["km"]}


@router.get("/api/v1/trip-details")
def trip_details(trip_id: str, u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    t = p.state.trips.get(trip_id)
    if t is None or (not p.flaws.bola_query and t["owner"] != u.id):
        raise HTTPException(404, "no such trip")
    return {"id": t["id"], "vin": t["vin"], "km": t["km"], "start": t["start"]}


@router.post("/api/v1/vehicles/{vin}/commands/unlock")
def unlock(vin: str, u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    p.vehicle_for(u, vin)
    return {"vin": vin, "command": "unlock", "status": "queued"}
