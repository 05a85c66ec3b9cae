"""The documents regulators ask for, generated from the same inputs as the report plus the organisation
profile: the important-data catalogue filing, the risk assessment, the annual automobile report, the
incident plan, the PIA, the export route decision and the risk self-check report (filings.md). Each is
written as DOCX (for the person who completes and signs it) and HTML (for review, print-to-PDF and the
register lint), in a working copy and a copy to file; the catalogue also as XLSX and CSV.
``documents.json`` lists every auto-filled field with its evidence and every field a person must complete
(待填写)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import annual_report, export_route, filing, incident_plan, pia, risk_assessment, self_check
from .context import Context
from .model import Document

GENERATORS: dict[str, Callable[[Context], Document]] = {
    "risk_assessment": risk_assessment.build, "annual_report": annual_report.build,
    "incident_plan": incident_plan.build, "pia": pia.build, "export_route": export_route.build,
    "self_check": self_check.build,
}
FILE_NAMES = {"filing": ("重要数据目录备案表", "important-data-filing"),
              "risk_assessment": ("数据安全风险评估报告", "risk-assessment"),
              "annual_report": ("汽车数据安全管理情况年度报告", "annual-report"),
              "incident_plan": ("数据安全事件应急预案", "incident-plan"),
              "pia": ("个人信息保护影响评估报告", "pia"), "export_route": ("数据出境路径判定", "export-route"),
              "self_check": ("数据安全风险自查报告", "risk-self-check")}
MANIFEST_SCHEMA = "vehicle-ds/documents@1"
SUBMISSION_DIR = "submission"  # beside the working copy: the copies an organisation seals, signs and files


def load_incidents(path: Path) -> list[dict[str, Any]]:
    """The hub's incident register as ``GET /api/v1/incidents`` returns it (``{"incidents": [...]}``) or a list."""
    from ..errors import InputError

    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable incidents JSON: {exc}", path=str(path)) from None
    items = doc.get("incidents") if isinstance(doc, dict) else doc
    if not isinstance(items, list) or not all(isinstance(i, dict) and "title" in i for i in items):
        raise InputError("expected {\"incidents\": [{\"id\", \"title\", \"state\", ...}]} (the hub's incident list)",
                         path=str(path))
    return items


def generate(report: dict[str, Any], org: dict[str, Any], out: Path, lang: str = "zh", *, org_path: str = "org.toml",
             incidents: list[dict[str, Any]] | None = None, incidents_path: str | None = None,
             today: dt.date | None = None, pdf: bool = False) -> dict[str, Any]:
    """Write the seven documents into ``out`` (working copies, with their evidence) and ``out/submission`` (the
    copies to file), and return the manifest (also written as documents.json)."""
    try:
        from .docx_writer import write_docx
        from .spreadsheet import write_csv, write_xlsx
    except ImportError as exc:
        from ..errors import InputError

        raise InputError(f"documents need python-docx and openpyxl: pip install 'vehicle-ds[documents]' "
                         f"({exc.name} missing)") from None
    from .html_writer import write_html

    ctx = Context(report, org, lang, today or dt.date.today(), org_path, incidents or [], incidents_path)
    sub = out / SUBMISSION_DIR
    org_name = str(org.get("organisation", {}).get("legal_name", "") or "")
    out.mkdir(parents=True, exist_ok=True)
    docs: list[tuple[Document, dict[str, str]]] = []
    filing_doc, catalogue = filing.build(ctx)
    name = FILE_NAMES["filing"][0 if lang == "zh" else 1]
    headers, rows = filing.csv_rows(ctx, catalogue)
    files = {"xlsx": write_xlsx(filing_doc, out / f"{name}.xlsx").name,
             "csv": write_csv(headers, rows, out / f"{name}.csv").name}
    docs.append((filing_doc, files))
    docs += [(build(ctx), {}) for build in GENERATORS.values()]
    for d, files in docs:
        name = FILE_NAMES[d.id][0 if lang == "zh" else 1]
        files.update({"docx": write_docx(d, out / f"{name}.docx", org_name).name,
                      "html": write_html(d, out / f"{name}.html", org_name).name})
        # the copy to file: no evidence column, no engineer's notes, the seal and signature block
        filed = d.submission()
        files["submission"] = {"docx": write_docx(filed, sub / f"{name}.docx", org_name, submission=True)
                               .relative_to(out).as_posix(),
                               "html": write_html(filed, sub / f"{name}.html", org_name, submission=True)
                               .relative_to(out).as_posix()}
    if pdf:
        from ..pdf import html_to_pdf

        for _, files in docs:
            files["pdf"] = html_to_pdf(out / files["html"], out / Path(files["html"]).with_suffix(".pdf").name).name
            html = out / files["submission"]["html"]
            files["submission"]["pdf"] = html_to_pdf(html, html.with_suffix(".pdf")).relative_to(out).as_posix()
    manifest = {"schema": MANIFEST_SCHEMA, "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "lang": lang, "organisation": org_name, "deadlines": report.get("deadlines", []),
                "documents": [{**d.manifest(), "files": files} for d, files in docs]}
    (out / "documents.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return manifest
