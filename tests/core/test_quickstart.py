"""The README's quickstart, followed literally: its shell block is run line by line on a DBC and a candump log
from outside this repository (an opendbc vehicle, and a drive made from it), and ends in a report and the
documents. A README edit that breaks a command breaks this test."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

opendbc = pytest.importorskip("opendbc", reason="opendbc ships the outside DBC (dev extra, Python 3.11-3.12)")


def _quickstart_lines() -> list[str]:
    text = (ROOT / "README.md").read_text("utf-8")
    section = text[text.index("## Quickstart"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [ln.split("  #")[0].strip() for ln in block.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def test_the_readme_quickstart_runs_from_an_outside_dbc_to_a_report_and_documents(tmp_path):
    from edge.simulate import write_log

    dbc = Path(opendbc.__file__).parent / "dbc" / "toyota_prius_2010_pt.dbc"
    assert not dbc.resolve().is_relative_to(ROOT)
    write_log([dbc], tmp_path / "drive.log", 5_000, seed=3)
    (tmp_path / "my.dbc").write_bytes(dbc.read_bytes())
    cli = f"{sys.executable} -m vehicle_ds.cli"
    lines = _quickstart_lines()
    assert len(lines) >= 8 and all("vehicle-ds" in ln or ln.startswith(("mkdir", "printf")) for ln in lines)
    for line in lines:
        proc = subprocess.run(["bash", "-c", line.replace("vehicle-ds ", cli + " ")], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
        # 1: the command ran and found something to act on (a failed requirement); anything else is a broken step
        assert proc.returncode in (0, 1), (line, proc.stderr[-2000:])
        if "edge replay" in line:  # a replay ends with its verdicts and the next step
            assert "verdicts:" in proc.stderr and "next: vehicle-ds report" in proc.stderr, proc.stderr[-1000:]
    work = tmp_path / "work"
    assert (work / "report.html").stat().st_size > 10_000 and (work / "report.zh.md").is_file()
    assert (work / "documents" / "documents.json").is_file() and list((work / "documents").glob("*.docx"))
    assert str(tmp_path) not in (work / "report.html").read_text("utf-8")  # no local folder in what travels
