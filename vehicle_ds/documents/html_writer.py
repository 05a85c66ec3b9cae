"""A :class:`Document` as one self-contained HTML page: for review in a browser, for Chromium's
print-to-PDF (A4) and for the Chinese-register lint."""

from __future__ import annotations

from pathlib import Path

from ..templating import render
from .model import Document, Table


def to_html(d: Document, org_name: str = "", submission: bool = False) -> str:
    """The working copy names each value's evidence (来源); the submission copy leaves that column out and prints
    on A4 landscape when it holds a wide table (the filing form)."""
    heads = ("栏目", "内容", "来源") if d.lang == "zh" else ("Field", "Content", "Evidence")
    landscape = submission and any(isinstance(b, Table) and b.wide for b in d.blocks)
    return render("document.html.j2", d=d, org_name=org_name, heads=heads[:2] if submission else heads,
                  kind=lambda b: type(b).__name__, submission=submission, landscape=landscape,
                  person="由人员填写" if d.lang == "zh" else "a person writes it")


def write_html(d: Document, path: Path, org_name: str = "", submission: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_html(d, org_name, submission), "utf-8")
    return path
