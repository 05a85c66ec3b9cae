"""The Chinese report reads as a regulator's text: every check title, criterion and reason from the register
(no English sentence left outside identifiers, code and quoted evidence), full-width punctuation, the law's
terms, and citations as 《法规名称》第X条."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from vehicle_ds import zh, zhlint
from vehicle_ds.report import build_report, load_inputs
from vehicle_ds.taxonomy import TAXONOMY


@pytest.fixture(scope="module")
def model(real_outputs):
    return build_report(load_inputs([real_outputs]))


def test_every_check_the_components_wrote_has_its_chinese(model):
    missing = set()
    for c in model["checks"]:
        for key, text in c["zh"].items():
            if "「" in text:  # a fallback: the register does not know this English
                missing.add((c["id"], key, text[:80]))
    for r in model["requirements"]:
        for a in r["by_asset"]:
            if a["reason"] and zh.sentence(a["reason"]) is None:
                missing.add((r["id"], "reason", a["reason"][:80]))
    assert not missing, sorted(missing)


def test_figures_come_from_the_check_not_from_the_register():
    c = {"id": "models.certified.accuracy", "title": "Certified accuracy by randomized smoothing (σ=0.5, n=1,000, α=0.01)",
         "criterion": {"text": "certified accuracy ≥ 0.35 at radius 0.5"}}
    f = zh.zh_fields(c)
    assert f["title"] == "随机平滑可证明准确率（σ=0.5，n=1,000，α=0.01）"
    assert f["criterion"] == "半径0.5处的可证明准确率不低于0.35"
    reshaped = {**c, "criterion": {"text": "certified accuracy is high"}}  # no figures to fill in: never a wrong one
    assert zh.zh_fields(reshaped)["criterion"] == "「certified accuracy is high」"


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_the_zh_report_passes_the_register_lint_and_the_en_one_does_not(real_outputs, tmp_path, fmt):
    for lang in ("zh", "en"):
        out = tmp_path / f"r-{lang}.{fmt}"
        run_cli("report", str(real_outputs), "--out", str(out), "--lang", lang, "--format", fmt)
        text = out.read_text("utf-8")
        findings = zhlint.lint_html(text) if fmt == "html" else zhlint.lint_markdown(text)
        if lang == "zh":
            assert not findings, [str(f) for f in findings[:8]]
            assert "《汽车数据安全管理若干规定（试行）》第" in text and "去标识化" in text
        else:
            assert len(findings) > 30  # the lint can fail: English prose is found


def test_the_lint_catches_each_kind_of_slip():
    assert [f.rule for f in zhlint.lint("总体结论: 不符合")] == ["punctuation"]
    assert [f.rule for f in zhlint.lint("证据：the bus shows no cabin data here")] == ["english"]
    assert [f.rule for f in zhlint.lint("标识符假名化处理")] == ["term"]
    assert not zhlint.lint("拒绝 alg none 令牌 — GET /api/v1/users/me「the forged token was accepted by it」")
    assert zhlint.lint_html("<p>结论：符合</p><pre>the bus shows no cabin data here</pre>") == []


def test_every_basis_has_a_formal_citation():
    for bid, b in TAXONOMY.basis.items():
        assert b.cite and (b.cite.startswith(("《", "GB/T", "YD/T", "EDPB", "OWASP", "ISO", "联合国")) or bid == "R155-A5"), bid
        assert not zhlint.lint(b.cite), bid
    assert zh.cite("CN-ADR-3") == "《汽车数据安全管理若干规定（试行）》第三条"
    assert zh.cite("CN-ADR-6").endswith("（条文未经原文核实）")  # a secondary source says so


def test_the_markdown_report_has_every_section_the_html_has(real_outputs, tmp_path):
    run_cli("report", str(real_outputs), "--out", str(tmp_path / "r.md"), "--format", "md")
    md = (tmp_path / "r.md").read_text("utf-8")
    for title in ("Executive summary", "Requirement matrix", "Data inventory and grading", "What leaves the vehicle",
                  "Interface security", "Model robustness", "Processor-level obligations", "Appendix", "Deadlines"):
        assert f"## {title}" in md or f"### {title}" in md, title
    report = json.loads(run_cli("report", str(real_outputs), "--out", str(tmp_path / "r.json"),
                                "--format", "json").stderr and (tmp_path / "r.json").read_text())
    for i in report["inputs"]:
        assert i["sha256"] in md  # the appendix names every input in full


def test_every_check_id_in_the_code_has_a_chinese_title():
    """Ids the demo does not produce (an unreadable log, a failed login, live checks) are in the register too."""
    import re

    from tests.conftest import ROOT

    ids = set()
    for folder in ("edge", "api_probes", "model_checks", "vehicle_ds"):
        for f in (ROOT / folder).rglob("*.py"):
            ids |= set(re.findall(r'check\(\s*f?"((?:edge|probes|models|catalog|datasets)\.[a-z_0-9.]+)"', f.read_text()))
            ids |= set(re.findall(r'"id": "((?:edge|probes|models)\.[a-z_0-9.]+)"', f.read_text()))
    assert len(ids) > 20
    assert not [i for i in sorted(ids) if not zh.known(i)]
