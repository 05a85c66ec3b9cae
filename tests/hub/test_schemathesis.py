"""schemathesis ``--checks all`` against a live hub with a user, an admin and a device token: no 5xx, every
response conforms to the OpenAPI document (status codes, content types, headers, bodies), schema-violating
requests are refused, undeclared methods answer 405 with Allow, and schema-valid requests are accepted except
where ``schemathesis.toml`` says why a schema cannot state the rule."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from vehicle_ds.hub.admin import add_user
from vehicle_ds.hub.app import create_app
from vehicle_ds.hub.serve import free_port, serve_in_thread

CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.mark.skipif(shutil.which("schemathesis") is None and not any(
    p.endswith("schemathesis") for p in sys.path), reason="schemathesis is in the dev extra")
def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    add_user(url, "org-a", "root", "root-password-123", "admin")
    add_user(url, "org-a", "alice", "alice-password-123", "engineer")
    app = create_app(url, rate_scale=1000.0)  # the fuzzer, not the rate limit, is under test
    with serve_in_thread(app, free_port()) as base:
        def token(user):
            return httpx.post(base + "/api/v1/auth/login", json={"username": user, "password": f"{user}-password-123"}
                              ).json()["access_token"]
        root = token("root")
        code = httpx.post(base + "/api/v1/admin/enrollments", json={"vehicle_ref": "V1"},
                          headers={"Authorization": f"Bearer {root}"}).json()["code"]
        secret = httpx.post(base + "/api/v1/devices/enroll", json={"code": code, "device_id": "gw-fuzz"}).json()
        device = httpx.post(base + "/api/v1/devices/token", json={"device_id": "gw-fuzz",
                                                                 "device_secret": secret["device_secret"]}).json()
        failures = {}
        for name, tok in (("engineer", token("alice")), ("admin", root), ("device", device["access_token"])):
            report = tmp_path / f"{name}.json"
            proc = subprocess.run(
                [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", base + "/openapi.json",
                 "-H", f"Authorization: Bearer {tok}", "--checks", "all", "--max-examples", "12",
                 "--generation-deterministic", "--no-color", "--report", "ndjson", "--report-ndjson-path", str(report)],
                capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                (tmp_path / f"{name}.txt").write_text(proc.stdout)
                failures[name] = [ln for ln in proc.stdout.splitlines()
                                  if ln.startswith(("___", "- ", "    Received", "    Invalid", "[5", "[4", "[2"))]
        assert not failures, json.dumps(failures, indent=1)
