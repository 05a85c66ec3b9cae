"""Seed a hub with two organisations and write the probe profile for it (``vehicle-ds probe`` against
the hub itself must find nothing). Used by the tests, CI and ``vehicle-ds demo``."""

from __future__ import annotations

import json
import secrets
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

import httpx

from ..uplink_format import MAGIC, SCHEMA
from .admin import add_enrollment, add_user
from .security import PER_IDENTITY_BURST, PER_IDENTITY_RATE

ENDPOINTS = [  # (path, extra TOML)
    ("/api/v1/users/me", 'expects = ["identifier", "contact"]'),
    ("/api/v1/documents", 'expects = ["identifier", "contact"]'),
    ("/api/v1/documents/{doc_id}", 'objects = {doc_id = "doc_id"}\nexpects = ["identifier", "vehicle_identifier", '
                                   '"location", "contact", "cabin", "biometric"]'),
    ("/api/v1/uplink/batches", 'expects = ["identifier", "vehicle_identifier", "location"]'),
    ("/api/v1/uplink/batches/{batch_id}", 'objects = {batch_id = "batch_id"}\n'
                                          'expects = ["identifier", "vehicle_identifier", "location"]'),
    ("/api/v1/admin/users", 'roles = ["admin"]\nexpects = ["identifier", "contact"]'),
    ("/api/v1/reports/current", 'expects = ["identifier", "vehicle_identifier", "location", "contact", "cabin", '
                                '"biometric", "national_id"]'),
]


def tiny_batch(device: str, rows: int = 3, batch_id: str | None = None) -> tuple[str, bytes]:
    import msgpack
    import numpy as np

    bid = batch_id or uuid.uuid4().hex
    t = (1_767_225_600.0 + np.arange(rows)).astype("<f8").tobytes()
    doc = {"schema": SCHEMA, "batch_id": bid, "device": device, "seq": 0, "created": time.time(),
           "policy_sha256": "0" * 64, "key_id": "test", "aggregates": {}, "dropped": {},
           "messages": {"VCU_VehicleMotion": {"n": rows, "t": t, "signals": {
               "VehSpd": {"enc": "array", "dtype": "<f8", "data": np.full(rows, 42.0, "<f8").tobytes()}}}}}
    return bid, MAGIC + zlib.compress(msgpack.packb(doc, use_bin_type=True), 1)


def enroll_device(base_url: str, db_url: str, org: str, device_id: str, verify: Any = True) -> str:
    code = add_enrollment(db_url, org, f"vehicle-{device_id}")
    r = httpx.post(base_url + "/api/v1/devices/enroll", json={"code": code, "device_id": device_id}, verify=verify)
    r.raise_for_status()
    secret = r.json()["device_secret"]
    t = httpx.post(base_url + "/api/v1/devices/token", json={"device_id": device_id, "device_secret": secret},
                   verify=verify)
    t.raise_for_status()
    return t.json()["access_token"]


def seed_and_profile(db_url: str, base_url: str, ca_cert: str | None, out_dir: Path,
                     catalog: dict[str, Any] | None = None) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    verify: Any = ca_cert or True
    people = {"alice": ("org-a", "engineer"), "bob": ("org-b", "engineer"), "admin": ("org-a", "admin")}
    passwords = {name: secrets.token_urlsafe(18) for name in people}
    for name, (org, role) in people.items():
        add_user(db_url, org, name, passwords[name], role)
    owns: dict[str, dict[str, list[str]]] = {}
    for name in ("alice", "bob"):
        org = people[name][0]
        tok = httpx.post(base_url + "/api/v1/auth/login", json={"username": name, "password": passwords[name]},
                         verify=verify).json()["access_token"]
        doc = catalog or {"schema": "vehicle-ds/catalog@1", "policy": {"id": "p", "version": "1", "sha256": "0"},
                          "sources": [], "entries": [], "combinations": []}
        doc = {**doc, "sources": [*doc["sources"], {"path": f"{org}.dbc", "sha256": "1", "messages": 0, "signals": 0}]}
        r = httpx.post(base_url + "/api/v1/documents", content=json.dumps(doc),
                       headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}, verify=verify)
        r.raise_for_status()
        device = f"gw-{org}"
        dtok = enroll_device(base_url, db_url, org, device, verify)
        bid, body = tiny_batch(device)
        httpx.post(base_url + "/api/v1/uplink", content=body, verify=verify,
                   headers={"Authorization": f"Bearer {dtok}", "X-Batch-Id": bid,
                            "Content-Type": "application/x-vehicle-ds-batch"}).raise_for_status()
        owns[name] = {"doc_id": [r.json()["id"]], "batch_id": [bid]}
    owns["admin"] = owns["alice"]
    # We own this hub: its signing key lets the probes forge correctly signed expired, not-yet-valid and
    # wrong-audience tokens (the profile and the key file are 0600 and stay beside the test database).
    from .security import default_key_file

    pem = default_key_file(db_url).read_bytes()
    key_file = out_dir / "hub-signing-key.pem"
    key_file.write_bytes(pem)
    key_file.chmod(0o600)
    idents = "".join(f'''
[[identity]]
name = "{n}"
role = "{people[n][1]}"
username = "{n}"
password = "{passwords[n]}"
owns = {{doc_id = ["{owns[n]["doc_id"][0]}"], batch_id = ["{owns[n]["batch_id"][0]}"]}}
''' for n in people)
    eps = "".join(f'\n[[endpoint]]\nmethod = "GET"\npath = "{p}"\nsafe = true\n{extra}\n' for p, extra in ENDPOINTS)
    host = httpx.URL(base_url).host
    text = f'''# Probe profile of a vehicle-ds hub (generated by vehicle_ds.hub.selfprobe)
[target]
name = "vehicle-ds hub"
base_url = "{base_url}"
allow_hosts = ["{host}"]
rate_limit = {{per_s = {PER_IDENTITY_RATE}, burst = {PER_IDENTITY_BURST}}}
{f'ca_cert = "{Path(ca_cert).resolve()}"' if ca_cert else ""}

[jwt]
jwks_url = "/.well-known/jwks.json"
endpoint = "/api/v1/users/me"
test_signing_key = "{key_file.resolve()}"

[budget]
max_requests = 800
rate_per_s = {PER_IDENTITY_RATE * 0.9}
time_s = 120
burst = 80

[login]
path = "/api/v1/auth/login"
method = "POST"
body = {{username = "{{username}}", password = "{{password}}"}}
token_field = "access_token"
{idents}
{eps}
'''
    path = out_dir / "hub-target.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path
