"""Users' notes and the admins' service notices."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request

from ..deps import Platform, caller, platform
from ..model import User

router = APIRouter()


@router.post("/api/v1/admin/notices", status_code=201)
async def create_notice(request: Request, u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    if u.role != "admin":
        raise HTTPException(403, "forbidden")
    nid = secrets.token_hex(6)
    p.state.notices[nid] = {"id": nid, "text": str((await request.json()).get("text", ""))[:200]}
    return {"id": nid}


@router.get("/api/v1/notices/{notice_id}")
def read_notice(notice_id: str, _u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    if notice_id not in p.state.notices:
        raise HTTPException(404, "no such notice")
    return p.state.notices[notice_id]


@router.delete("/api/v1/admin/notices/{notice_id}", status_code=204)
def delete_notice(notice_id: str, u: User = Depends(caller), p: Platform = Depends(platform)) -> None:
    if u.role != "admin" and not p.flaws.bfla_write:
        raise HTTPException(403, "forbidden")
    p.state.notices.pop(notice_id, None)


@router.post("/api/v1/notes", status_code=201)
async def create_note(request: Request, u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    body = await request.json()
    nid = secrets.token_hex(6)
    p.state.notes[nid] = {"id": nid, "owner": u.id, "text": str(body.get("text", ""))[:200]}
    return {"id": nid}


@router.get("/api/v1/notes")
def list_notes(u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    return {"notes": [{"id": n["id"], "text": n["text"]} for n in p.state.notes.values()
                      if n["owner"] == u.id and not n.get("deleted")]}


@router.put("/api/v1/notes")
async def replace_note(request: Request, u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    """The note named by the id in the body: its owner's only, unless ``body_id_write``."""
    body = await request.json()
    n = p.state.notes.get(str(body.get("id", "")))
    if n is None or (n["owner"] != u.id and not p.flaws.body_id_write):
        raise HTTPException(404, "no such note")
    n["text"] = str(body.get("text", n["text"]))[:200]
    return {"id": n["id"], "text": n["text"]}


@router.get("/api/v1/notes/{note_id}")
def read_note(note_id: str, u: User = Depends(caller), p: Platform = Depends(platform)) -> dict[str, Any]:
    n = p.state.notes.get(note_id)
    if n is None or n["owner"] != u.id:
        raise HTTPException(404, "no such note")
    return {"id": n["id"], "text": n["text"], **({"deleted": True} if n.get("deleted") else {})}


@router.patch("/api/v1/notes/{note_id}")
async def change_note(note_id: str, request: Request, u: User = Depends(caller),
                      p: Platform = Depends(platform)) -> dict[str, Any]:
    n = p.note_for(u, note_id)
    n["text"] = str((await request.json()).get("text", n["text"]))[:200]
    return {"id": n["id"], "text": n["text"]}


@router.delete("/api/v1/notes/{note_id}", status_code=204)
def delete_note(note_id: str, u: User = Depends(caller), p: Platform = Depends(platform)) -> None:
    n = p.note_for(u, note_id)
    if p.flaws.soft_delete and not n.get("deleted"):
        n["deleted"] = True  # soft delete: the read still answers 200; the owner's list no longer shows it
    else:
        p.state.notes.pop(n["id"], None)
