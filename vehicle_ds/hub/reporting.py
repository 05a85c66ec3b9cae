"""The hub's current report, built from the per-document summaries stored at ingestion (the newest document
of each kind and asset), in the fleet view (per requirement the count of assets per status and the worst
assets in detail), with the hub's own state: uplink volume, alerts and the incident register."""

from __future__ import annotations

from sqlalchemy import func, select

from ..vocabulary import SEVERITY_RANK
from .db import Alert, Batch, Document, Incident
from .monitor import alert_json


def current_report(Sessions, org_id: int, fmt: str, lang: str, max_assets: int = 50) -> str | None:
    from ..report import render
    from ..report.fleet import AssetOutcomes, fleet_report
    from ..report.inputs import Input

    with Sessions() as s:
        rows = s.execute(select(Document.id, Document.kind, Document.asset_key, Document.outcomes,
                                Document.subject_key, Document.created_at)
                         .where(Document.org_id == org_id, Document.latest.is_(True))
                         .order_by(Document.created_at)).all()
        latest = {r.subject_key: r for r in rows}  # two uploads racing may both be "latest": the newest wins
        if not latest:
            return None
        per_asset: dict[str, AssetOutcomes] = {}
        docs_of: dict[str, list[str]] = {}
        for r in latest.values():
            a = per_asset.setdefault(r.asset_key, AssetOutcomes(r.asset_key, []))
            a.outcomes.extend((r.kind, cid, st, sev) for cid, st, sev in (r.outcomes or []))
            a.detailed = a.detailed or r.kind != "edge"  # catalogs, platforms and models are few: always shown
            docs_of.setdefault(r.asset_key, []).append(r.id)

        def load(keys: list[str]) -> list[Input]:
            ids = [d for k in keys for d in docs_of.get(k, [])]
            out = []
            for chunk in range(0, len(ids), 500):
                for r in s.execute(select(Document.id, Document.sha256, Document.kind, Document.summary)
                                   .where(Document.id.in_(ids[chunk:chunk + 500]))):
                    out.append(Input(f"hub:document/{r.id}", r.sha256, r.kind, r.summary))
            return out

        rep = fleet_report(list(per_asset.values()), load, max_assets)
        batches = s.scalar(select(func.count()).select_from(Batch).where(Batch.org_id == org_id))
        by_sev = dict(s.execute(select(Alert.severity, func.count()).where(Alert.org_id == org_id)
                                .group_by(Alert.severity)).all())
        open_alerts = s.scalar(select(func.count()).select_from(Alert).where(Alert.org_id == org_id,
                                                                             Alert.state == "open"))
        worst = sorted(s.scalars(select(Alert).where(Alert.org_id == org_id).order_by(Alert.id.desc()).limit(500)),
                       key=lambda a: (SEVERITY_RANK[a.severity], -a.id))[:50]
        incidents = s.scalars(select(Incident).where(Incident.org_id == org_id).order_by(Incident.id)).all()
        hub_state = {
            "uplink_batches": batches,
            "alerts": {"open": open_alerts, "by_severity": {sev: by_sev.get(sev, 0) for sev in SEVERITY_RANK},
                       "latest": [alert_json(a) for a in worst]},
            "incidents": [{"id": i.id, "title": i.title, "state": i.state, "grade": (i.grade or {}).get("level"),
                           "opened_at": i.opened_at.isoformat(),
                           "closed_at": i.closed_at.isoformat() if i.closed_at else None} for i in incidents],
        }
    rep["hub"] = hub_state
    return render(rep, fmt, lang)


