"""A realistic connected-vehicle platform with switchable flaws, for the probes' tests and the demo.

Owners, vehicles, trips, locations, remote commands, JWT auth (RS256 by default). Each flaw in
``FLAWS`` turns one known failure on (the incidents of ../shared/reference/api_probes.md §4); with
none on it is the secure configuration, which the probes must find nothing in.
Run: ``python -m api_probes.testplatform --flaws all --port 8800`` (loopback only).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import secrets
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse

FLAWS = {
    "no_auth_location": "location endpoint answers without any token (NissanConnect 2016)",
    "alg_none": "accepts alg none tokens",
    "no_signature_check": "decodes tokens without verifying the signature",
    "no_exp_check": "accepts expired and not-yet-valid tokens",
    "no_aud_check": "accepts tokens for another audience or issuer",
    "key_confusion": "verifies HS256 tokens with the RSA public key as HMAC secret",
    "trust_jwk": "trusts a key embedded in the token header",
    "trust_jku": "fetches verification keys from the token's jku/x5u URL",
    "kid_traversal": "reads the HMAC key from the file the kid names",
    "psychic": "ECDSA verifier accepts r = s = 0 (CVE-2022-21449)",
    "weak_secret": "signs tokens with HS256 and a dictionary secret",
    "user_enumeration": "login answers 404 'no such user' for an unknown user, 401 for a wrong password",
    "header_disclosure": "X-Powered-By and a versioned Server header",
    "credentials_in_response": "the admin user list returns every user's password and password hash",
    "cross_user_write": "notes can be changed and deleted by any user, not only their owner",
    "password_change_other": "PATCH /users/{id} changes any user's e-mail or password",
    "registration_mass_assignment": "registration stores the role it is sent; the account read nests the user",
    "undocumented_endpoint": "an unlisted debug endpoint dumps the environment without authentication",
    "bfla_write": "any user can delete a service notice, an admin function",
    "common_word_secret": "signs tokens with HS256 and a common English word (only in the large public list)",
    "token_in_query": "accepts the token in the query string",
    "bola": "vehicle endpoints do not check ownership (SiriusXM 2022)",
    "bfla": "admin endpoints do not check the role (Kia dealer portal 2024)",
    "sequential_ids": "trip ids are sequential and trips are not owner-checked",
    "mass_assignment": "profile update stores any field, role included",
    "mass_assignment_hidden": "profile update stores any field and answers with the user nested under data.user; "
                              "the profile read hides the role",
    "exposure": "vehicle details include the owner's phone, ID number and home position",
    "plain_http": "also serves plain HTTP",
    "no_hsts": "no Strict-Transport-Security header",
    "cors": "reflects any Origin with credentials allowed",
    "verbose_errors": "returns stack traces on errors",
    "no_rate_limit": "no rate limiting",
    "bola_query": "the trip-details endpoint (object id in the query string) does not check ownership",
    "db_errors": "database error text and the failing SQL statement in 500 answers",
}

ISSUER = "https://auth.testplatform.invalid"
AUDIENCE = "vehicle-api"
WEAK_SECRET = "changeme"
COMMON_WORD_SECRET = "elephant"


def vin_check_digit(vin17: str) -> str:
    values = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
              **dict(zip("JKLMN", range(1, 6), strict=True)), "P": 7, "R": 9,
              **dict(zip("STUVWXYZ", range(2, 10), strict=True))}
    weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    total = sum(values[c] * w for c, w in zip(vin17, weights, strict=True))
    r = total % 11
    return "X" if r == 10 else str(r)


def make_vin(serial: int) -> str:
    base = f"LFV3A23C0N{serial:07d}"
    return base[:8] + vin_check_digit(base) + base[9:]


@dataclass
class User:
    id: str
    username: str
    password: str
    role: str
    name: str
    phone: str
    id_number: str
    home: tuple[float, float]
    email: str = ""


@dataclass
class State:
    flaws: set[str]
    users: dict[str, User] = field(default_factory=dict)
    vehicles: dict[str, dict[str, Any]] = field(default_factory=dict)
    trips: dict[str, dict[str, Any]] = field(default_factory=dict)
    hits: dict[str, list[float]] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # session cookie -> user id
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    notices: dict[str, dict[str, Any]] = field(default_factory=dict)


def _b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def create_app(flaws: set[str] | None = None, identity_claim: str = "sub", token_ttl: int = 900) -> FastAPI:
    """``identity_claim`` names the JWT claim that identifies the caller; with ``user_id`` every token's ``sub``
    is the app's client id, as on many real platforms. Login sets a session cookie as well as returning a
    token, and either authenticates."""
    flaws = set(flaws or ())
    unknown = flaws - set(FLAWS)
    if unknown:
        raise ValueError(f"unknown flaw(s): {', '.join(sorted(unknown))}")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    jwk_pub = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk_pub.update({"kid": "platform-1", "use": "sig", "alg": "RS256"})
    st = State(flaws)
    hs_secret = WEAK_SECRET if "weak_secret" in flaws else COMMON_WORD_SECRET if "common_word_secret" in flaws else None
    users = [
        User("u-1001", "alice", "alice-pass-1", "owner", "Zhang Wei", "13812345678", "110101199003074573",
             (39.9087243, 116.3974771)),
        User("u-1002", "bob", "bob-pass-2", "owner", "Li Na", "13987654321", "310101198807126546",
             (31.2304161, 121.4737012)),
        User("u-9001", "admin", "admin-pass-9", "admin", "Ops Admin", "13700000000", "440301198001019872",
             (22.5431, 114.0579)),
    ]
    st.users = {u.id: u for u in users}
    st.vehicles = {
        make_vin(1001): {"owner": "u-1001", "model": "EV-S", "nickname": "Alice's car", "plate": "京A·12345",
                         "position": (39.9151234, 116.4039876)},
        make_vin(1002): {"owner": "u-1002", "model": "EV-X", "nickname": "Bob's car", "plate": "沪B·67890",
                         "position": (31.2243567, 121.4691234)},
    }
    counter = itertools.count(5001)
    for vin, v in st.vehicles.items():
        for _ in range(3):
            tid = str(next(counter)) if "sequential_ids" in flaws else secrets.token_hex(8)
            st.trips[tid] = {"id": tid, "vin": vin, "owner": v["owner"], "km": 12.5,
                             "start": v["position"], "end": (v["position"][0] + 0.01, v["position"][1] + 0.01)}
    app = FastAPI(title="Test vehicle platform", version="1.0", docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    app.state.platform = st
    # the key a tester holds in a staging environment (tests use it for correctly signed lifetime probes)
    app.state.private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption())

    def issue(user: User, ttl: int = token_ttl) -> str:
        now = int(time.time())
        claims = {"sub": user.id, "role": user.role, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now,
                  "exp": now + ttl}
        if identity_claim != "sub":
            claims.update({"sub": "mobile-app", identity_claim: user.id})
        if hs_secret:
            return jwt.encode(claims, hs_secret, algorithm="HS256")
        return jwt.encode(claims, private, algorithm="RS256", headers={"kid": "platform-1"})

    def verify(token: str) -> dict[str, Any]:
        try:
            head = json.loads(_b64d(token.split(".")[0]))
        except Exception:
            raise HTTPException(401, "invalid token") from None
        alg = str(head.get("alg", ""))
        opts = {"require": ["exp", "sub"], "verify_exp": "no_exp_check" not in flaws,
                "verify_nbf": "no_exp_check" not in flaws, "verify_aud": "no_aud_check" not in flaws,
                "verify_iss": "no_aud_check" not in flaws}
        kw = {"audience": AUDIENCE, "issuer": ISSUER} if "no_aud_check" not in flaws else {}
        try:
            if "alg_none" in flaws and alg.lower() == "none":
                return jwt.decode(token, options={"verify_signature": False, **opts}, algorithms=["none"], **kw)
            if "no_signature_check" in flaws:
                return jwt.decode(token, options={"verify_signature": False, **opts}, **kw)
            if "trust_jwk" in flaws and "jwk" in head:
                key = jwt.PyJWK(head["jwk"]).key
                return jwt.decode(token, key, algorithms=[alg], options=opts, **kw)
            if "trust_jku" in flaws and ("jku" in head or "x5u" in head):
                import httpx

                keys = httpx.get(head.get("jku") or head["x5u"], timeout=3).json()["keys"]
                return jwt.decode(token, jwt.PyJWK(keys[0]).key, algorithms=[alg], options=opts, **kw)
            if "kid_traversal" in flaws and "kid" in head and alg == "HS256":
                with open(str(head["kid"]) if str(head["kid"]).startswith("/") else "/srv/keys/" + str(head["kid"]),
                          "rb") as f:
                    secret = f.read()
                return _hs256(token, secret, opts, kw)
            if "key_confusion" in flaws and alg == "HS256":
                return _hs256(token, public_pem, opts, kw)
            if "psychic" in flaws and alg == "ES256":
                sig = _b64d(token.split(".")[2])
                if len(sig) == 64 and int.from_bytes(sig[:32], "big") == 0 and int.from_bytes(sig[32:], "big") == 0:
                    return jwt.decode(token, options={"verify_signature": False, **opts}, **kw)
            if hs_secret:
                return jwt.decode(token, hs_secret, algorithms=["HS256"], options=opts, **kw)
            return jwt.decode(token, private.public_key(), algorithms=["RS256"], options=opts, **kw)
        except (jwt.PyJWTError, OSError, ValueError, KeyError):
            raise HTTPException(401, "invalid token") from None

    def _hs256(token: str, secret: bytes, opts: dict, kw: dict) -> dict[str, Any]:
        h, p, s = token.split(".")
        expected = _b64url(hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, s):
            raise jwt.InvalidSignatureError("bad signature")
        return jwt.decode(token, options={"verify_signature": False, **opts}, **kw)

    def current(request: Request, authorization: str | None) -> User:
        token = None
        if authorization and authorization.startswith("Bearer "):
            token = authorization[7:]
        elif "token_in_query" in flaws:
            token = request.query_params.get("access_token") or request.query_params.get("token")
        if not token:
            sid = request.cookies.get("sid")
            user = st.users.get(st.sessions.get(sid or "", ""))
            if user is None:
                raise HTTPException(401, "authentication required")
            limit(request, user.id)
            return user
        claims = verify(token)
        user = st.users.get(str(claims.get(identity_claim)))
        if user is None:
            raise HTTPException(401, "unknown subject")
        limit(request, user.id)
        return user

    def limit(request: Request, who: str) -> None:
        if "no_rate_limit" in flaws:
            return
        now = time.monotonic()
        hits = [t for t in st.hits.get(who, []) if now - t < 1.0]
        hits.append(now)
        st.hits[who] = hits
        if len(hits) > 50:
            raise HTTPException(429, "rate limit", headers={"Retry-After": "1"})

    def vehicle_for(user: User, vin: str) -> dict[str, Any]:
        v = st.vehicles.get(vin)
        if v is None or ("bola" not in flaws and v["owner"] != user.id and user.role != "admin"):
            raise HTTPException(404, "no such vehicle")
        return v

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        if "verbose_errors" in flaws:
            try:
                response = await call_next(request)
            except Exception:
                return PlainTextResponse(traceback.format_exc(), status_code=500)
        else:
            try:
                response = await call_next(request)
            except Exception:
                return JSONResponse({"detail": "internal error"}, status_code=500)
        if "no_hsts" not in flaws:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        origin = request.headers.get("origin")
        if "cors" in flaws and origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Cache-Control"] = "no-store"
        if "header_disclosure" in flaws:
            response.headers["X-Powered-By"] = "FastAPI/0.110.0"
            response.headers["Server"] = "uvicorn/0.29.0 (Debian)"
        return response

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    if "undocumented_endpoint" in flaws:
        @app.get("/api/v1/debug/env")
        def debug_env() -> dict[str, Any]:
            return {"PATH": "/usr/local/bin:/usr/bin", "HOME": "/srv/app", "DATABASE_URL": "postgresql://tsp:Tsp-db-2024@db/tsp",
                    "JWT_SECRET": "Tsp-signing-2024", "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "LANG": "C.UTF-8"}

    @app.get("/.well-known/jwks.json")
    def jwks() -> dict[str, Any]:
        return {"keys": [] if hs_secret else [jwk_pub]}

    @app.post("/api/v1/login")
    async def login(request: Request) -> JSONResponse:
        body = await request.json()
        user = next((u for u in st.users.values() if u.username == body.get("username")), None)
        if user is None and "user_enumeration" in flaws:
            raise HTTPException(404, "no such user")
        if user is None or not hmac.compare_digest(user.password, str(body.get("password", ""))):
            raise HTTPException(401, "invalid credentials")
        sid = secrets.token_urlsafe(16)
        st.sessions[sid] = user.id
        response = JSONResponse({"access_token": issue(user), "token_type": "Bearer", "expires_in": token_ttl})
        response.set_cookie("sid", sid, httponly=True, secure=True, samesite="lax")
        return response

    @app.post("/api/v1/token")
    async def oauth2_token(request: Request) -> dict[str, Any]:
        """OAuth2 resource-owner password grant, form-encoded (RFC 6749 §4.3)."""
        from urllib.parse import parse_qsl

        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))  # x-www-form-urlencoded
        if form.get("grant_type") != "password":
            raise HTTPException(400, "unsupported_grant_type")
        user = next((u for u in st.users.values() if u.username == form.get("username")), None)
        if user is None or not hmac.compare_digest(user.password, str(form.get("password", ""))):
            raise HTTPException(400, "invalid_grant")
        return {"access_token": issue(user), "token_type": "Bearer", "expires_in": token_ttl}

    @app.get("/api/v1/users/me")
    def me(request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        u = current(request, authorization)
        if "mass_assignment_hidden" in flaws:
            return {"id": u.id, "username": u.username, "display_name": u.name, "email": u.email}
        return {"id": u.id, "username": u.username, "role": u.role, "display_name": u.name, "email": u.email}

    @app.get("/api/v1/account")
    def account(request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        u = current(request, authorization)
        return {"data": {"user": {"id": u.id, "username": u.username, "role": u.role}}}

    @app.post("/api/v1/register", status_code=201)
    async def register(request: Request) -> dict[str, Any]:
        body = await request.json()
        name = str(body.get("username", ""))
        if not name or any(u.username == name for u in st.users.values()):
            raise HTTPException(409, "username taken")
        uid = f"u-{2000 + len(st.users)}"
        role = str(body.get("role", "owner")) if "registration_mass_assignment" in flaws else "owner"
        st.users[uid] = User(uid, name, str(body.get("password", "")), role, "", "", "", (0.0, 0.0))
        return {"data": {"user": {"id": uid, "username": name, "role": role}}}

    @app.post("/api/v1/admin/notices", status_code=201)
    async def create_notice(request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        u = current(request, authorization)
        if u.role != "admin":
            raise HTTPException(403, "forbidden")
        nid = secrets.token_hex(6)
        st.notices[nid] = {"id": nid, "text": str((await request.json()).get("text", ""))[:200]}
        return {"id": nid}

    @app.get("/api/v1/notices/{notice_id}")
    def read_notice(notice_id: str, request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        current(request, authorization)
        if notice_id not in st.notices:
            raise HTTPException(404, "no such notice")
        return st.notices[notice_id]

    @app.delete("/api/v1/admin/notices/{notice_id}", status_code=204)
    def delete_notice(notice_id: str, request: Request, authorization: str | None = Header(None)) -> None:
        u = current(request, authorization)
        if u.role != "admin" and "bfla_write" not in flaws:
            raise HTTPException(403, "forbidden")
        st.notices.pop(notice_id, None)

    @app.post("/api/v1/notes", status_code=201)
    async def create_note(request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        u = current(request, authorization)
        body = await request.json()
        nid = secrets.token_hex(6)
        st.notes[nid] = {"id": nid, "owner": u.id, "text": str(body.get("text", ""))[:200]}
        return {"id": nid}

    def note_for(u: User, nid: str) -> dict[str, Any]:
        n = st.notes.get(nid)
        if n is None or (n["owner"] != u.id and "cross_user_write" not in flaws):
            raise HTTPException(404, "no such note")
        return n

    @app.get("/api/v1/notes/{note_id}")
    def read_note(note_id: str, request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        u = current(request, authorization)
        n = st.notes.get(note_id)
        if n is None or n["owner"] != u.id:
            raise HTTPException(404, "no such note")
        return {"id": n["id"], "text": n["text"]}

    @app.patch("/api/v1/notes/{note_id}")
    async def change_note(note_id: str, request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        n = note_for(current(request, authorization), note_id)
        n["text"] = str((await request.json()).get("text", n["text"]))[:200]
        return {"id": n["id"], "text": n["text"]}

    @app.delete("/api/v1/notes/{note_id}", status_code=204)
    def delete_note(note_id: str, request: Request, authorization: str | None = Header(None)) -> None:
        n = note_for(current(request, authorization), note_id)
        st.notes.pop(n["id"], None)

    @app.patch("/api/v1/users/me")
    async def update_me(request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        u = current(request, authorization)
        body = await request.json()
        if "display_name" in body:
            u.name = str(body["display_name"])[:64]
        if flaws & {"mass_assignment", "mass_assignment_hidden"} and "role" in body:
            u.role = str(body["role"])
        user = {"id": u.id, "username": u.username, "role": u.role, "display_name": u.name}
        return {"data": {"user": user}} if "mass_assignment_hidden" in flaws else user

    # declared after PATCH /users/me, so that route keeps matching 'me'
    @app.patch("/api/v1/users/{user_id}")
    async def update_user(user_id: str, request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        u = current(request, authorization)
        target = st.users.get(user_id)
        if target is None or (target.id != u.id and "password_change_other" not in flaws):
            raise HTTPException(404, "no such user")
        body = await request.json()
        if "email" in body:
            target.email = str(body["email"])
        if "password" in body:
            target.password = str(body["password"])
        return {"id": target.id, "updated": sorted(k for k in body if k in ("email", "password"))}

    @app.get("/api/v1/vehicles")
    def vehicles(request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        u = current(request, authorization)
        return {"vehicles": [{"vin": vin, "model": v["model"]} for vin, v in st.vehicles.items() if v["owner"] == u.id]}

    @app.get("/api/v1/vehicles/{vin}")
    def vehicle(vin: str, request: Request, authorization: str | None = Header(None)) -> Any:
        u = current(request, authorization)
        if "db_errors" in flaws and len(vin) != 17:
            return PlainTextResponse(
                f'psycopg.errors.InvalidTextRepresentation: ERROR:  invalid input syntax for type character(17): '
                f'"{vin}"\nLINE 1: SELECT v.vin, v.model, v.owner_id FROM vehicles v WHERE v.vin = \'{vin}\'\n',
                status_code=500)
        if "verbose_errors" in flaws and len(vin) != 17:
            raise ValueError(f"malformed VIN {vin!r}: expected 17 characters")
        v = vehicle_for(u, vin)
        out = {"vin": vin, "model": v["model"], "nickname": v["nickname"]}
        if "exposure" in flaws:
            owner = st.users[v["owner"]]
            out.update({"owner_name": owner.name, "owner_phone": owner.phone, "owner_id_number": owner.id_number,
                        "home_latitude": owner.home[0], "home_longitude": owner.home[1], "plate": v["plate"]})
        return out

    @app.get("/api/v1/vehicles/{vin}/location")
    def location(vin: str, request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        if "no_auth_location" in flaws and not authorization:
            v = st.vehicles.get(vin)
            if v is None:
                raise HTTPException(404, "no such vehicle")
        else:
            v = vehicle_for(current(request, authorization), vin)
        lat, lon = v["position"]
        return {"vin": vin, "latitude": lat, "longitude": lon, "ts": int(time.time())}

    @app.get("/api/v1/vehicles/{vin}/trips")
    def trips(vin: str, request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        u = current(request, authorization)
        vehicle_for(u, vin)
        return {"trips": [{"id": t["id"], "km": t["km"]} for t in st.trips.values() if t["vin"] == vin]}

    @app.get("/api/v1/trips/{trip_id}")
    def trip(trip_id: str, request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        u = current(request, authorization)
        t = st.trips.get(trip_id)
        if t is None or ("sequential_ids" not in flaws and "bola" not in flaws and t["owner"] != u.id):
            raise HTTPException(404, "no such trip")
        return {"id": t["id"], "vin": t["vin"], "km": t["km"]}

    @app.get("/api/v1/trip-details")
    def trip_details(trip_id: str, request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        u = current(request, authorization)
        t = st.trips.get(trip_id)
        if t is None or ("bola_query" not in flaws and t["owner"] != u.id):
            raise HTTPException(404, "no such trip")
        return {"id": t["id"], "vin": t["vin"], "km": t["km"], "start": t["start"]}

    @app.post("/api/v1/vehicles/{vin}/commands/unlock")
    def unlock(vin: str, request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        vehicle_for(current(request, authorization), vin)
        return {"vin": vin, "command": "unlock", "status": "queued"}

    @app.get("/api/v1/admin/users")
    def admin_users(request: Request, authorization: str | None = Header(None)) -> dict[str, Any]:
        u = current(request, authorization)
        if u.role != "admin" and "bfla" not in flaws:
            raise HTTPException(403, "forbidden")
        users = [{"id": x.id, "username": x.username, "phone": x.phone} for x in st.users.values()]
        if "credentials_in_response" in flaws:
            for row, x in zip(users, st.users.values(), strict=True):
                salt = hashlib.sha256(x.id.encode()).hexdigest()[:22]
                digest = hashlib.sha256(x.password.encode()).hexdigest()[:31]
                row.update(password=x.password, password_hash=f"$2b$12${salt}{digest}")
        return {"users": users}

    for n in range(1, 22):  # plain informational endpoints, so a profile can list 30 endpoints
        def info(request: Request, authorization: str | None = Header(None), n: int = n) -> dict[str, Any]:
            current(request, authorization)
            return {"page": n, "text": "service information"}

        app.get(f"/api/v1/info/{n}")(info)
    return app


# --- serving it on loopback, for the tests and the demo ----------------------------------------------------

def make_tls(directory: Path) -> dict[str, Path]:
    """A throwaway test CA and a server certificate for 127.0.0.1 (loopback only)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vehicle-ds test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return {"ca": d / "ca.pem", "cert": d / "cert.pem", "key": d / "key.pem"}




@contextlib.contextmanager
def platform(flaws: set[str], tls: dict[str, Path], identity_claim: str = "sub", token_ttl: int = 900):
    """The test platform on loopback over TLS (plus plain HTTP when that flaw is on)."""
    from vehicle_ds.hub.serve import free_port, serve_in_thread

    app = create_app(flaws, identity_claim, token_ttl)
    port = free_port()
    http_port = free_port()
    with contextlib.ExitStack() as stack:
        stack.enter_context(serve_in_thread(app, port, tls))
        if "plain_http" in flaws:
            stack.enter_context(serve_in_thread(app, http_port, None))
        yield app, f"https://127.0.0.1:{port}", http_port


def write_profile(tmp: Path, app, base_url: str, http_port: int, tls: dict[str, Path], *, signing: bool = True,
                  allow_unsafe: bool = False, max_requests: int = 800) -> Path:
    st = app.state.platform
    key_line = ""
    if signing:  # a staging environment where the tester holds a signing key
        (tmp / "signing.pem").write_bytes(app.state.private_pem)
        key_line = f'test_signing_key = "{(tmp / "signing.pem").resolve()}"'
    idents = []
    for uid, user, pw, role in (("u-1001", "alice", "alice-pass-1", "owner"), ("u-1002", "bob", "bob-pass-2", "owner"),
                                ("u-9001", "admin", "admin-pass-9", "admin")):
        vins = [v for v, x in st.vehicles.items() if x["owner"] == uid]
        trips = [t for t, x in st.trips.items() if x["owner"] == uid]
        idents.append(f'''
[[identity]]
name = "{user}"
role = "{role}"
username = "{user}"
password = "{pw}"
owns = {{vin = {vins!r}, trip_id = {trips!r}, user_id = ["{uid}"]}}
'''.replace("'", '"'))
    endpoints = [
        ('GET', '/api/v1/users/me', 'expects = ["identifier", "contact"]'),
        ('GET', '/api/v1/vehicles', 'expects = ["vehicle_identifier"]'),
        ('GET', '/api/v1/vehicles/{vin}', 'objects = {vin = "vin"}\nexpects = ["vehicle_identifier"]'),
        ('GET', '/api/v1/vehicles/{vin}/location', 'objects = {vin = "vin"}\nexpects = ["vehicle_identifier", "location"]'),
        ('GET', '/api/v1/vehicles/{vin}/trips', 'objects = {vin = "vin"}\nexpects = ["vehicle_identifier"]'),
        ('GET', '/api/v1/trips/{trip_id}', 'objects = {trip_id = "trip_id"}\nexpects = ["vehicle_identifier"]'),
        ('GET', '/api/v1/admin/users', 'roles = ["admin"]\nexpects = ["identifier", "contact"]'),
        ('PATCH', '/api/v1/users/me',
         'mass_assignment = {read = "/api/v1/users/me", fields = {role = "admin"}, revert = {role = "owner"}}'),
        ('POST', '/api/v1/vehicles/{vin}/commands/unlock', 'objects = {vin = "vin"}'),
        ('GET', '/api/v1/trip-details?trip_id={trip_id}',
         'objects = {trip_id = "trip_id"}\nexpects = ["vehicle_identifier", "location"]'),
        ('GET', '/api/v1/account', 'expects = ["identifier", "contact"]'),
        ('POST', '/api/v1/register', 'auth = false\nmass_assignment = {register = true, fields = {role = "admin"}, '
         'body = {username = "probe-{rand}", password = "Probe-{rand}-pw"}, read = "/api/v1/account", '
         'pointer = "/data/user"}'),
        ('POST', '/api/v1/notes', ''),
        ('GET', '/api/v1/notes/{note_id}', 'objects = {note_id = "note"}'),
        ('PATCH', '/api/v1/notes/{note_id}', 'objects = {note_id = "note"}\ncross_user = {create = {path = '
         '"/api/v1/notes", body = {text = "probe note"}}, body = {text = "changed by another user"}, '
         'read = "/api/v1/notes/{note_id}"}'),
        ('DELETE', '/api/v1/notes/{note_id}', 'objects = {note_id = "note"}\ncross_user = {create = {path = '
         '"/api/v1/notes", body = {text = "probe note"}}, read = "/api/v1/notes/{note_id}"}'),
        ('PATCH', '/api/v1/users/{user_id}', 'objects = {user_id = "user_id"}\n'
         'account_change = {field = "email", read = "/api/v1/users/me"}'),
        ('POST', '/api/v1/admin/notices', 'roles = ["admin"]'),
        ('GET', '/api/v1/notices/{notice_id}', 'objects = {notice_id = "notice"}'),
        ('DELETE', '/api/v1/admin/notices/{notice_id}', 'roles = ["admin"]\nobjects = {notice_id = "notice"}\n'
         'cross_user = {create = {path = "/api/v1/admin/notices", body = {text = "probe notice"}}, '
         'read = "/api/v1/notices/{notice_id}"}'),
    ]
    eps = "".join(f'''
[[endpoint]]
method = "{m}"
path = "{p}"
safe = {"false" if "commands" in p else "true"}
{extra}
''' for m, p, extra in endpoints)
    eps += "".join(f'\n[[endpoint]]\nmethod = "GET"\npath = "/api/v1/info/{n}"\nsafe = true\n' for n in range(1, 11))
    text = f'''
[target]
name = "Test vehicle platform"
base_url = "{base_url}"
allow_hosts = ["127.0.0.1"]
ca_cert = "{Path(tls["ca"]).resolve()}"
http_port = {http_port}

[jwt]
jwks_url = "/.well-known/jwks.json"
endpoint = "/api/v1/users/me"
{key_line}

[budget]
max_requests = {max_requests}
rate_per_s = 40
time_s = 60
burst = 80

[safety]
allow_unsafe = {"true" if allow_unsafe else "false"}

[login]
path = "/api/v1/login"
method = "POST"
body = {{username = "{{username}}", password = "{{password}}"}}
token_field = "access_token"
{"".join(idents)}
{eps}
'''
    path = tmp / "target.toml"
    path.write_text(text)
    return path


def main() -> None:  # pragma: no cover - manual use
    import argparse

    import uvicorn

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--flaws", default="", help="comma list, 'all' or empty for the secure configuration")
    ap.add_argument("--port", type=int, default=8800)
    args = ap.parse_args()
    flaws = set(FLAWS) if args.flaws == "all" else {f for f in args.flaws.split(",") if f}
    uvicorn.run(create_app(flaws), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":  # pragma: no cover
    main()
