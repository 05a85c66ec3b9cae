"""Dates the documents and the report owe: the annual report, the catalogue's re-filing, the risk assessment's
validity, the export assessment's expiry (filings.md §8). Each comes with its basis, its tag and the days
left; anything due within :data:`SOON_DAYS` is flagged in the executive summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

SOON_DAYS = 30


@dataclass(frozen=True)
class Deadline:
    id: str
    zh: str
    en: str
    due: str | None  # ISO date; None when a fact a person must give is missing
    days_left: int | None
    basis: str
    tag: str  # V | S | U, as filings.md gives the figure
    missing_zh: str = ""
    missing_en: str = ""

    @property
    def soon(self) -> bool:
        return self.days_left is not None and self.days_left <= SOON_DAYS

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "soon": self.soon}


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(d.day, last))


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        return dt.date.fromisoformat(value)
    return None


def _make(id_: str, zh: str, en: str, due: dt.date | None, today: dt.date, basis: str, tag: str,
          missing: tuple[str, str] = ("", "")) -> Deadline:
    return Deadline(id_, zh, en, due.isoformat() if due else None, (due - today).days if due else None, basis, tag,
                    *missing)


def deadlines(today: dt.date, org: dict[str, Any] | None = None, refile_since: dt.date | None = None) -> list[Deadline]:
    """The deadlines known on ``today``. ``org`` is the organisation profile (``[dates]``: last risk
    assessment, last filing, export assessment approval); ``refile_since`` the date a ≥ 30 % change of
    important data was seen (the baseline comparison)."""
    dates = (org or {}).get("dates", {})
    annual = dt.date(today.year, 12, 15)
    if today > annual:
        annual = dt.date(today.year + 1, 12, 15)
    out = [_make("annual_report", "汽车数据安全管理情况年度报告报送", "annual automobile data-security report", annual,
                 today, "CN-ADR-13", "S")]
    last_ra = _date(dates.get("last_risk_assessment"))
    out.append(_make("risk_assessment", "数据安全风险评估结果有效期届满（每年至少评估一次）",
                     "risk assessment validity ends (at least yearly)",
                     _add_months(last_ra, 12) if last_ra else None, today, "CN-NDSR-33", "V",
                     ("待填写：上次风险评估报告首次出具日期（org.toml [dates] last_risk_assessment）",
                      "to be completed: date the last risk-assessment report was first issued "
                      "(org.toml [dates] last_risk_assessment)") if not last_ra else ("", "")))
    if refile_since is not None:
        out.append(_make("refiling", "重要数据目录备案变更（类别或规模变化达30%以上后三个月内）",
                         "catalogue re-filing (within three months of a change of 30 % or more)",
                         _add_months(refile_since, 3), today, "MIIT-DSM", "U"))
    approved = _date(dates.get("export_assessment_approved"))
    if approved:
        expiry = _add_months(approved, 36)
        out.append(_make("export_assessment", "数据出境安全评估结果有效期届满（届满前60个工作日内可申请延期）",
                         "export security assessment expires (extension within 60 working days before)",
                         expiry, today, "CN-CBDF", "S"))
    return out
