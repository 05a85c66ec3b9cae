"""HTML to PDF with Chromium's print-to-PDF (headless): the report and the documents print on A4 as their
CSS ``@page`` rules lay them out. Chromium is a system package (Debian: ``chromium``), found on PATH or in
``VEHICLE_DS_CHROMIUM``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import InputError

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw")


def chromium() -> str | None:
    return os.environ.get("VEHICLE_DS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser") \
        or shutil.which("google-chrome")


def html_to_pdf(html: Path, pdf: Path, timeout: float = 120) -> Path:
    """Print ``html`` to ``pdf``; a clear error when no Chromium is installed or printing fails."""
    exe = chromium()
    if exe is None:
        raise InputError("PDF needs Chromium (Debian: apt install chromium), or set VEHICLE_DS_CHROMIUM")
    pdf.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vds-chromium-") as profile:
        proc = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf.resolve()}",
                               html.resolve().as_uri()], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        raise InputError(f"Chromium could not print to PDF: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}",
                         path=str(html))
    return pdf


def page_count(pdf: Path) -> int:
    """Pages of a PDF as Chromium writes it (one ``/Type /Page`` object per page)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))
