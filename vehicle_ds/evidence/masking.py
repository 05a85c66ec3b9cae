"""Mask evidence at the source: secrets become ``***`` (or a token's hash prefix), personal data a keyed
pseudonym ``pid:3f9a…`` so the same value correlates across findings without being readable.

Masked: JWTs and bearer tokens, secrets in query strings and ``"password": …`` pairs, password hashes
(bcrypt, argon2, sha-crypt, PBKDF2), API keys, PEM private keys; whatever a detector of the one registry
(``detectors.DETECTORS``: resident ID numbers, bank cards, IMEI, ICCID, phone numbers, e-mail addresses,
VINs, licence plates) finds, and coordinates (more than 3 decimals, rounded to 2). In JSON, the values of
credential keys and of keys the core classifier calls personal are masked whatever they look like.

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

from .detectors import DETECTORS, PRECISE_NUMBER, luhn

__all__ = ["ADDRESS_KEYS", "CREDENTIAL_KEYS", "PERSON_NAME_KEYS", "Masker", "default_masker", "snake"]

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}", re.I)
_SECRET_QS = re.compile(r"((?:access_token|refresh_token|token|api_?key|password|passwd|pwd|secret|client_secret)=)"
                        r"[^&\s\"']+", re.I)
_SECRET_PAIR = re.compile(r"([\"']?(?:password|passwd|pwd|pass|secret|client_secret|api[_-]?key|access[_-]?key(?:[_-]?id)?|"
                          r"secret[_-]?access[_-]?key|secret[_-]?key|private[_-]?key|session[_-]?token|token|"
                          r"refresh[_-]?token|cvv2?|cvc2?)[\"']?\s*[:=]\s*[\"']?)([^\"',}\s&]{1,200})", re.I)
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/\s@\"']+:)([^@\s\"'/]+)(@)", re.I)
_HASH = re.compile(r"\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}|\$argon2(?:id|i|d)\$[^\s\"']+|"
                   r"\$[56]\$[^\s\"'$]*\$?[./A-Za-z0-9]{43,86}|pbkdf2_sha\d+\$\d+\$[^\s\"'$]+\$[^\s\"']+")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S)
_API_KEY = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}\b|"
                      r"\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bxox[baprs]-[A-Za-z0-9-]{10,}\b|\bAIza[0-9A-Za-z_-]{35}\b")
# Personal data in text becomes a keyed pseudonym; coordinates are rounded instead (PRECISE_NUMBER), so
# their rough place stays readable as evidence.
_MASKED = tuple(d for d in DETECTORS if d.decisive and d.id != "coordinates")
_CN_ADDRESS = next(d for d in DETECTORS if d.id == "cn_address").pattern

# Keys whose values name a person (display_name, full_name, 姓名, …), whatever the classifier knows.
PERSON_NAME_KEYS = re.compile(r"^(?:.*[_-])?(?:display|full|real|first|last|given|family|sur|nick|owner|driver|contact|"
                              r"customer|person|legal|user)[_-]?name$|^(?:姓名|名字|联系人|车主)$", re.I)
_COORD_KEY = re.compile(r"lat|lon|lng|coord|position|weidu|jingdu", re.I)
CREDENTIAL_KEYS = re.compile(r"^(?:.*[_-])?(?:password|passwd|pwd|secret|client_secret|api_?key|apikey|access_key|"
                             r"secret_key|private_key|token|access_token|refresh_token|credentials?|authorization|"
                             r"session|cookie|cvv2?|cvc2?|card_?security_?code|security_?code|otp|pin|"
                             r"(?:reset|verification|verify|otp|sms|auth|confirm(?:ation)?|one_?time)_?(?:code|pin))"
                             r"(?:[_-].*)?$", re.I)
# Keys whose values are a place where a person lives or is billed; card numbers stored as numbers.
ADDRESS_KEYS = re.compile(r"^(?:.*_)?(?:address|addr|street|address_line\d?|住址|地址|家庭住址)(?:_.*)?$", re.I)
_CARD_KEYS = re.compile(r"^(?:.*_)?(?:card|card_?number|pan|bank_?card|account_?number)(?:_.*)?$", re.I)
# A Western street address: a house number, one to four capitalised words, a street type.
_STREET = re.compile(r"\b\d{1,5}[A-Za-z]?(?:\s+[A-Z][A-Za-z'.-]*){1,4}\s+(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|"
                     r"Ln|Drive|Dr|Way|Court|Ct|Place|Pl|Terrace|Square|Sq)\b\.?")


def _card_like(n: int) -> bool:
    """13 to 19 digits starting like a payment card (3-6) and passing Luhn: never an epoch time in ms (1…)."""
    digits = str(abs(n))
    return 13 <= len(digits) <= 19 and digits[0] in "3456" and luhn(digits)


def snake(key: str) -> str:
    """``SecretAccessKey``, ``accessKeyId``, ``apiKey`` -> ``secret_access_key``, ``access_key_id``, ``api_key``:
    camelCase and PascalCase keys are judged like snake_case ones."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", key).replace("-", "_").lower()


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
        for d in _MASKED:
            text = d.pattern.sub(lambda m, d=d: self.pid(m.group()) if d.should_mask(m.group()) else m.group(), text)
        text = _CN_ADDRESS.sub(lambda m: self.pid(m.group()), text)  # no checksum: masked, never a finding alone
        text = _STREET.sub(lambda m: self.pid(m.group()), text)
        return PRECISE_NUMBER.sub(r"\1~", text)

    def json(self, obj: Any, key: str = "") -> Any:
        """Mask a JSON value: credential keys lose their values, personal keys become pseudonyms, every
        string is masked as text; numbers that look like precise coordinates are rounded."""
        if isinstance(obj, dict):
            return {k: self.json(v, str(k)) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.json(v, key) for v in obj]
        if isinstance(obj, (bool, type(None))):
            return obj
        flat = snake(key) if key else ""
        if flat and CREDENTIAL_KEYS.match(flat) and obj not in ("", 0):
            return "***"
        if isinstance(obj, int) and not isinstance(obj, bool) and ((flat and _CARD_KEYS.match(flat)) or _card_like(obj)):
            return self.pid(str(obj))  # a card or account number stored as a number
        if isinstance(obj, float) and key and _COORD_KEY.search(key) and len(repr(obj).split(".")[-1]) > 3:
            return round(obj, 2)
        if isinstance(obj, str):
            if key and obj and (PERSON_NAME_KEYS.match(key) or ADDRESS_KEYS.match(flat) or _personal_key(key)):
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
