"""Mask evidence at the source: secrets become ``***`` (or a token's hash prefix), personal data a keyed
pseudonym ``pid:3f9a…`` so the same value correlates across findings without being readable.

Masked: JWTs and bearer tokens, secrets in query strings and ``"password": …`` pairs, password hashes
(bcrypt, argon2, sha-crypt, PBKDF2), API keys, PEM private keys; resident ID numbers (GB 11643 checksum),
mobile numbers, VINs (check digit), licence plates, e-mail addresses, and coordinates (more than 3
decimals, rounded to 2). In JSON, the values of credential keys and of keys the core classifier calls
personal are masked whatever they look like.

The key is per installation, kept outside every output folder (``$VEHICLE_DS_EVIDENCE_KEY`` names the
file; default ``~/.local/share/vehicle-ds/evidence.key``), created 0600."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}", re.I)
_SECRET_QS = re.compile(r"((?:access_token|refresh_token|token|api_?key|password|passwd|pwd|secret|client_secret)=)"
                        r"[^&\s\"']+", re.I)
_SECRET_PAIR = re.compile(r"([\"']?(?:password|passwd|pwd|pass|secret|client_secret|api_?key|apikey|access_key|"
                          r"secret_key|private_key|token|refresh_token)[\"']?\s*[:=]\s*[\"']?)([^\"',}\s&]{1,200})", re.I)
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/\s@\"']+:)([^@\s\"'/]+)(@)", re.I)
_HASH = re.compile(r"\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}|\$argon2(?:id|i|d)\$[^\s\"']+|"
                   r"\$[56]\$[^\s\"'$]*\$?[./A-Za-z0-9]{43,86}|pbkdf2_sha\d+\$\d+\$[^\s\"'$]+\$[^\s\"']+")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S)
_API_KEY = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}\b|"
                      r"\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bxox[baprs]-[A-Za-z0-9-]{10,}\b|\bAIza[0-9A-Za-z_-]{35}\b")
_ID = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
_VIN = re.compile(r"(?<![A-Z0-9])[A-HJ-NPR-Z0-9]{17}(?![A-Z0-9])")
_PLATE = re.compile(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·•\s]?[A-HJ-NP-Z0-9]{5,6}")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_COORD = re.compile(r"(?<![\d.])(-?\d{1,3}\.\d{2})\d{2,}(?![\d.])")

# Keys whose values name a person (display_name, full_name, 姓名, …), whatever the classifier knows.
PERSON_NAME_KEYS = re.compile(r"^(?:.*[_-])?(?:display|full|real|first|last|given|family|sur|nick|owner|driver|contact|"
                              r"customer|person|legal|user)[_-]?name$|^(?:姓名|名字|联系人|车主)$", re.I)
_COORD_KEY = re.compile(r"lat|lon|lng|coord|position|weidu|jingdu", re.I)
CREDENTIAL_KEYS = re.compile(r"^(?:.*[_-])?(?:password|passwd|pwd|secret|client_secret|api_?key|apikey|access_key|"
                             r"secret_key|private_key|token|access_token|refresh_token|credentials?|authorization|"
                             r"session|cookie)(?:[_-].*)?$", re.I)

_VIN_VALUES = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
               **dict(zip("JKLMN", range(1, 6), strict=True)), "P": 7, "R": 9,
               **dict(zip("STUVWXYZ", range(2, 10), strict=True))}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_valid(vin: str) -> bool:
    """ISO 3779 check digit (position 9)."""
    r = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True)) % 11
    return vin[8] == ("X" if r == 10 else str(r))


def cn_id_valid(num: str) -> bool:
    """GB 11643 (ISO 7064 MOD 11-2) checksum of an 18-digit resident identity number."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(num[:17], weights, strict=True))
    return "10X98765432"[total % 11] == num[17].upper()


def _id_like(num: str) -> bool:
    """A resident ID number: a valid checksum, or a plausible birth date at digits 7-14 (mask rather than leak)."""
    y, mo, d = int(num[6:10]), int(num[10:12]), int(num[12:14])
    return cn_id_valid(num) or (1900 <= y <= 2099 and 1 <= mo <= 12 and 1 <= d <= 31)


def evidence_key_path() -> Path:
    env = os.environ.get("VEHICLE_DS_EVIDENCE_KEY")
    return Path(env) if env else Path.home() / ".local" / "share" / "vehicle-ds" / "evidence.key"


def _load_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    return path.read_bytes()


class Masker:
    """Masks text and JSON with one installation key (keyed pseudonyms correlate across runs and findings)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def pid(self, value: str) -> str:
        return "pid:" + hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:12]

    def text(self, text: str) -> str:
        text = _PRIVATE_KEY.sub("[private key]", text)
        text = _JWT.sub(lambda m: f"eyJ…[jwt sha256:{hashlib.sha256(m.group().encode()).hexdigest()[:10]}]", text)
        text = _BEARER.sub(r"\1***", text)
        text = _URL_CREDENTIALS.sub(r"\1***\3", text)
        text = _SECRET_QS.sub(r"\1***", text)
        text = _HASH.sub("[password hash]", text)
        text = _API_KEY.sub("[api key]", text)
        text = _SECRET_PAIR.sub(lambda m: m.group(1) + ("***" if not m.group(2).startswith(("***", "[", "eyJ…")) else
                                                        m.group(2)), text)
        text = _ID.sub(lambda m: self.pid(m.group()) if _id_like(m.group()) else m.group(), text)
        text = _VIN.sub(lambda m: self.pid(m.group()) if vin_valid(m.group()) else m.group(), text)
        text = _MOBILE.sub(lambda m: self.pid(m.group()), text)
        text = _PLATE.sub(lambda m: self.pid(m.group()), text)
        text = _EMAIL.sub(lambda m: self.pid(m.group()), text)
        return _COORD.sub(r"\1~", text)

    def json(self, obj: Any, key: str = "") -> Any:
        """Mask a JSON value: credential keys lose their values, personal keys become pseudonyms, every
        string is masked as text; numbers that look like precise coordinates are rounded."""
        if isinstance(obj, dict):
            return {k: self.json(v, str(k)) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.json(v, key) for v in obj]
        if isinstance(obj, (bool, type(None))):
            return obj
        if key and CREDENTIAL_KEYS.match(key) and obj not in ("", 0):
            return "***"
        if isinstance(obj, float) and key and _COORD_KEY.search(key) and len(repr(obj).split(".")[-1]) > 3:
            return round(obj, 2)
        if isinstance(obj, str):
            if key and obj and (PERSON_NAME_KEYS.match(key) or _personal_key(key)):
                return self.pid(obj)
            return self.text(obj)
        return obj


@lru_cache(maxsize=4096)
def _personal_key(key: str) -> bool:
    """A JSON key the core classifier calls personal information (names, contacts, identifiers, places)."""
    from ..classifier import Classifier, Field
    from ..policy import load_policy

    c = _classifier(Classifier, load_policy).classify(Field(key, ""))
    return c.pi != "none" and c.category in ("identifier", "location", "biometric", "cabin")


_CLF: list[Any] = []


def _classifier(cls: Any, load: Any) -> Any:
    if not _CLF:
        _CLF.append(cls(load()))
    return _CLF[0]


@lru_cache(maxsize=1)
def default_masker() -> Masker:
    """The installation's masker (its key outside every output folder)."""
    return Masker(_load_key(evidence_key_path()))
