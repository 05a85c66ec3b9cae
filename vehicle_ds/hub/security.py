"""Passwords, the hub's signing key, tokens and rate limits.

Tokens are ES256 JWTs (asymmetric), short-lived, with audience and issuer, verified by PyJWT with an
explicit algorithm list: header fields such as ``jku``, ``jwk`` or ``kid`` are never consulted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ISSUER = "vehicle-ds-hub"
AUD_DEVICE = "vehicle-ds-hub:device"
AUD_USER = "vehicle-ds-hub:user"
AUD_REPORT = "vehicle-ds-hub:report"  # never accepted as an access token: verify() is only ever asked for user/device
DEVICE_TTL_S = 900
USER_TTL_S = 1800


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2 ** 14, r=8, p=1, dklen=32)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_secret(secret: str, stored: str) -> bool:
    try:
        _, salt_b64, digest_b64 = stored.split("$")
        digest = hashlib.scrypt(secret.encode(), salt=base64.b64decode(salt_b64), n=2 ** 14, r=8, p=1, dklen=32)
        return hmac.compare_digest(digest, base64.b64decode(digest_b64))
    except (ValueError, TypeError):
        return False


# a fixed-cost comparison target so that unknown users take as long as wrong passwords
_DUMMY_HASH = hash_secret(secrets.token_hex(8))


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def default_key_file(db_url: str) -> Path:
    """Next to a SQLite database; otherwise ``$VEHICLE_DS_HUB_KEY_FILE`` or the user's data folder. Every
    worker of one hub must read the same file."""
    if os.environ.get("VEHICLE_DS_HUB_KEY_FILE"):
        return Path(os.environ["VEHICLE_DS_HUB_KEY_FILE"])
    if db_url.startswith("sqlite") and "///" in db_url and ":memory:" not in db_url:
        return Path(db_url.split("///", 1)[1] + ".signing-key.pem")
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "vehicle-ds" / "hub-signing-key.pem"


class Keys:
    """The hub's EC P-256 signing key, in a file only the hub's user can read (0600, created exclusively so
    that several workers starting at once agree on one key), never in the database: a database dump or a
    read-only SQL injection must not let anyone forge tokens."""

    def __init__(self, key_file: Path) -> None:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = self._read(key_file)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            with os.fdopen(fd, "wb") as f:
                f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
        self.private = key
        self.public = key.public_key()
        self.kid = hashlib.sha256(self.public.public_bytes(serialization.Encoding.DER,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()[:16]

    @staticmethod
    def _read(key_file: Path):
        if key_file.stat().st_mode & 0o077:
            raise PermissionError(f"{key_file}: the hub's signing key must be readable by its owner only (chmod 600)")
        for _ in range(50):  # another worker may be writing it right now
            data = key_file.read_bytes()
            if data.strip().endswith(b"-----"):
                return serialization.load_pem_private_key(data, password=None)
            time.sleep(0.05)
        raise ValueError(f"{key_file}: not a PEM private key")

    def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.public, as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "ES256"}]}

    def issue(self, sub: str, audience: str, ttl: int, **claims: Any) -> str:
        t = int(time.time())
        payload = {"iss": ISSUER, "aud": audience, "sub": sub, "iat": t, "nbf": t, "exp": t + ttl,
                   "jti": secrets.token_hex(8), **claims}
        return jwt.encode(payload, self.private, algorithm="ES256", headers={"kid": self.kid})

    def sign_digest(self, sha256: str, **claims: Any) -> str:
        """A signature over a served report: ES256 token carrying the body's sha256 (audience "report")."""
        t = int(time.time())
        return jwt.encode({"iss": ISSUER, "aud": AUD_REPORT, "iat": t, "sha256": sha256, **claims}, self.private,
                          algorithm="ES256", headers={"kid": self.kid})

    def verify(self, token: str, audience: str) -> dict[str, Any]:
        return jwt.decode(token, self.public, algorithms=["ES256"], audience=audience, issuer=ISSUER,
                          options={"require": ["exp", "iat", "nbf", "sub", "iss", "aud"]}, leeway=5)


# The hub's documented per-identity limit (token bucket): the self-probe declares it so its rate-limit check
# counts refusals against it instead of depending on how fast the machine sends. It sits well below what
# the hub serves on a busy 2-core machine (about 40 requests/s with both cores loaded), so an unpaced burst
# always outpaces it and the check's verdict is the same idle and busy; a gateway sends a batch every few
# seconds, an engineer's tools a few requests at a time.
PER_IDENTITY_RATE, PER_IDENTITY_BURST = 10, 20


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Token buckets per key (an identity, or a client address before authentication)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = _Bucket(self.burst, now)
            b.tokens = min(self.burst, b.tokens + (now - b.stamp) * self.rate)
            b.stamp = now
            if b.tokens < 1:
                return False
            b.tokens -= 1
            if len(self._buckets) > 100_000:  # bounded memory under a flood of identities
                self._buckets.clear()
            return True
