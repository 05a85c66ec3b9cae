"""Logout ends the session: the probe logs out a fresh session of its own, never the run's."""

from __future__ import annotations

from tests.probes.conftest import run_platform as _run

PROBES = ["probes.auth.logout", "probes.bola"]


def test_logout_that_revokes_passes_and_the_runs_own_session_survives(tmp_path, tls):
    doc, app = _run(tmp_path, tls, set(), only=PROBES, allow_unsafe=True)
    status = {c["id"]: c["status"] for c in doc["checks"]}
    [out] = [c for c in doc["checks"] if c["id"] == "probes.auth.logout"]
    assert out["status"] == "pass" and out["evidence"]["still_accepted"] == []
    assert {v["status"] for v in out["evidence"]["after"].values()} == {401}
    assert app.state.platform.revoked  # the platform did revoke something: the fresh token
    # the probes after it still ran as alice: her run token was not the one logged out
    assert status["probes.bola"] == "pass"
    assert not [c for c in doc["checks"] if c["status"] == "error"]


def test_logout_that_revokes_nothing_fails_for_token_and_cookie(tmp_path, tls):
    doc, _ = _run(tmp_path, tls, {"logout_ignored"}, only=["probes.auth.logout"], allow_unsafe=True)
    [out] = doc["checks"]
    assert out["status"] == "fail" and out["evidence"]["still_accepted"] == ["cookie", "token"]


def test_logout_needs_the_write_opt_in(tmp_path, tls):
    doc, _ = _run(tmp_path, tls, {"logout_ignored"}, only=["probes.auth.logout"], allow_unsafe=False)
    assert doc["checks"][0]["status"] == "skipped"
