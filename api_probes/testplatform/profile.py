"""The probe profile of the test platform (what a tester would write for it), built as data from the
platform's own users, vehicles and trips and written as TOML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .model import NAME, State

# (method, path, endpoint settings): the endpoints a tester would list, with what each should hold
ENDPOINTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("GET", "/api/v1/users/me", {"expects": ["identifier", "contact"]}),
    ("GET", "/api/v1/vehicles", {"expects": ["vehicle_identifier"]}),
    ("GET", "/api/v1/vehicles/{vin}", {"objects": {"vin": "vin"}, "expects": ["vehicle_identifier"]}),
    ("GET", "/api/v1/vehicles/{vin}/location", {"objects": {"vin": "vin"},
                                                "expects": ["vehicle_identifier", "location"]}),
    ("GET", "/api/v1/vehicles/{vin}/trips", {"objects": {"vin": "vin"}, "expects": ["vehicle_identifier"]}),
    ("GET", "/api/v1/trips/{trip_id}", {"objects": {"trip_id": "trip_id"}, "expects": ["vehicle_identifier"]}),
    ("GET", "/api/v1/admin/users", {"roles": ["admin"], "expects": ["identifier", "contact"]}),
    ("PATCH", "/api/v1/users/me", {"mass_assignment": {"read": "/api/v1/users/me", "fields": {"role": "admin"},
                                                       "revert": {"role": "owner"}}}),
    ("PATCH", "/api/v1/vehicles/{vin}", {"objects": {"vin": "vin"}, "mass_assignment": {
        "read": "/api/v1/vehicles/{vin}", "fields": {"plan": "premium"}, "revert": {"plan": "basic"}}}),
    ("POST", "/api/v1/vehicles/{vin}/commands/unlock", {"objects": {"vin": "vin"}}),
    ("GET", "/api/v1/trip-details?trip_id={trip_id}", {"objects": {"trip_id": "trip_id"},
                                                       "expects": ["vehicle_identifier", "location"]}),
    ("GET", "/api/v1/account", {"expects": ["identifier", "contact"]}),
    ("GET", "/api/v1/billing", {}),
    ("POST", "/api/v1/register", {"auth": False, "mass_assignment": {
        "register": True, "fields": {"role": "admin"}, "body": {"username": "probe-{rand}", "password": "Probe-{rand}-pw"},
        "read": "/api/v1/account", "pointer": "/data/user"}}),
    ("POST", "/api/v1/notes", {}),
    ("GET", "/api/v1/notes", {}),
    ("PUT", "/api/v1/notes", {"cross_user": {
        "create": {"path": "/api/v1/notes", "body": {"text": "probe note"}}, "id_in_body": "id",
        "body": {"text": "changed by another user"}, "read": "/api/v1/notes/{id}", "delete": "/api/v1/notes/{id}"}}),
    ("GET", "/api/v1/notes/{note_id}", {"objects": {"note_id": "note"}}),
    ("PATCH", "/api/v1/notes/{note_id}", {"objects": {"note_id": "note"}, "cross_user": {
        "create": {"path": "/api/v1/notes", "body": {"text": "probe note"}}, "body": {"text": "changed by another user"},
        "read": "/api/v1/notes/{note_id}"}}),
    ("DELETE", "/api/v1/notes/{note_id}", {"objects": {"note_id": "note"}, "cross_user": {
        "create": {"path": "/api/v1/notes", "body": {"text": "probe note"}}, "read": "/api/v1/notes/{note_id}",
        "list": "/api/v1/notes"}}),
    ("PATCH", "/api/v1/users/{user_id}", {"objects": {"user_id": "user_id"},
                                          "account_change": {"field": "email", "read": "/api/v1/users/me"}}),
    ("PUT", "/api/v1/profile", {"account_change": {"field": "email", "read": "/api/v1/users/me",
                                                   "id_in_body": {"username": "username"}}}),
    ("POST", "/api/v1/admin/notices", {"roles": ["admin"]}),
    ("GET", "/api/v1/notices/{notice_id}", {"objects": {"notice_id": "notice"}}),
    ("DELETE", "/api/v1/admin/notices/{notice_id}", {"roles": ["admin"], "objects": {"notice_id": "notice"}, "cross_user": {
        "create": {"path": "/api/v1/admin/notices", "body": {"text": "probe notice"}}, "read": "/api/v1/notices/{notice_id}"}}),
    *(("GET", f"/api/v1/info/{n}", {}) for n in range(1, 11)),
)


def _toml(value: Any) -> str:
    """A TOML value: JSON's string escapes are valid TOML basic strings; tables are inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(_toml(v) for v in value) + "]"


def _table(header: str, values: dict[str, Any]) -> str:
    return f"\n{header}\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in values.items())


def profile_document(st: State, base_url: str, http_port: int, ca_cert: Path, signing_key: Path | None,
                     allow_unsafe: bool, max_requests: int) -> dict[str, Any]:
    """The profile as data: target, JWT, budget, safety, login, one identity per user, the endpoints."""
    identities = [{"name": u.username, "role": u.role, "username": u.username, "password": u.password,
                   "owns": {"vin": [v for v, x in st.vehicles.items() if x["owner"] == u.id],
                            "trip_id": [t for t, x in st.trips.items() if x["owner"] == u.id], "user_id": [u.id],
                            "username": [u.username]}}
                  for u in st.users.values()]
    return {
        "target": {"name": NAME, "base_url": base_url, "allow_hosts": ["127.0.0.1"], "ca_cert": str(ca_cert.resolve()),
                   "http_port": http_port},
        "jwt": {"jwks_url": "/.well-known/jwks.json", "endpoint": "/api/v1/users/me", "max_lifetime_s": 3600,
                **({"test_signing_key": str(signing_key.resolve())} if signing_key else {})},
        "budget": {"max_requests": max_requests, "rate_per_s": 40, "time_s": 60, "burst": 80},
        "safety": {"allow_unsafe": allow_unsafe},
        "login": {"path": "/api/v1/login", "method": "POST", "body": {"username": "{username}", "password": "{password}"},
                  "token_field": "access_token"},
        "logout": {"path": "/api/v1/logout", "method": "POST"},
        "reset": {"path": "/api/v1/password-reset", "body": {"username": "{username}"}, "identity": "alice",
                  "code": r"\d{4}" if st.flaws.reset_code_guessable else r"\d{8}",
                  "confirm": {"path": "/api/v1/password-reset/confirm",
                              "body": {"username": "{username}", "code": "{code}", "new_password": "{password}"}}},
        "identity": identities,
        "endpoint": [{"method": m, "path": p, "safe": "commands" not in p, **extra} for m, p, extra in ENDPOINTS],
    }


def write_profile(tmp: Path, app, base_url: str, http_port: int, tls: dict[str, Path], *, signing: bool = True,
                  allow_unsafe: bool = False, max_requests: int = 800) -> Path:
    """``target.toml`` in ``tmp`` for the platform ``app`` serves; with ``signing`` (a staging environment
    where the tester holds a signing key) the key is written next to it."""
    key = None
    if signing:
        key = tmp / "signing.pem"
        key.write_bytes(app.state.private_pem)
    doc = profile_document(app.state.platform, base_url, http_port, Path(tls["ca"]), key, allow_unsafe, max_requests)
    text = "".join(_table(f"[{k}]", v) if isinstance(v, dict) else "".join(_table(f"[[{k}]]", x) for x in v)
                   for k, v in doc.items())
    path = tmp / "target.toml"
    path.write_text(text)
    return path
