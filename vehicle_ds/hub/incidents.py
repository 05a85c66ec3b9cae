"""Incident handling (应急处置): grading by the MIIT-sector annex and the reporting deadlines the reference
supports (../shared/reference/filings.md §4.2, §4.3). Every criterion carries its verification tag: a
grade that rests on a [U] cell says "to be confirmed against the official text", never presents it as law;
a deadline the reference does not give is "to be confirmed", never invented."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

LEVELS = ["一般", "较大", "重大", "特别重大"]  # ascending
THREATS = {"": 0, "none": 0, "fairly_serious": 1, "serious": 2, "particularly_serious": 3}  # ascending
LEVEL_EN = {"一般": "general", "较大": "relatively major", "重大": "major", "特别重大": "particularly major"}
TBC = "to be confirmed against the official text"


@dataclass(frozen=True)
class Criterion:
    level: str
    tag: str  # V | S | U, as filings.md gives it
    text: str


def _crit(facts: dict[str, Any]) -> list[Criterion]:
    """The criteria of the §4.2 table that ``facts`` meet."""
    out: list[Criterion] = []
    data, threat = facts.get("data_class", "general"), facts.get("threat", "")
    persons, sensitive = int(facts.get("persons_affected", 0)), int(facts.get("sensitive_persons_affected", 0))
    loss, outage = float(facts.get("economic_loss_cny", 0)), float(facts.get("outage_hours", 0))
    rank = THREATS.get(str(threat), 0)
    if data == "core":
        out.append(Criterion("特别重大", "U", "core data hit"))
    # each band is a floor: a worse threat meets every lesser threat's criterion too (grading never goes down)
    if data in ("important", "general", "core") and rank >= 1:
        out.append(Criterion("较大", "V", "important or general data with a fairly serious (or worse) threat"))
    if data in ("important", "core") and rank >= 2:
        out.append(Criterion("重大", "V", "important data leaked, tampered, destroyed or misused with a serious "
                                        "(or worse) threat"))
    if data in ("important", "core") and rank >= 3:
        out.append(Criterion("特别重大", "U", "important data with a particularly serious threat"))
    if persons >= 100_000_000 or sensitive >= 10_000_000:
        out.append(Criterion("特别重大", "U", "≥ 100 m people's PI or ≥ 10 m people's sensitive PI"))
    elif persons >= 10_000_000 or sensitive >= 1_000_000:
        out.append(Criterion("重大", "V", "10 m to < 100 m people's PI, or 1 m to < 10 m people's sensitive PI"))
    elif persons >= 1_000_000 or sensitive >= 100_000:
        out.append(Criterion("较大", "U", "1 m to 10 m people's PI or 100 k to 1 m people's sensitive PI"))
    # the CAC annex (filings.md §4.3) runs in parallel: its 特别重大 examples, the higher grade wins
    if persons >= 100_000_000:
        out.append(Criterion("特别重大", "V", "≥ 100 m people's PI leaked (CAC annex)"))
    if loss >= 1e8:
        out.append(Criterion("特别重大", "V", "direct economic loss ≥ CNY 100 m (CAC annex)"))
    if loss >= 1e9:
        out.append(Criterion("特别重大", "U", "direct economic loss ≥ CNY 1 bn"))
    elif loss >= 1e8:
        out.append(Criterion("重大", "V", "direct economic loss CNY 100 m to < 1 bn"))
    elif loss >= 5e7:
        out.append(Criterion("较大", "U", "direct economic loss CNY 50 m to 100 m"))
    if outage >= 24:
        out.append(Criterion("特别重大", "U", "important network facilities down ≥ 24 h"))
    elif outage >= 12:
        out.append(Criterion("重大", "V", "important network facilities or systems down ≥ 12 h"))
    elif outage >= 8:
        out.append(Criterion("较大", "V", "relevant facilities down ≥ 8 h"))
    return out


def grade(facts: dict[str, Any]) -> dict[str, Any]:
    """The initial grade (初判级别): the highest level any criterion reaches; a person confirms it."""
    met = _crit(facts)
    level = max((c.level for c in met), key=LEVELS.index, default="一般")
    deciding = [c for c in met if c.level == level]
    confirmed = any(c.tag == "V" for c in deciding)
    return {"level": level, "level_en": LEVEL_EN[level],
            "criteria": [{"level": c.level, "tag": c.tag, "text": c.text} for c in met],
            "basis": "CN-MIIT-IR annex and CN-CAC-IR annex, the higher grade (filings.md §4.2, §4.3)",
            "verification": "verified" if confirmed else TBC,
            "note": "" if confirmed else ("no verified criterion reaches this level: " + TBC if met else
                                         "no criterion met: 一般 is the reference's residual band [U], " + TBC)}


CAC_HOURS = {"cii": 1, "state_organ": 2, "other": 4}  # filings.md §4.3, CN-CAC-IR Art. 4 [V]


def deadlines(facts: dict[str, Any], level: str, discovered: dt.datetime, now: dt.datetime) -> list[dict[str, Any]]:
    """Reporting duties and their deadlines from discovery; only figures the reference verifies are
    computed, the rest are stated as "to be confirmed"."""
    out: list[dict[str, Any]] = []

    def due(recipient: str, hours: float | None, basis: str, tag: str, text: str) -> None:
        row: dict[str, Any] = {"recipient": recipient, "basis": basis, "tag": tag, "text": text}
        if hours is not None:
            at = discovered + dt.timedelta(hours=hours)
            row.update(due_at=at.isoformat(), seconds_left=int((at - now).total_seconds()), overdue=now > at)
        else:
            row.update(due_at=None, seconds_left=None, overdue=False)
        out.append(row)

    if LEVELS.index(level) >= LEVELS.index("较大"):
        op = facts.get("operator_type", "other")
        due("cac", CAC_HOURS.get(op, 4), "CN-CAC-IR Art. 4", "V",
            f"report to the {'protection department and police' if op == 'cii' else 'provincial CAC'} "
            f"within {CAC_HOURS.get(op, 4)} h (grade 较大 or above)")
    if facts.get("data_class") in ("important", "core"):
        due("regulator", None, "CN-MIIT-DSM", "S",
            "report to the local communications administration immediately (立即); no figure in the reference")
    if int(facts.get("persons_affected", 0)) or int(facts.get("sensitive_persons_affected", 0)):
        due("users", None, "CN-PIPL Art. 57", "V",
            "notify the authority and the individuals: types of information, cause, possible harm, remedies, "
            "contact; no deadline figure in the law (unless the measures avoid harm)")
    if facts.get("vulnerability_national_security"):
        due("regulator_vulnerability", 24, "CN-NDSR Art. 10", "V",
            "a product vulnerability endangering national security or the public interest: report within 24 h")
    due("summary_report", None, "CN-CAC-IR", "U", "post-event summary report: deadline " + TBC)
    return out


STATES = ("open", "graded", "reported", "closed")


def required_notifications(dl: list[dict[str, Any]]) -> set[str]:
    return {d["recipient"] for d in dl if d["recipient"] not in ("summary_report",)}
