"""Remediation: every requirement says how to fix it; findings with one cause are one top risk; actions with
owner, due date and state are carried from run to run and turn into the decisions management must take."""

from __future__ import annotations

import datetime as dt
import json

from tests.conftest import run_cli
from vehicle_ds.report import build_report, load_inputs
from vehicle_ds.report.actions import Action, apply_actions
from vehicle_ds.report.build import load_requirements


def test_every_requirement_has_remediation_in_both_languages():
    for r in load_requirements():
        assert r["remediation_zh"].strip() and r["remediation_en"].strip(), r["id"]


def test_top_risks_are_one_row_per_cause(real_outputs):
    rep = build_report(load_inputs([real_outputs]))
    ids = [rep["checks"][i]["id"] for i in rep["summary"]["top_risks"]]
    assert len(ids) == len(set(ids))  # a cause appears once, its variants counted
    failing = [c["id"] for c in rep["checks"] if c["status"] in ("fail", "error") and "folded_into" not in c]
    many = {cid for cid in failing if failing.count(cid) > 1}
    for i, n in rep["summary"]["top_risk_variants"].items():
        assert rep["checks"][int(i)]["id"] in many and n == failing.count(rep["checks"][int(i)]["id"])


def test_actions_carry_over_and_become_decisions(real_outputs, tmp_path):
    rep = build_report(load_inputs([real_outputs]))
    fails = [q["id"] for q in rep["requirements"] if q["status"] == "fail"]
    passes = [q["id"] for q in rep["requirements"] if q["status"] == "pass"]
    assert len(fails) >= 2 and passes
    today = dt.date(2026, 12, 1)
    actions = [Action(fails[0], "A. Owner", dt.date(2026, 11, 1), "in_progress"),  # overdue
               Action(fails[1], "B. Owner", dt.date(2027, 1, 1), "accepted_risk"),
               Action(passes[0], "C. Owner", dt.date(2026, 12, 20), "open")]  # passes now: can be closed
    apply_actions(rep, actions, today)
    d = rep["summary"]["decisions"]
    assert [a["target"] for a in d["overdue"]] == [fails[0]]
    assert d["risk_acceptance_to_sign"] == [fails[1]] and passes[0] in d["closable"]
    assert set(d["unowned_failures"]) == set(fails[2:])
    toml = tmp_path / "actions.toml"
    toml.write_text(f'[[action]]\ntarget = "{fails[0]}"\nowner = "A. Owner"\ndue = 2026-11-01\nstate = "done"\n')
    out = tmp_path / "r.json"
    proc = run_cli("report", str(real_outputs), "--actions", str(toml), "--format", "json", "--out", str(out))
    assert proc.returncode == 1, proc.stderr  # still failing
    again = json.loads(out.read_text())
    assert fails[0] in again["summary"]["decisions"]["done_but_still_failing"]  # the next run checks the claim
    req = next(q for q in again["requirements"] if q["id"] == fails[0])
    assert req["actions"][0]["owner"] == "A. Owner" and req["remediation"]["en"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[[action]]\ntarget = "X"\nowner = "o"\ndue = "soon"\nstate = "open"\n')
    assert run_cli("report", str(real_outputs), "--actions", str(bad), "--out", str(tmp_path / "x.json")).returncode == 2
