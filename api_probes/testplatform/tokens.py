"""The platform's JWTs: issued RS256 (HS256 with a guessable secret under ``weak_secret`` or
``common_word_secret``), verified with whichever verification flaws are on."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import HTTPException

from .model import AUDIENCE, COMMON_WORD_SECRET, ISSUER, WEAK_SECRET, Flaws, User

KID = "platform-1"


def _b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _hs256(token: str, secret: bytes, opts: dict[str, Any], kw: dict[str, Any]) -> dict[str, Any]:
    """HS256 checked by hand, as the flawed verifiers do (PyJWT refuses a PEM as an HMAC secret)."""
    h, p, s = token.split(".")
    expected = _b64url(hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, s):
        raise jwt.InvalidSignatureError("bad signature")
    return jwt.decode(token, options={"verify_signature": False, **opts}, **kw)


def _zero_ecdsa(token: str) -> bool:
    sig = _b64d(token.split(".")[2])
    return len(sig) == 64 and int.from_bytes(sig[:32], "big") == 0 and int.from_bytes(sig[32:], "big") == 0


@dataclass
class Tokens:
    flaws: Flaws
    identity_claim: str = "sub"
    ttl: int = 900

    def __post_init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        self.jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key())),
                    "kid": KID, "use": "sig", "alg": "RS256"}
        f = self.flaws
        self.hs_secret = WEAK_SECRET if f.weak_secret else COMMON_WORD_SECRET if f.common_word_secret else None

    def private_pem(self) -> bytes:
        """The key a tester holds in a staging environment (tests use it for correctly signed lifetime probes)."""
        return self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())

    def issue(self, user: User) -> str:
        now = int(time.time())
        ttl = 30 * 86400 if self.flaws.fat_token else self.ttl
        claims = {"sub": user.id, "role": user.role, "iat": now, "nbf": now, "exp": now + ttl,
                  **({} if self.flaws.plain_claims else {"iss": ISSUER, "aud": AUDIENCE}),
                  **({"phone": user.phone, "email": f"{user.username}@example.invalid"} if self.flaws.fat_token else {})}
        if self.identity_claim != "sub":
            claims.update({"sub": "mobile-app", self.identity_claim: user.id})
        if self.hs_secret:
            return jwt.encode(claims, self.hs_secret, algorithm="HS256")
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": KID})

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or 401; each verification flaw opens one way around the signature."""
        try:
            head = json.loads(_b64d(token.split(".")[0]))
        except Exception:  # any malformed header is an invalid token, as on a real platform
            raise HTTPException(401, "invalid token") from None
        try:
            return self._claims(token, head)
        except (jwt.PyJWTError, OSError, ValueError, KeyError):
            raise HTTPException(401, "invalid token") from None

    def _claims(self, token: str, head: dict[str, Any]) -> dict[str, Any]:
        f, alg = self.flaws, str(head.get("alg", ""))
        opts = {"require": ["exp", "sub"], "verify_exp": not f.no_exp_check, "verify_nbf": not f.no_exp_check,
                "verify_aud": not (f.no_aud_check or f.plain_claims), "verify_iss": not (f.no_aud_check or f.plain_claims)}
        kw: dict[str, Any] = {} if f.no_aud_check or f.plain_claims else {"audience": AUDIENCE, "issuer": ISSUER}
        unverified = {"verify_signature": False, **opts}
        if f.alg_none and alg.lower() == "none":
            return jwt.decode(token, options=unverified, algorithms=["none"], **kw)
        if f.no_signature_check:
            return jwt.decode(token, options=unverified, **kw)
        if f.trust_jwk and "jwk" in head:
            return jwt.decode(token, jwt.PyJWK(head["jwk"]).key, algorithms=[alg], options=opts, **kw)
        if f.trust_jku and ("jku" in head or "x5u" in head):
            import httpx

            keys = httpx.get(head.get("jku") or head["x5u"], timeout=3).json()["keys"]
            return jwt.decode(token, jwt.PyJWK(keys[0]).key, algorithms=[alg], options=opts, **kw)
        if f.kid_traversal and "kid" in head and alg == "HS256":
            kid = str(head["kid"])
            with open(kid if kid.startswith("/") else "/srv/keys/" + kid, "rb") as fh:
                return _hs256(token, fh.read(), opts, kw)
        if f.key_confusion and alg == "HS256":
            return _hs256(token, self.public_pem, opts, kw)
        if f.psychic and alg == "ES256" and _zero_ecdsa(token):
            return jwt.decode(token, options=unverified, **kw)
        if self.hs_secret:
            return jwt.decode(token, self.hs_secret, algorithms=["HS256"], options=opts, **kw)
        return jwt.decode(token, self.private.public_key(), algorithms=["RS256"], options=opts, **kw)
