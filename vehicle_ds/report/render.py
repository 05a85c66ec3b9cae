"""Render the report model as HTML (one self-contained file), Markdown or JSON, in zh or en."""

from __future__ import annotations

import base64
import json
from typing import Any

from ..catalog_formats import to_csv
from ..taxonomy import TAXONOMY
from . import charts
from .build import SECTIONS
from .markdown import to_markdown
from .words import asset_name, label, template_helpers


def _model_charts(report: dict[str, Any], lang: str) -> list[str]:
    """Charts of the model results, each titled with the model it is about (assets are never merged)."""
    out = []
    for c in report["checks"]:
        if c["component"] != "models":
            continue
        m, who = c.get("metrics", {}), asset_name(c["asset"], lang)
        if isinstance(m.get("corruption_error"), dict) and m["corruption_error"]:
            series = {k: [float(x) for x in v] for k, v in m["corruption_error"].items()}
            n = max(len(v) for v in series.values())
            out.append(charts.line_chart(series, list(range(1, n + 1)), f"{label('error_vs_severity', lang)} — {who}",
                                         label("severity_axis", lang), label("error_axis", lang), y_max=1.0))
        cert = m.get("certified_accuracy")
        if isinstance(cert, dict) and cert.get("radius") and cert.get("accuracy"):
            out.append(charts.line_chart({label("certified", lang): [float(a) for a in cert["accuracy"]]},
                                         [float(r) for r in cert["radius"]], f"{label('certified', lang)} — {who}",
                                         label("radius_axis", lang), label("accuracy_axis", lang), y_max=1.0))
    return out


def _data_uri(text: str) -> str:
    return "data:text/csv;charset=utf-8;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


def to_html(report: dict[str, Any], lang: str) -> str:
    from ..templating import render as render_template

    inv_charts, downloads = [], []
    for inv in report["inventory"]:
        cats = sorted(inv["grade_by_category"], key=lambda k: -sum(inv["grade_by_category"][k].values()))
        names = {k: TAXONOMY.label("categories", k, lang) for k in cats}
        inv_charts.append(charts.stacked_bars([(names[k], inv["grade_by_category"][k]) for k in cats],
                                              ["general", "important", "core"],
                                              {g: TAXONOMY.label("grades", g, lang) for g in TAXONOMY.grades},
                                              label("by_category_grade", lang)))
        inv_charts.append(charts.stacked_bars([(names[k], inv["pi_by_category"][k]) for k in cats],
                                              ["none", "pi", "sensitive"],
                                              {p: TAXONOMY.label("pi", p, lang) for p in TAXONOMY.pi},
                                              label("by_category_pi", lang)))
        doc = {"entries": inv["entries"]}
        downloads.append({"important": _data_uri(to_csv(doc, important_only=True)), "ledger": _data_uri(to_csv(doc))})
    by_sev = report["summary"]["findings_by_severity"]
    statuses = ["fail", "error", "warn", "needs_review"]
    sev_chart = charts.stacked_bars([(label(s, lang), v) for s, v in by_sev.items()], statuses,
                                    {s: label(s, lang) for s in statuses}, label("findings_by_severity", lang)) \
        if any(by_sev.values()) else ""
    return render_template("report.html.j2", r=report, lang=lang, tax=TAXONOMY, inv_charts=inv_charts,
                           downloads=downloads, sev_chart=sev_chart, model_charts=_model_charts(report, lang),
                           dumps=_evidence_json, component_of=dict(SECTIONS), **template_helpers(lang))


def _evidence_json(obj: Any) -> str:
    text = json.dumps(obj, ensure_ascii=False, indent=1, default=str)
    return text if len(text) < 4000 else text[:4000] + "\n…"


def to_json(report: dict[str, Any], lang: str) -> str:
    slim = {**report, "inventory": [{k: v for k, v in inv.items() if k != "entries"} for inv in report["inventory"]],
            "lang": lang}
    return json.dumps(slim, ensure_ascii=False, indent=2, default=str) + "\n"


RENDERERS = {"html": to_html, "md": to_markdown, "json": to_json}


def render(report: dict[str, Any], fmt: str, lang: str) -> str:
    return RENDERERS[fmt](report, lang)
