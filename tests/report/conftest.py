from __future__ import annotations

import json

import numpy as np
import pytest

from api_probes.profile import load_profile
from api_probes.runner import run as run_probes
from api_probes.testplatform import FLAWS, make_tls, platform, write_profile
from edge.simulate import write_log
from model_checks.demo import SIGNS_MODEL
from model_checks.demo.render import signs
from tests.conftest import SAMPLE_DBC, run_cli
from vehicle_ds.results import write_json


@pytest.fixture(scope="session")
def real_outputs(tmp_path_factory):
    """Real outputs of the catalog, the edge agent, the probes and the model checks."""
    d = tmp_path_factory.mktemp("outputs")
    assert run_cli("catalog", str(SAMPLE_DBC), "--out", str(d / "catalog.json")).returncode == 0
    log = d / "drive.log"
    write_log([SAMPLE_DBC], log, 30_000, seed=4)
    proc = run_cli("edge", "replay", str(log), "--dbc", str(SAMPLE_DBC), "--out", str(d / "edge"),
                   "--key-file", str(d / "k.key"), "--purpose", "navigation")
    assert proc.returncode == 0, proc.stderr
    tls = make_tls(d / "tls")
    with platform({"bola", "no_hsts"}, tls) as (app, url, http_port):  # two flaws: the report must show them
        doc = run_probes(load_profile(write_profile(d / "tls", app, url, http_port, tls)))
    write_json(d / "probes" / "results.json", doc)
    x, y = signs(60, 3)
    np.savez(d / "signs.npz", x=x, y=y)
    acceptance = d / "acceptance.toml"  # certified accuracy judged against a declared threshold
    acceptance.write_text("[certified]\nradius = 0.25\nmin_accuracy = 0.0\n")
    proc = run_cli("model-check", "--model", str(SIGNS_MODEL), "--data", str(d / "signs.npz"), "--task",
                   "classification", "--suite", "quick", "--acceptance", str(acceptance),
                   "--out", str(d / "models" / "results.json"))
    assert proc.returncode == 0, proc.stderr
    (d / "signs.npz").unlink()
    assert FLAWS
    return d


def results_doc(component: str, checks: list[dict]) -> dict:
    """A results document written by hand, for status-logic tests only."""
    return {"schema": "vehicle-ds/results@1", "component": component, "tool": {"name": "fixture", "version": "0"},
            "started": "2026-11-26T00:00:00+00:00", "finished": "2026-11-26T00:01:00+00:00",
            "subject": {"fixture": True}, "checks": checks, "summary": {}}


def chk(cid: str, status: str, severity: str = "high", metrics: dict | None = None) -> dict:
    return {"id": cid, "title": f"fixture {cid}", "status": status, "severity": severity, "requirements": [],
            "evidence": {"request": "GET /api/v1/vehicles/LFV…/location", "response_status": 200},
            "metrics": metrics or {}}


@pytest.fixture
def fixture_docs(tmp_path):
    probes = results_doc("probes", [chk("probes.bola", "fail", "critical"), chk("probes.jwt.alg_none", "pass"),
                                    chk("probes.transport.hsts", "warn", "low")])
    models = results_doc("models", [
        chk("models.corruption.error", "warn", "medium",
            {"corruption_error": {"gaussian_noise": [0.1, 0.2, 0.35, 0.5, 0.7], "fog": [0.05, 0.1, 0.2, 0.3, 0.4]}}),
        chk("models.certified.accuracy", "pass", "info",
            {"certified_accuracy": {"radius": [0, 0.25, 0.5, 0.75], "accuracy": [0.9, 0.7, 0.4, 0.1]}})])
    (tmp_path / "probes.json").write_text(json.dumps(probes))
    (tmp_path / "models.json").write_text(json.dumps(models))
    return tmp_path
