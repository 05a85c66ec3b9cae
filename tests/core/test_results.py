"""A verdict is earned: the results format turns an unearned pass into not_assessed or needs_review."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vehicle_ds.errors import SchemaError
from vehicle_ds.results import Asset, Criterion, check, new_results, validate_results
from vehicle_ds.vocabulary import STATUSES

CRIT = Criterion("no violation", "engineering_default", minimum={"frames": 10})


@given(seen=st.integers(min_value=0, max_value=100), status=st.sampled_from(STATUSES))
def test_a_pass_never_survives_too_little_evidence(seen, status):
    c = check("x.y", "t", status, "high", [], criterion=CRIT, observed={"frames": seen})
    if seen < 10 and status in ("pass", "warn", "needs_review"):
        assert c["status"] == "not_assessed" and f"frames = {seen}" in c["reason"]
    else:
        assert c["status"] == status
    assert c["severity"] == ("info" if c["status"] in ("pass", "skipped", "not_assessed") else "high")


def test_a_pass_without_a_criterion_needs_review():
    c = check("x.y", "t", "pass", "high", [], criterion=None, observed={"frames": 10**6})
    assert c["status"] == "needs_review" and "criterion" in c["reason"]


def test_a_fail_stands_on_what_was_seen():
    c = check("x.y", "t", "fail", "critical", [], criterion=CRIT, observed={"frames": 1})
    assert c["status"] == "fail" and c["severity"] == "critical"


def test_results_2_require_criterion_observed_and_asset():
    doc = new_results("edge", {}, asset=Asset("vehicle", "v"))
    doc["checks"] = [check("edge.x", "t", "pass", "low", [], criterion=CRIT, observed={"frames": 10})]
    assert validate_results(json.loads(json.dumps(doc)))["checks"][0]["status"] == "pass"
    bare = {**doc, "checks": [{k: v for k, v in doc["checks"][0].items() if k != "criterion"}]}
    with pytest.raises(SchemaError, match="criterion"):
        validate_results(bare)
    with pytest.raises(SchemaError, match="asset"):
        validate_results({**doc, "subject": {}})


def test_results_1_are_read_with_their_passes_needing_review():
    old = {"schema": "vehicle-ds/results@1", "component": "probes", "subject": {"target": "api"},
           "checks": [{"id": "probes.bola", "title": "t", "status": "pass", "severity": "info", "requirements": []}]}
    doc = validate_results(old)
    assert doc["checks"][0]["status"] == "needs_review" and doc["subject"]["asset"]["name"] == "api"
