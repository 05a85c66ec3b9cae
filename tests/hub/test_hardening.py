"""Regression tests for the hub's defects: single-use enrolment, key and database permissions, 4xx for every
bad input, batch-id semantics, revocation, and the OpenAPI document. On SQLite, and on PostgreSQL when CI
provides one."""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
import os
import stat
import time
import zlib

import httpx
import msgpack
import pytest
from sqlalchemy import create_engine, inspect

from tests.hub.conftest import db_urls, hub
from vehicle_ds.hub.admin import add_user
from vehicle_ds.hub.db import Base
from vehicle_ds.hub.selfprobe import tiny_batch
from vehicle_ds.uplink_format import MAGIC, SCHEMA

BATCH = "application/x-vehicle-ds-batch"


def _backends():
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
        not os.environ.get("VEHICLE_DS_TEST_PG_URL"), reason="set VEHICLE_DS_TEST_PG_URL (.ci/run sets it)"))]


@pytest.fixture(params=_backends())
def live(request, tmp_path):
    urls = {u.split(":")[0].split("+")[0]: u for u in db_urls(tmp_path)}
    url = urls[request.param]
    Base.metadata.drop_all(create_engine(url))
    add_user(url, "org-a", "root", "root-password-123", "admin")
    add_user(url, "org-a", "alice", "alice-password-123", "engineer")
    add_user(url, "org-b", "bob", "bob-password-123", "engineer")
    with hub(url, None) as base:
        yield base, url, tmp_path


def _login(base: str, user: str) -> dict[str, str]:
    r = httpx.post(base + "/api/v1/auth/login", json={"username": user, "password": f"{user}-password-123"})
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["access_token"], "Content-Type": "application/json"}


def _code(base: str, root: dict) -> str:
    return httpx.post(base + "/api/v1/admin/enrollments", json={"vehicle_ref": "LFV-1"}, headers=root).json()["code"]


def _device(base: str, root: dict, device_id: str) -> dict[str, str]:
    enr = httpx.post(base + "/api/v1/devices/enroll", json={"code": _code(base, root), "device_id": device_id})
    assert enr.status_code == 201, enr.text
    tok = httpx.post(base + "/api/v1/devices/token", json={"device_id": device_id,
                                                           "device_secret": enr.json()["device_secret"]})
    return {"Authorization": "Bearer " + tok.json()["access_token"], "Content-Type": BATCH}


def _raw_batch(doc: dict) -> bytes:
    return MAGIC + zlib.compress(msgpack.packb(doc, use_bin_type=True), 1)


def test_one_enrolment_code_enrols_one_device(live):
    base, _, _ = live
    root = _login(base, "root")
    code = _code(base, root)
    with cf.ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda i: httpx.post(base + "/api/v1/devices/enroll",
                                                   json={"code": code, "device_id": f"gw-{i}"}).status_code, range(10)))
    assert sorted(codes) == [201] + [401] * 9
    unknown = httpx.post(base + "/api/v1/devices/enroll", json={"code": "no-such-code-123", "device_id": "gw-x"})
    assert unknown.status_code == 401
    c1, c2 = _code(base, root), _code(base, root)
    with cf.ThreadPoolExecutor(2) as pool:
        same_id = list(pool.map(lambda c: httpx.post(base + "/api/v1/devices/enroll",
                                                     json={"code": c, "device_id": "gw-same"}).status_code, (c1, c2)))
    assert sorted(same_id) == [201, 409]


def test_signing_key_and_database_are_private(live):
    base, url, tmp_path = live
    root = _login(base, "root")
    _device(base, root, "gw-perm")
    if url.startswith("sqlite"):
        db = tmp_path / "hub.db"
        for p in (db, db.with_name("hub.db-wal"), db.with_name("hub.db-shm"), db.with_name("hub.db.signing-key.pem")):
            if p.exists():
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        assert (tmp_path / "hub.db.signing-key.pem").exists()
    assert "hub_keys" not in inspect(create_engine(url)).get_table_names()  # no key in the database


BAD_BATCHES = {
    "messages not maps": {"M": 1},
    "rows a string": {"M": {"n": "abc", "t": b"", "signals": {}}},
    "rows NaN": {"M": {"n": math.nan, "t": b"", "signals": {}}},
    "rows inf": {"M": {"n": math.inf, "t": b"", "signals": {}}},
    "rows 2**63": {"M": {"n": 2 ** 63, "t": b"", "signals": {}}},
    "rows negative": {"M": {"n": -3, "t": b"", "signals": {}}},
    "signals a number": {"M": {"n": 0, "t": b"", "signals": 5}},
    "signal name an int": {"M": {"n": 0, "t": b"", "signals": {7: {}}}},
    "message name bytes": {b"M": {"n": 0, "t": b"", "signals": {}}},
    "t too short": {"M": {"n": 3, "t": b"\x00" * 8, "signals": {}}},
}


@pytest.mark.parametrize("batch_id", [None, {}, "", "\x00", "../x", "🚗", "a" * 65, "-lead"])
def test_invalid_batch_ids_are_refused(live, batch_id):
    base, _, _ = live
    dev = _device(base, _login(base, "root"), "gw-ids")
    doc = {"schema": SCHEMA, "batch_id": batch_id, "device": "gw-ids", "messages": {}}
    r = httpx.post(base + "/api/v1/uplink", content=_raw_batch(doc), headers=dev)
    assert r.status_code == 422, (batch_id, r.status_code, r.text)


def test_every_bad_input_is_a_4xx(live):
    base, _, _ = live
    root, alice = _login(base, "root"), _login(base, "alice")
    dev = _device(base, root, "gw-bad")
    for why, messages in BAD_BATCHES.items():
        raw = _raw_batch({"schema": SCHEMA, "batch_id": "b1", "device": "gw-bad", "messages": messages})
        r = httpx.post(base + "/api/v1/uplink", content=raw, headers=dev)
        assert r.status_code == 422, (why, r.status_code, r.text)
    bomb = _raw_batch({"schema": SCHEMA, "batch_id": "bomb", "device": "gw-bad", "pad": b"\x00" * (32 << 20),
                       "messages": {}})
    assert len(bomb) * 64 < 32 << 20  # inflates more than the hub allows for its size
    assert httpx.post(base + "/api/v1/uplink", content=bomb, headers=dev).status_code == 422  # inflate cap
    _, body = tiny_batch("gw-bad")
    wrong_type = httpx.post(base + "/api/v1/uplink", content=body, headers={**dev, "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    assert httpx.post(base + "/api/v1/documents", content=b"{}", headers={**alice, "Content-Type": "text/csv"}
                      ).status_code == 415
    for doc in (b'{"schema": "vehicle-ds/results@2", "x": NaN}', b"[" * 5000 + b"]" * 5000, b"{nope",
                b'{"schema": "vehicle-ds/results@2", "component": "edge", "checks": 5}',
                b'{"schema": "vehicle-ds/results@2", "x": 1e999}',  # overflows to infinity: refused, never a 500
                b'{"schema": "vehicle-ds/results@2", "x": "a\\u0000b"}'):  # NUL: PostgreSQL cannot store it
        r = httpx.post(base + "/api/v1/documents", content=doc, headers=alice)
        assert r.status_code == 422, (doc[:40], r.status_code)
    assert httpx.get(base + "/api/v1/uplink/batches?offset=99999999999999999999", headers=alice).status_code == 422
    assert httpx.get(base + "/api/v1/uplink/batches/" + "x" * 500, headers=alice).status_code == 404


def test_own_retry_is_200_and_a_taken_id_is_409(live):
    base, _, _ = live
    root = _login(base, "root")
    a, b = _device(base, root, "gw-a"), _device(base, root, "gw-b")
    bid, body = tiny_batch("gw-a")
    assert httpx.post(base + "/api/v1/uplink", content=body, headers=a).status_code == 201
    retry = httpx.post(base + "/api/v1/uplink", content=body, headers=a)
    assert retry.status_code == 200 and retry.json() == {"batch_id": bid, "stored": False, "duplicate": True}
    _, theirs = tiny_batch("gw-b", batch_id=bid)
    taken = httpx.post(base + "/api/v1/uplink", content=theirs, headers=b)
    assert taken.status_code == 409 and taken.json()["code"] == "batch_id_taken"


def test_revoked_users_and_devices_stop_working_at_once(live):
    base, _, _ = live
    root, alice = _login(base, "root"), _login(base, "alice")
    dev = _device(base, root, "gw-rev")
    assert httpx.get(base + "/api/v1/users/me", headers=alice).status_code == 200
    assert httpx.delete(base + "/api/v1/admin/users/alice", headers=root).status_code == 200
    assert httpx.get(base + "/api/v1/users/me", headers=alice).status_code == 401
    assert httpx.delete(base + "/api/v1/admin/users/bob", headers=root).status_code == 404  # another organisation
    _, body = tiny_batch("gw-rev")
    assert httpx.delete(base + "/api/v1/admin/devices/gw-rev", headers=root).status_code == 200
    assert httpx.post(base + "/api/v1/uplink", content=body, headers=dev).status_code == 401


def test_openapi_declares_bodies_and_errors(live):
    base, _, _ = live
    spec = httpx.get(base + "/openapi.json").json()
    up = spec["paths"]["/api/v1/uplink"]["post"]
    assert BATCH in up["requestBody"]["content"] and {"413", "415", "422", "429"} <= set(up["responses"])
    docs = spec["paths"]["/api/v1/documents"]["post"]
    assert "application/json" in docs["requestBody"]["content"] and {"413", "415", "422"} <= set(docs["responses"])
    assert json.dumps(spec)  # strict JSON


def test_thirty_concurrent_batches_from_one_device_add_exactly_their_records(live):
    """Dataset facts are counted in the database: 30 batches of 10 records sent at once from one device raise
    the category's records by exactly 300 (a read-modify-write lost two thirds of them on SQLite)."""
    from concurrent.futures import ThreadPoolExecutor

    base, _url, _ = live
    root = _login(base, "root")
    dev = _device(base, root, "gw-burst")
    bodies = [tiny_batch("gw-burst", rows=10)[1] for _ in range(30)]

    def send(body: bytes) -> int:  # as the agent's sender does: a 429 is retried after Retry-After
        while True:
            r = httpx.post(base + "/api/v1/uplink", content=body, headers=dev, timeout=60)
            if r.status_code != 429:
                return r.status_code
            time.sleep(float(r.headers.get("retry-after", "1")))

    with ThreadPoolExecutor(max_workers=30) as pool:
        codes = list(pool.map(send, bodies))
    assert codes == [201] * 30
    cats = {c["category"]: c for c in httpx.get(base + "/api/v1/datasets/observed", headers=root).json()["categories"]}
    assert sum(c["records"] for c in cats.values()) == 300, cats


def test_rate_limits_hold_across_worker_processes(tmp_path, monkeypatch):
    """`hub serve --workers 3` tells each worker how many there are (VEHICLE_DS_HUB_WORKERS), and each keeps its
    share of every limit: a burst of one user's report requests spread over the three workers' buckets passes
    exactly the documented burst of 3, undivided it would pass 9. The clock is held still, so the count cannot
    depend on how busy the machine is."""
    from vehicle_ds.hub.app import from_environment
    from vehicle_ds.hub.deps import REPORT_BURST
    from vehicle_ds.hub.security import PER_IDENTITY_BURST

    monkeypatch.setenv("VEHICLE_DS_HUB_DB", f"sqlite:///{tmp_path / 'hub.db'}")
    monkeypatch.setenv("VEHICLE_DS_HUB_KEY_FILE", str(tmp_path / "hub.key"))
    monkeypatch.setenv("VEHICLE_DS_HUB_WORKERS", "3")
    workers = [from_environment().state.hub.auth for _ in range(3)]  # what uvicorn builds in each process
    monkeypatch.setattr("vehicle_ds.hub.security.time.monotonic", lambda: 1000.0)
    passed = sum(workers[n % 3].report.allow("u:eng") for n in range(15))
    assert passed == REPORT_BURST
    # 20 does not divide by 3: each worker holds 6.67 tokens and passes 6, so the sum stays under the document
    assert sum(workers[n % 3].per_identity.allow("u:eng") for n in range(60)) == 3 * int(PER_IDENTITY_BURST / 3)
    monkeypatch.setenv("VEHICLE_DS_HUB_WORKERS", "1")
    alone = from_environment().state.hub.auth
    assert sum(alone.report.allow("u:eng") for _ in range(15)) == REPORT_BURST  # one process keeps the whole limit


def test_options_and_405_name_every_method_the_path_serves(tmp_path):
    """Starlette names only the first route of a path in Allow; a path with GET, PUT and DELETE routes must
    say all three (RFC 9110 §15.5.6), and OPTIONS answers 204 with them."""
    from fastapi.testclient import TestClient

    from vehicle_ds.hub.app import create_app

    client = TestClient(create_app(f"sqlite:///{tmp_path / 'h.db'}", background=False))
    r = client.options("/api/v1/sensitive-areas")
    assert r.status_code == 204 and r.headers["allow"] == "DELETE, GET, OPTIONS, PUT"
    r = client.patch("/api/v1/sensitive-areas")
    assert r.status_code == 405 and r.headers["allow"] == "DELETE, GET, OPTIONS, PUT"
    assert client.options("/api/v1/incidents").headers["allow"] == "GET, OPTIONS, POST"
    assert client.options("/no/such/path").status_code == 404
