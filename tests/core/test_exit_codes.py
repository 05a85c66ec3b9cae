"""Bad input per command, as README documents: one line naming the file or cause, exit 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_DBC, run_cli
from vehicle_ds.results import Asset, new_results

FOREIGN_DBC = """VERSION ""
BS_:
BU_: ECU
BO_ 1900 OTHER_CAR: 8 ECU
 SG_ Speed : 0|16@1+ (0.01,0) [0|655.35] "km/h" ECU
"""


def _log(tmp: Path) -> Path:
    log = tmp / "drive.log"
    log.write_text("".join(f"({1.0 + i / 100:.6f}) can0 101#0011223344556677\n" for i in range(200)))
    return log


CASES = {
    "catalog, --out under a file": lambda t: ["catalog", str(SAMPLE_DBC), "--out", str(t / "afile" / "c.json")],
    "report, --out under a file": lambda t: ["report", str(t / "cat.json"), "--out", str(t / "afile" / "r.html")],
    "replay, --out under a file": lambda t: ["edge", "replay", str(_log(t)), "--dbc", str(SAMPLE_DBC), "--out",
                                             str(t / "afile" / "edge")],
    "replay, another vehicle's DBC": lambda t: ["edge", "replay", str(_log(t)), "--dbc", str(t / "other.dbc"), "--out",
                                                str(t / "edge")],
    "model-check, an empty .npz": lambda t: ["model-check", "--model", str(t / "m.onnx"), "--data", str(t / "empty.npz"),
                                             "--task", "classification", "--out", str(t / "m.json")],
}
NEEDLE = {"replay, another vehicle's DBC": "no frame matched the DBC", "model-check, an empty .npz": "empty.npz"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_and_exit_2(tmp_path, case):
    (tmp_path / "afile").write_text("a file, not a folder")
    (tmp_path / "other.dbc").write_text(FOREIGN_DBC)
    (tmp_path / "empty.npz").write_bytes(b"")
    from model_checks.demo import SIGNS_MODEL

    (tmp_path / "m.onnx").write_bytes(SIGNS_MODEL.read_bytes())
    cat = run_cli("catalog", str(SAMPLE_DBC), "--out", str(tmp_path / "cat.json"))
    assert cat.returncode == 0, cat.stderr
    proc = run_cli(*CASES[case](tmp_path))
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("vehicle-ds:")]
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and len(lines) == 1, proc.stderr[-2000:]
    assert NEEDLE.get(case, "afile") in lines[0], lines[0]


def test_a_bad_argument_exits_2_and_an_internal_error_exits_3_in_one_line(tmp_path, monkeypatch, capsys):
    proc = run_cli("catalog", "--no-such-option")
    assert proc.returncode == 2 and "--no-such-option" in proc.stderr
    import vehicle_ds.report
    from vehicle_ds.cli import main

    def broken(*a, **k):
        raise RuntimeError("a bug")

    monkeypatch.setattr(vehicle_ds.report, "build_report", broken)
    doc = new_results("probes", {}, asset=Asset("platform", "p"))
    (tmp_path / "r.json").write_text(json.dumps(doc))
    assert main(["report", str(tmp_path / "r.json"), "--out", str(tmp_path / "r.md")]) == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: a bug" in err and "--debug" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(RuntimeError):
        main(["--debug", "report", str(tmp_path / "r.json"), "--out", str(tmp_path / "r.md")])
