"""Remediation actions a person tracks in ``actions.toml``: an owner, a due date and a state per requirement
or per finding (by check id), kept across runs because the ids are stable. The report attaches them and
states what management must decide: failures nobody owns, risks someone proposes to accept, actions past
their due date, actions marked done whose requirement still fails, and open actions whose requirement now
passes (they can be closed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError

STATES = ("open", "in_progress", "done", "accepted_risk")


@dataclass(frozen=True)
class Action:
    target: str  # a requirement id ("REQ-PRECISION") or "check:<check id>"
    owner: str
    due: dt.date
    state: str
    note: str = ""


def load_actions(path: str | Path | None) -> list[Action]:
    """``[[action]]`` tables: target, owner, due (YYYY-MM-DD), state (open | in_progress | done | accepted_risk)."""
    if path is None:
        return []
    from ..tomlfile import read_toml

    raw = read_toml(Path(path), "actions")
    out = []
    for n, a in enumerate(raw.get("action", []), 1):
        missing = [k for k in ("target", "owner", "due", "state") if not str(a.get(k, "")).strip()]
        if missing:
            raise InputError(f"action {n} lacks {', '.join(missing)}", path=str(path))
        if a["state"] not in STATES:
            raise InputError(f"action {n}: state must be one of {', '.join(STATES)}", path=str(path))
        try:
            due = a["due"] if isinstance(a["due"], dt.date) else dt.date.fromisoformat(str(a["due"]))
        except ValueError:
            raise InputError(f"action {n}: due must be a date (YYYY-MM-DD)", path=str(path)) from None
        out.append(Action(str(a["target"]), str(a["owner"]), due, str(a["state"]), str(a.get("note", ""))))
    return out


def apply_actions(rep: dict[str, Any], actions: list[Action], today: dt.date) -> None:
    """Attach actions to requirements and findings and add ``summary.decisions`` to ``rep`` (in place)."""
    by_target: dict[str, list[Action]] = {}
    for a in actions:
        by_target.setdefault(a.target, []).append(a)

    def js(a: Action) -> dict[str, Any]:
        return {"target": a.target, "owner": a.owner, "due": a.due.isoformat(), "state": a.state, "note": a.note,
                "overdue": a.due < today and a.state in ("open", "in_progress"), "days_left": (a.due - today).days}

    unowned, accept, done_failing, closable = [], [], [], []
    for q in rep["requirements"]:
        acts = by_target.get(q["id"], [])
        q["actions"] = [js(a) for a in acts]
        if q["status"] == "fail":
            if not acts:
                unowned.append(q["id"])
            accept += [q["id"] for a in acts if a.state == "accepted_risk"]
            done_failing += [q["id"] for a in acts if a.state == "done"]
        elif q["status"] == "pass":
            closable += [q["id"] for a in acts if a.state in ("open", "in_progress")]
    findings = {c["id"] for c in rep["checks"] if c["status"] in ("fail", "error")}
    for target, acts in by_target.items():
        if target.startswith("check:") and target[6:] not in findings:
            closable += [target for a in acts if a.state in ("open", "in_progress")]
    overdue = [js(a) for a in actions if a.due < today and a.state in ("open", "in_progress")]
    rep["summary"]["decisions"] = {
        "unowned_failures": unowned, "risk_acceptance_to_sign": sorted(set(accept)),
        "done_but_still_failing": sorted(set(done_failing)), "closable": sorted(set(closable)),
        "overdue": overdue, "due_within_30_days": [js(a) for a in actions if 0 <= (a.due - today).days <= 30
                                                     and a.state in ("open", "in_progress")]}
