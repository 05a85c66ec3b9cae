"""The HTML report and the documents in a real browser (Debian's chromium, headless): the page opens without
console errors and shows every section; its layout holds at a 1,280 px screen and at A4 width (no element
wider than the page); the Chinese is drawn with CJK glyphs (no tofu); the PDFs Chromium prints have a
sensible number of pages and embed a CJK font. The screenshots are written for a person to look at, in
$VEHICLE_DS_SCREENSHOTS (default: <tmp>/vehicle-ds-screenshots)."""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from vehicle_ds.pdf import page_count

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
SECTIONS = ["summary", "matrix", "inventory", "uplink", "interfaces", "models", "processor", "appendix"]
A4_PX = 794  # 210 mm at 96 px per inch
SHOTS = Path(os.environ.get("VEHICLE_DS_SCREENSHOTS", Path(tempfile.gettempdir()) / "vehicle-ds-screenshots"))
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is installed by .ci/run (Debian package)")

# Measures the page after load and writes what it found into <body data-layout>: elements wider than the
# viewport (outside scrolling <pre>), and CJK characters that draw the same as a character no font has (tofu).
LAYOUT_PROBE = """<script>
window.addEventListener("load", function () {
  var vw = window.innerWidth, wide = [];
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width && r.right > vw + 1 && !el.closest("pre")) wide.push(el.tagName + "." + el.className + "@" + Math.round(r.right));
  });
  var font = getComputedStyle(document.body).fontFamily, c = document.createElement("canvas");
  c.width = c.height = 40;
  var g = c.getContext("2d");
  function draw(ch) { g.clearRect(0, 0, 40, 40); g.font = "28px " + font; g.fillText(ch, 4, 32);
    return Array.prototype.join.call(g.getImageData(0, 0, 40, 40).data.filter(function (v, i) { return i % 4 == 3; }), ","); }
  var text = document.body.innerText, seen = {}, chars = [];
  for (var i = 0; i < text.length && chars.length < 60; i++) { var ch = text[i];
    if (ch >= "\\u4e00" && ch <= "\\u9fff" && !seen[ch]) { seen[ch] = 1; chars.push(ch); } }
  var missing = draw("\\uE000"), shapes = {}, tofu = [];
  chars.forEach(function (ch) { var s = draw(ch); if (s === missing) tofu.push(ch); shapes[s] = 1; });
  document.body.setAttribute("data-layout", JSON.stringify({viewport: vw, scroll: document.documentElement.scrollWidth,
    wide: wide.slice(0, 20), cjk: chars.length, distinct: Object.keys(shapes).length, tofu: tofu}));
});
</script>"""


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=180)


def layout(tmp_path: Path, page: Path, width: int) -> dict:
    """What the layout probe measured on ``page`` at ``width`` px."""
    probed = tmp_path / f"probed-{width}-{page.name}"
    probed.write_text(page.read_text("utf-8").replace("</body>", LAYOUT_PROBE + "</body>"), "utf-8")
    proc = _chromium(tmp_path, f"--window-size={width},1200", "--virtual-time-budget=10000", "--dump-dom",
                     probed.as_uri())
    m = re.search(r'data-layout="([^"]*)"', proc.stdout)
    assert m, proc.stderr[-1500:]
    return json.loads(html_lib.unescape(m.group(1)))


def assert_fits(found: dict, page: str, chinese: bool) -> None:
    assert found["scroll"] <= found["viewport"] and not found["wide"], (page, found)
    if chinese:
        assert found["cjk"] >= 20 and not found["tofu"], (page, found)
        assert found["distinct"] == found["cjk"], (page, found)  # each character its own glyph


def screenshot(tmp_path: Path, page: Path, name: str, width: int = 1280, height: int = 1600) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / name
    proc = _chromium(tmp_path, f"--window-size={width},{height}", f"--screenshot={shot}", page.as_uri())
    assert proc.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 30_000
    return shot


def pdf_fonts(pdf: Path) -> set[str]:
    return {m.decode("latin-1") for m in re.findall(rb"/BaseFont\s*/([A-Za-z0-9+#_-]+)", pdf.read_bytes())}


@needs_chromium
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
    for width in (1280, A4_PX):  # a laptop screen, and the printed page
        assert_fits(layout(tmp_path, html, width), f"report-{lang}@{width}", lang == "zh")
    shot = screenshot(tmp_path, html, f"report-{lang}.png")
    if lang == "en" and os.environ.get("VEHICLE_DS_UPDATE_SCREENSHOT"):  # the README's picture
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, ROOT / "docs" / "report.png")


@needs_chromium
def test_report_prints_to_a4_pdf_with_chinese_glyphs(real_outputs, tmp_path):
    pdf = tmp_path / "report.pdf"
    proc = run_cli("report", str(real_outputs), "--out", str(pdf), "--lang", "zh", "--format", "pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-", proc.stderr
    assert 4 <= page_count(pdf) <= 80
    fonts = pdf_fonts(pdf)
    assert any(re.search(r"WenQuanYi|CJK|Hei|Song|Ming", f) for f in fonts), fonts
    shutil.copyfile(pdf, (SHOTS.mkdir(parents=True, exist_ok=True), SHOTS / "report-zh.pdf")[1])


@needs_chromium
def test_documents_lay_out_on_a4_and_print(real_outputs, tmp_path):
    org = tmp_path / "org.toml"
    org.write_text(resources.files("vehicle_ds").joinpath("data/org.example.toml").read_text("utf-8"), "utf-8")
    out = tmp_path / "docs"
    proc = run_cli("documents", str(real_outputs), "--org", str(org), "--out", str(out), "--pdf")
    assert proc.returncode == 0, proc.stderr[-2000:]
    manifest = json.loads((out / "documents.json").read_text("utf-8"))
    for d in manifest["documents"]:
        page = out / d["files"]["html"]
        assert_fits(layout(tmp_path, page, A4_PX), d["id"], chinese=True)
        pdf = out / d["files"]["pdf"]
        assert 1 <= page_count(pdf) <= 40, (d["id"], page_count(pdf))
        assert any(re.search(r"WenQuanYi|CJK|Hei|Song|Ming", f) for f in pdf_fonts(pdf)), d["id"]
        # the copy to file prints too: the filing's wide table on A4 landscape pages, every other on A4 portrait
        filed = out / d["files"]["submission"]["pdf"]
        w, h = (float(x) for x in re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)", filed.read_bytes()).groups())
        assert (w > h) == (d["id"] == "filing") and round(max(w, h)) == 842, (d["id"], w, h)  # A4: 595 x 842 pt
        shot = screenshot(tmp_path, page, f"document-{d['id']}.png", width=1000, height=1300)
        if os.environ.get("VEHICLE_DS_UPDATE_SCREENSHOT"):  # the README's pictures: a page of each
            shutil.copyfile(shot, ROOT / "docs" / f"document-{d['id']}.png")


@needs_chromium
def test_the_layout_probe_sees_a_page_wider_than_the_screen(tmp_path):
    page = tmp_path / "wide.html"
    page.write_text("<!DOCTYPE html><html><body><table><tr><td>" + "x" * 400 + "</td></tr></table>"
                    + "<p>" + "合规报告" * 10 + "</p></body></html>", "utf-8")
    found = layout(tmp_path, page, A4_PX)
    assert found["wide"] and found["scroll"] > A4_PX
    with pytest.raises(AssertionError):
        assert_fits(found, "wide", chinese=False)
