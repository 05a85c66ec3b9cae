"""The hub's current report, built from the per-document summaries stored at ingestion (the newest document
of each kind and asset), with the hub's own state: uplink volume, alerts and the incident register."""

from __future__ import annotations

from sqlalchemy import func, select

from .db import Alert, Batch, Document, Incident
from .monitor import SEVERITY_RANK, alert_json


def current_report(Sessions, org_id: int, fmt: str, lang: str) -> str | None:
    from ..report import build_report, render
    from ..report.inputs import Input

    with Sessions() as s:
        rows = s.execute(select(Document.id, Document.sha256, Document.kind, Document.summary, Document.body,
                                Document.subject_key, Document.created_at)
                         .where(Document.org_id == org_id, Document.latest.is_(True))
                         .order_by(Document.created_at)).all()
        latest = {r.subject_key: r for r in rows}  # two uploads racing may both be "latest": the newest wins
        if not latest:
            return None
        inputs = [Input(f"hub:document/{r.id}", r.sha256, r.kind, r.summary if r.summary is not None else r.body)
                  for r in latest.values()]
        batches = s.scalar(select(func.count()).select_from(Batch).where(Batch.org_id == org_id))
        alerts = s.scalars(select(Alert).where(Alert.org_id == org_id)).all()
        incidents = s.scalars(select(Incident).where(Incident.org_id == org_id).order_by(Incident.id)).all()
        hub_state = {
            "uplink_batches": batches,
            "alerts": {"open": sum(a.state == "open" for a in alerts),
                       "by_severity": {sev: sum(a.severity == sev for a in alerts) for sev in SEVERITY_RANK},
                       "latest": [alert_json(a) for a in sorted(alerts, key=lambda a: (SEVERITY_RANK[a.severity],
                                                                                       -a.id))[:50]]},
            "incidents": [{"id": i.id, "title": i.title, "state": i.state, "grade": (i.grade or {}).get("level"),
                           "opened_at": i.opened_at.isoformat(),
                           "closed_at": i.closed_at.isoformat() if i.closed_at else None} for i in incidents],
        }
    rep = build_report(inputs)
    rep["hub"] = hub_state
    return render(rep, fmt, lang)


