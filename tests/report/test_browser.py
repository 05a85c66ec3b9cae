"""The HTML report in a real browser (Debian's chromium, headless): opens without console errors, shows
every section, and gives the screenshot the README shows."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import ROOT, run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
SECTIONS = ["summary", "matrix", "inventory", "uplink", "interfaces", "models", "processor", "appendix"]


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is installed by .ci/run (Debian package)")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_in_headless_chromium(real_outputs, tmp_path, lang):
    html = tmp_path / f"report-{lang}.html"
    run_cli("report", str(real_outputs), "--out", str(html), "--lang", lang)
    dom = _chromium(tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", html.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-ready="1"' in dom.stdout, "the page's script did not run to the end"
    for section in SECTIONS:
        assert f'id="{section}"' in dom.stdout, section
    console = [ln for ln in dom.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert not console, console
    shot = tmp_path / f"report-{lang}.png"
    proc = _chromium(tmp_path, "--window-size=1280,1600", f"--screenshot={shot}", html.as_uri())
    assert proc.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    if lang == "en" and os.environ.get("VEHICLE_DS_UPDATE_SCREENSHOT"):  # the README's picture
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, ROOT / "docs" / "report.png")
