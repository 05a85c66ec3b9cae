"""A :class:`Document` as one self-contained HTML page: for review in a browser, for Chromium's
print-to-PDF (A4) and for the Chinese-register lint."""

from __future__ import annotations

from pathlib import Path

from ..templating import render
from .model import Document


def to_html(d: Document, org_name: str = "") -> str:
    heads = ("栏目", "内容", "来源") if d.lang == "zh" else ("Field", "Content", "Evidence")
    return render("document.html.j2", d=d, org_name=org_name, heads=heads, kind=lambda b: type(b).__name__,
                  person="由人员填写" if d.lang == "zh" else "a person writes it")


def write_html(d: Document, path: Path, org_name: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_html(d, org_name), "utf-8")
    return path
