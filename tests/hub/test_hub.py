"""The hub: authenticated, organisation-scoped, idempotent ingestion with limits; SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os

import httpx
import pytest
from sqlalchemy import create_engine

from tests.conftest import SAMPLE_DBC
from tests.hub.conftest import db_urls, hub
from vehicle_ds.catalog import build_catalog
from vehicle_ds.hub.admin import add_user
from vehicle_ds.hub.db import Base
from vehicle_ds.hub.selfprobe import tiny_batch


def _fresh(url: str) -> str:
    Base.metadata.drop_all(create_engine(url))
    return url


def _login(base: str, user: str, pw: str) -> dict[str, str]:
    r = httpx.post(base + "/api/v1/auth/login", json={"username": user, "password": pw})
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["access_token"]}


@pytest.mark.parametrize("backend", [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(
        not os.environ.get("VEHICLE_DS_TEST_PG_URL"),
        reason="set VEHICLE_DS_TEST_PG_URL (.ci/run starts a PostgreSQL server and sets it)")),
])
def test_api_flow_and_authorization(tmp_path, backend):
    urls = {u.split(":")[0].split("+")[0]: u for u in db_urls(tmp_path)}
    url = _fresh(urls[backend])
    for name, org, role in (("alice", "org-a", "engineer"), ("bob", "org-b", "engineer"), ("root", "org-a", "admin")):
        add_user(url, org, name, f"{name}-password-123", role)
    with hub(url, None) as base:
        assert httpx.get(base + "/health").json() == {"status": "ok"}
        assert httpx.get(base + "/api/v1/documents").status_code == 401
        assert httpx.post(base + "/api/v1/auth/login", json={"username": "alice", "password": "nope"}).status_code == 401
        a, b, root = ({**_login(base, n, f"{n}-password-123"), "Content-Type": "application/json"}
                      for n in ("alice", "bob", "root"))
        # documents: validated, idempotent, scoped to the organisation
        cat = json.dumps(build_catalog([SAMPLE_DBC]))
        r1 = httpx.post(base + "/api/v1/documents", content=cat, headers=a)
        r2 = httpx.post(base + "/api/v1/documents", content=cat, headers=a)
        assert r1.status_code == 201 and r2.status_code == 200 and r1.json()["id"] == r2.json()["id"]
        doc_id = r1.json()["id"]
        assert httpx.get(base + f"/api/v1/documents/{doc_id}", headers=a).json()["schema"] == "vehicle-ds/catalog@1"
        assert httpx.get(base + f"/api/v1/documents/{doc_id}", headers=b).status_code == 404
        assert httpx.get(base + "/api/v1/documents", headers=b).json() == {"documents": []}
        bad = httpx.post(base + "/api/v1/documents", content=json.dumps({"schema": "x@1"}), headers=a)
        assert bad.status_code == 422 and "unknown schema" in bad.text
        assert httpx.post(base + "/api/v1/documents", content=b"{nope", headers=a).status_code == 422
        big = httpx.post(base + "/api/v1/documents", content=b" " * (9 * 1024 * 1024), headers=a)
        assert big.status_code == 413
        # roles
        assert httpx.get(base + "/api/v1/admin/users", headers=a).status_code == 403
        users = httpx.get(base + "/api/v1/admin/users", headers=root).json()["users"]
        assert {u["username"] for u in users} == {"alice", "root"}  # only its own organisation
        # devices: enrolment, short-lived tokens, own data only, idempotent by batch id
        code = httpx.post(base + "/api/v1/admin/enrollments", json={"vehicle_ref": "LFV-1"}, headers=root).json()["code"]
        enr = httpx.post(base + "/api/v1/devices/enroll", json={"code": code, "device_id": "gw-1"})
        assert enr.status_code == 201
        assert httpx.post(base + "/api/v1/devices/enroll", json={"code": code, "device_id": "gw-2"}).status_code == 401
        tok = httpx.post(base + "/api/v1/devices/token",
                         json={"device_id": "gw-1", "device_secret": enr.json()["device_secret"]}).json()["access_token"]
        dh = {"Authorization": f"Bearer {tok}", "Content-Type": "application/x-vehicle-ds-batch"}
        bid, body = tiny_batch("gw-1")
        assert httpx.post(base + "/api/v1/uplink", content=body, headers={**dh, "X-Batch-Id": bid}).status_code == 201
        again = httpx.post(base + "/api/v1/uplink", content=body, headers={**dh, "X-Batch-Id": bid})
        assert again.status_code == 200 and again.json()["duplicate"] is True  # its own retry, stored once
        _, other = tiny_batch("gw-999")
        assert httpx.post(base + "/api/v1/uplink", content=other, headers=dh).status_code == 403
        assert httpx.post(base + "/api/v1/uplink", content=b"garbage", headers=dh).status_code == 422
        assert httpx.post(base + "/api/v1/uplink", content=body, headers=a).status_code == 401  # a user is no device
        listed = httpx.get(base + "/api/v1/uplink/batches", headers=root).json()
        assert listed["total"] == 1 and listed["batches"][0]["records"] == 3
        assert httpx.get(base + "/api/v1/uplink/batches", headers=b).json()["total"] == 0
        assert httpx.get(base + f"/api/v1/uplink/batches/{bid}", headers=b).status_code == 404
        # the current report, per organisation
        rep = httpx.get(base + "/api/v1/reports/current", headers=a)
        assert rep.status_code == 200 and rep.json()["schema"] == "vehicle-ds/report@1"
        html = httpx.get(base + "/api/v1/reports/current?format=html&lang=zh", headers=a)
        assert "车联网数据合规报告" in html.text
        assert httpx.get(base + "/api/v1/reports/current", headers=b).status_code == 404
        assert "openapi" in httpx.get(base + "/openapi.json").text
        r = httpx.get(base + "/api/v1/documents/../../etc/passwd", headers=a)
        assert r.status_code == 404 and "Traceback" not in r.text


def test_self_probe_finds_nothing(tmp_path, tls):
    from api_probes.profile import load_profile
    from api_probes.runner import run
    from vehicle_ds.hub.selfprobe import seed_and_profile

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with hub(url, tls) as base:
        profile = seed_and_profile(url, base, str(tls["ca"]), tmp_path, build_catalog([SAMPLE_DBC]))
        doc = run(load_profile(profile))
    bad = [(c["id"], c.get("endpoint"), c["status"]) for c in doc["checks"] if c["status"] in ("fail", "warn", "error")]
    assert not bad, bad
    assert doc["summary"]["requests_sent"] > 50 and doc["summary"]["findings"] == 0
