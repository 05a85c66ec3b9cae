"""The test vehicle platform (FastAPI): owners, vehicles, trips, notes, notices, RS256 (or HS256) JWTs and a
session cookie at login; every flaw in ``FLAWS`` switches on one failure."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
import traceback
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from .model import AUDIENCE, COMMON_WORD_SECRET, FLAWS, ISSUER, NAME, WEAK_SECRET, State, User, make_vin


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
    app = FastAPI(title=NAME, version="1.0", docs_url=None, redoc_url=None,
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
