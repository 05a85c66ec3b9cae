"""Alerts, webhooks and the incident register: open -> graded -> reported -> closed, every change audited."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ...vocabulary import Severity
from .. import incidents as ir
from ..db import Alert, Delivery, Incident, IncidentEvent, Webhook, now
from ..deps import Caller, admin, db, hub, user
from ..monitor import alert_json
from ..schemas import JsonInt, errors

router = APIRouter()
IncidentId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class WebhookIn(BaseModel):
    url: str = Field(min_length=8, max_length=500, pattern=r"^https?://[^/?#@\s]+")
    min_severity: Severity = "low"


def _zoned(t: dt.datetime) -> dt.datetime:
    """Times carry their zone ("2026-12-01T09:00" in Beijing is not 09:00 UTC: a guess moves deadlines 8 h)
    and lie in the past (a clock a few minutes ahead is tolerated, a future event is not)."""
    if t.tzinfo is None:
        raise ValueError("a time needs its zone (2026-12-01T09:00:00+08:00 or ...Z)")
    if t > now() + dt.timedelta(minutes=5):
        raise ValueError("a time in the future")
    return t


def _text_time(v: object) -> object:
    """A time is ISO 8601 text: a number would be read as seconds since 1970 (``0`` became 1970-01-01)."""
    if not isinstance(v, (str, dt.datetime)):
        raise ValueError("a time is ISO 8601 text with its zone (2026-12-01T09:00:00+08:00), not a number")
    return v


Zoned = Annotated[dt.datetime, BeforeValidator(_text_time), AfterValidator(_zoned)]


class IncidentIn(BaseModel):
    title: str = Field(min_length=3, max_length=400)
    alert_ids: list[Annotated[JsonInt, Field(ge=1, le=2**31 - 1)]] = Field(default_factory=list, max_length=500)
    discovered_at: Zoned | None = None


class Facts(BaseModel):
    """What the engineer knows; the grade and deadlines are computed from these (filings.md §4)."""

    data_class: Literal["general", "important", "core"] = "general"
    threat: Literal["", "fairly_serious", "serious", "particularly_serious"] = ""
    persons_affected: JsonInt = Field(0, ge=0, le=10**10)
    sensitive_persons_affected: JsonInt = Field(0, ge=0, le=10**10)
    economic_loss_cny: float = Field(0, ge=0, le=1e13, allow_inf_nan=False, strict=True)
    outage_hours: float = Field(0, ge=0, le=1e5, allow_inf_nan=False, strict=True)
    operator_type: Literal["other", "cii", "state_organ"] = "other"
    vulnerability_national_security: bool = Field(False, strict=True)  # JSON true/false only, not 0/1 or "yes"


class Notification(BaseModel):
    recipient: Literal["cac", "regulator", "users", "regulator_vulnerability"]
    reference: str = Field("", max_length=200)
    at: Zoned | None = None


class Closing(BaseModel):
    summary: str = Field(min_length=10, max_length=20_000)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def due_notifications(i: Incident) -> set[str]:
    """The recipients a graded incident must notify (the deadlines' own times do not matter here)."""
    return ir.required_notifications(ir.deadlines(i.facts, i.grade["level"], now(), now()))


def incident_json(i: Incident, events: list[IncidentEvent]) -> dict[str, Any]:
    discovered = _aware(dt.datetime.fromisoformat(i.facts.get("discovered_at", i.opened_at.isoformat())))
    level = (i.grade or {}).get("level")
    dl = ir.deadlines(i.facts, level, discovered, now()) if level else []
    for d in dl:
        d["notified"] = i.notifications.get(d["recipient"])
    return {"id": i.id, "title": i.title, "state": i.state, "opened_at": i.opened_at.isoformat(), "opened_by": i.opened_by,
            "discovered_at": discovered.isoformat(), "facts": i.facts, "grade": i.grade, "deadlines": dl,
            "notifications": i.notifications, "summary": i.summary,
            "closed_at": i.closed_at.isoformat() if i.closed_at else None,
            "events": [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "details": e.details}
                       for e in events]}



def _mine(s: Session, caller: Caller, incident_id: int) -> Incident:
    i = s.get(Incident, incident_id)
    if i is None or i.org_id != caller.org_id:
        raise HTTPException(404, "no such incident")
    return i

def _audit(s: Session, i: Incident, caller: Caller, action: str, details: dict[str, Any]) -> None:
    s.add(IncidentEvent(incident_id=i.id, actor=caller.sub, action=action, details=details))

def _answer(s: Session, i: Incident) -> dict[str, Any]:
    events = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == i.id).order_by(IncidentEvent.id)).all()
    return incident_json(i, list(events))

@router.get("/api/v1/alerts", responses=errors(401, 422, 429))
def alerts(caller: Caller = Depends(user), s: Session = Depends(db),
           state: Literal["open", "acknowledged", "in_incident", "resolved", "all"] = "all",
           limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    q = select(Alert).where(Alert.org_id == caller.org_id)
    if state != "all":
        q = q.where(Alert.state == state)
    return {"alerts": [alert_json(a) for a in s.scalars(q.order_by(Alert.id.desc()).limit(limit))]}

@router.post("/api/v1/webhooks", status_code=201, responses=errors(401, 403, 422, 429))
def add_webhook(body: WebhookIn, request: Request, caller: Caller = Depends(admin),
                s: Session = Depends(db)) -> dict[str, Any]:
    from ..monitor import webhook_refusal

    refused = webhook_refusal(body.url, hub(request).settings)
    if refused:
        raise HTTPException(422, refused)
    secret = secrets.token_urlsafe(32)
    hook = Webhook(org_id=caller.org_id, url=body.url, secret=secret, min_severity=body.min_severity)
    s.add(hook)
    s.commit()
    # the secret is shown once: the receiver checks X-VDS-Signature with it
    return {"id": hook.id, "url": hook.url, "min_severity": hook.min_severity, "secret": secret}


WebhookId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _hook(s: Session, caller: Caller, hook_id: int) -> Webhook:
    hook = s.get(Webhook, hook_id)
    if hook is None or hook.org_id != caller.org_id:
        raise HTTPException(404, "no such webhook")
    return hook


@router.get("/api/v1/webhooks", responses=errors(401, 403, 429))
def list_webhooks(caller: Caller = Depends(admin), s: Session = Depends(db)) -> dict[str, Any]:
    """The organisation's webhooks (never their secrets)."""
    hooks = s.scalars(select(Webhook).where(Webhook.org_id == caller.org_id).order_by(Webhook.id)).all()
    return {"webhooks": [{"id": h.id, "url": h.url, "min_severity": h.min_severity} for h in hooks]}


@router.delete("/api/v1/webhooks/{hook_id}", status_code=204, responses=errors(401, 403, 404, 429))
def delete_webhook(hook_id: WebhookId, caller: Caller = Depends(admin), s: Session = Depends(db)) -> None:
    hook = _hook(s, caller, hook_id)
    s.execute(delete(Delivery).where(Delivery.webhook_id == hook.id))  # its queue goes with it
    s.delete(hook)
    s.commit()


@router.post("/api/v1/webhooks/{hook_id}/rotate", responses=errors(401, 403, 404, 429))
def rotate_webhook(hook_id: WebhookId, caller: Caller = Depends(admin), s: Session = Depends(db)) -> dict[str, Any]:
    """A new signing secret, shown once; the old one stops signing at once."""
    hook = _hook(s, caller, hook_id)
    hook.secret = secrets.token_urlsafe(32)
    s.commit()
    return {"id": hook.id, "url": hook.url, "min_severity": hook.min_severity, "secret": hook.secret}


@router.post("/api/v1/incidents", status_code=201, responses=errors(401, 404, 422, 429))
def open_incident(body: IncidentIn, caller: Caller = Depends(user), s: Session = Depends(db)) -> dict[str, Any]:
    linked = s.scalars(select(Alert).where(Alert.org_id == caller.org_id, Alert.id.in_(body.alert_ids))).all()
    if len(linked) != len(set(body.alert_ids)):
        raise HTTPException(404, "no such alert")
    discovered = _aware(body.discovered_at) if body.discovered_at else now()
    i = Incident(org_id=caller.org_id, title=body.title, opened_by=caller.sub, state="open",
                 facts={"discovered_at": discovered.isoformat()}, notifications={})
    s.add(i)
    s.flush()
    for a in linked:
        a.state, a.incident_id = "in_incident", i.id
    _audit(s, i, caller, "opened", {"alerts": sorted(a.id for a in linked), "discovered_at": discovered.isoformat()})
    s.commit()
    return _answer(s, i)

@router.get("/api/v1/incidents", responses=errors(401, 429))
def list_incidents(caller: Caller = Depends(user), s: Session = Depends(db)) -> dict[str, Any]:
    rows = s.scalars(select(Incident).where(Incident.org_id == caller.org_id).order_by(Incident.id)).all()
    return {"incidents": [{"id": i.id, "title": i.title, "state": i.state, "grade": (i.grade or {}).get("level")}
                          for i in rows]}

@router.get("/api/v1/incidents/{incident_id}", responses=errors(401, 404, 422, 429))
def get_incident(incident_id: IncidentId, caller: Caller = Depends(user), s: Session = Depends(db)) -> dict[str, Any]:
    return _answer(s, _mine(s, caller, incident_id))

@router.post("/api/v1/incidents/{incident_id}/grade", responses=errors(401, 404, 409, 422, 429))
def grade_incident(incident_id: IncidentId, facts: Facts, caller: Caller = Depends(user),
                   s: Session = Depends(db)) -> dict[str, Any]:
    i = _mine(s, caller, incident_id)
    if i.state == "closed":
        raise HTTPException(409, "incident closed")
    f = {**facts.model_dump(), "discovered_at": i.facts.get("discovered_at")}
    g = ir.grade(f)
    i.facts, i.grade = f, g
    # a new grade may owe new duties: the state follows what is still due (a re-grade to 重大 reopens reporting)
    i.state = "reported" if due_notifications(i) <= set(i.notifications) and i.notifications else "graded"
    _audit(s, i, caller, "graded", {"level": g["level"], "facts": f})
    s.commit()
    return _answer(s, i)

@router.post("/api/v1/incidents/{incident_id}/notifications", responses=errors(401, 404, 409, 422, 429))
def notify(incident_id: IncidentId, body: Notification, caller: Caller = Depends(user),
           s: Session = Depends(db)) -> dict[str, Any]:
    i = _mine(s, caller, incident_id)
    if i.state not in ("graded", "reported"):
        raise HTTPException(409, "grade the incident first")
    at = _aware(body.at) if body.at else now()
    discovered = _aware(dt.datetime.fromisoformat(i.facts["discovered_at"])) if i.facts.get("discovered_at") else None
    if discovered is not None and at < discovered:
        raise HTTPException(422, f"a notification dated {at.isoformat()} precedes the discovery {discovered.isoformat()}")
    i.notifications = {**i.notifications, body.recipient: {"at": at.isoformat(), "reference": body.reference,
                                                            "by": caller.sub}}
    if due_notifications(i) <= set(i.notifications):
        i.state = "reported"
    _audit(s, i, caller, "notified", {"recipient": body.recipient, "at": at.isoformat(), "reference": body.reference})
    s.commit()
    return _answer(s, i)

@router.post("/api/v1/incidents/{incident_id}/close", responses=errors(401, 404, 409, 422, 429))
def close(incident_id: IncidentId, body: Closing, caller: Caller = Depends(user),
          s: Session = Depends(db)) -> dict[str, Any]:
    i = _mine(s, caller, incident_id)
    if i.state not in ("graded", "reported"):
        raise HTTPException(409, "grade the incident first" if i.state == "open" else "incident closed")
    owed = sorted(due_notifications(i) - set(i.notifications))  # judged now, against the current grade
    if owed:
        raise HTTPException(409, f"duties still owed at grade {i.grade['level']}: notify {', '.join(owed)}")
    i.state, i.summary, i.closed_at = "closed", body.summary, now()
    _audit(s, i, caller, "closed", {"summary_chars": len(body.summary)})
    s.commit()
    return _answer(s, i)

