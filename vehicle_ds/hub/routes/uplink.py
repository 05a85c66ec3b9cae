"""Devices' batches: uploaded, decoded in a bounded number of slots, stored once, listed."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..areas import areas_for
from ..db import Batch
from ..deps import Caller, Hub, db, device, hub, user
from ..ingest import BATCH_TYPES, MAX_BATCH_BYTES, parse_batch, read_limited, require_type
from ..schemas import BATCH_BODY, errors
from ..store import batch_meta, store_batch

router = APIRouter()
bench_router = APIRouter()  # benchmarks/hub_ingest.py: the same body reading and auth, nothing stored
DECODE_WAIT_S = 30


@router.post("/api/v1/uplink", status_code=201, openapi_extra=BATCH_BODY,
             responses={200: {"description": "already stored (this device's own retry)"},
                        **errors(401, 403, 409, 413, 415, 422, 429, 503)})
async def uplink(request: Request, caller: Caller = Depends(device), h: Hub = Depends(hub)) -> Response:
    require_type(request, BATCH_TYPES)
    raw = await read_limited(request, MAX_BATCH_BYTES)
    # the organisation's areas are read before a decoding slot is taken: a slot holds CPU work, never a query
    areas = await run_in_threadpool(areas_for, h.sessions, caller.org_id)
    with anyio.move_on_after(DECODE_WAIT_S) as wait:  # decoding slots: a flood of huge batches queues, then 503
        async with h.decode_slots:
            parsed = await anyio.to_thread.run_sync(parse_batch, raw, h.settings, h.classify, areas)
    if wait.cancelled_caught:
        raise HTTPException(503, "hub busy decoding", headers={"Retry-After": "5"})
    if request.headers.get("x-batch-id", parsed.batch_id) != parsed.batch_id:
        raise HTTPException(422, "X-Batch-Id does not match the batch")
    if parsed.device != caller.sub:  # a device writes only its own data
        raise HTTPException(403, "batch belongs to another device")
    return await run_in_threadpool(store_batch, h.sessions, parsed, caller, raw)


@router.get("/api/v1/uplink/batches", responses=errors(401, 422, 429))
def batches(caller: Caller = Depends(user), s: Session = Depends(db),
            limit: int = Query(50, ge=1, le=100), offset: int = Query(0, ge=0, le=10_000_000)) -> dict[str, Any]:
    q = select(Batch).where(Batch.org_id == caller.org_id).order_by(Batch.received_at).limit(limit).offset(offset)
    total = s.scalar(select(func.count()).select_from(Batch).where(Batch.org_id == caller.org_id))
    return {"total": total, "batches": [batch_meta(b) for b in s.scalars(q)]}


@router.get("/api/v1/uplink/batches/{batch_id}", responses=errors(401, 404, 429))
def batch(batch_id: str, caller: Caller = Depends(user), s: Session = Depends(db)) -> dict[str, Any]:
    b = s.get(Batch, batch_id[:64])
    if b is None or b.org_id != caller.org_id:
        raise HTTPException(404, "no such batch")
    return batch_meta(b)


@bench_router.post("/bench/noop", status_code=201, include_in_schema=False)
async def noop(request: Request, caller: Caller = Depends(device)) -> Response:
    require_type(request, BATCH_TYPES)
    raw = await read_limited(request, MAX_BATCH_BYTES)
    return JSONResponse({"bytes": len(raw)}, 201)
