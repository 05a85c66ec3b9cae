"""Personal data and credentials in response bodies.

Categories: vehicle_identifier, contact, national_id, financial, location, identifier, biometric, cabin;
an endpoint declares the ones its function needs. Personal data is what the core's one registry of
detectors (``vehicle_ds.evidence.detectors``) finds, validated (VIN check digit, ID checksum, Luhn), plus
precise coordinates and the core classifier on JSON keys, so the probes, masking, discovery and the
catalog ask the same question."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from vehicle_ds import Classifier, Field, load_policy
from vehicle_ds.evidence import default_masker
from vehicle_ds.evidence.detectors import DETECTORS, cn_id_valid, vin_valid
from vehicle_ds.evidence.masking import ADDRESS_KEYS, snake

__all__ = ["cn_id_valid", "findings", "vin_valid"]

# Coordinates in a body are judged by their key (below): a pair of numbers in text is too weak a sign here.
_TEXT_DETECTORS = tuple(d for d in DETECTORS if d.decisive and d.id != "coordinates")
_HASH = re.compile(r"^(?:\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}|\$argon2(?:id|i|d)\$\S+|\$[56]\$\S+|"
                   r"pbkdf2_sha\d+\$\d+\$\S+|[a-f0-9]{32}|[a-f0-9]{40}|[a-f0-9]{64})$")
_PASSWORD_KEY = re.compile(r"^(?:.*[_-])?(?:password|passwd|pwd|pass|passphrase)(?:[_-]?hash)?$", re.I)
_SECRET_KEY = re.compile(r"^(?:.*[_-])?(?:secret|client_secret|api_?key|apikey|access_key(?:_id)?|secret_key|"
                         r"secret_access_key|private_key|session_token|token|access_token|refresh_token)$", re.I)
_CVV_KEY = re.compile(r"^(?:.*_)?(?:cvv2?|cvc2?|card_?security_?code|security_?code)$", re.I)
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")
_ENV_HINTS = {"PATH", "HOME", "HOSTNAME", "PWD", "USER", "SHELL", "LANG"}
def _walk(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:200]):
            yield from _walk(v, f"{path}[{i}]")
    else:
        yield path, obj


_CLASSIFIER: Classifier | None = None


def classifier() -> Classifier:
    global _CLASSIFIER
    if _CLASSIFIER is None:
        _CLASSIFIER = Classifier(load_policy())
    return _CLASSIFIER


def _credential_kind(key: str, value: Any) -> str | None:
    """Credentials in a response: a password field, a password hash, a secret or key, a private key."""
    if not isinstance(value, str) or not value:
        return None
    if key in ("PWD", "OLDPWD") and value.startswith("/"):
        return None  # the shell's working directory in an environment dump, not a password
    key = snake(key)  # SecretAccessKey, accessKeyId, apiKey as their snake_case names
    if "PRIVATE KEY-----" in value:
        return "private_key"
    if _PASSWORD_KEY.match(key):
        return "password_hash" if _HASH.match(value) else "password"
    if _HASH.match(value) and value.startswith("$"):
        return "password_hash"
    if _SECRET_KEY.match(key) and len(value) >= 8:
        return "api_key_or_secret"
    return None


def _environment_dumps(body: Any, path: str = "") -> Iterator[str]:
    """Objects that look like a process environment: many UPPER_SNAKE keys, some of them well known."""
    if isinstance(body, dict):
        names = [k for k in body if isinstance(k, str) and _ENV_NAME.match(k)]
        if len(names) >= 5 and (set(names) & _ENV_HINTS or sum("_" in n for n in names) >= 3):
            yield path or "$"
        for k, v in body.items():
            yield from _environment_dumps(v, f"{path}.{k}" if path else str(k))
    elif isinstance(body, list):
        for i, v in enumerate(body[:200]):
            yield from _environment_dumps(v, f"{path}[{i}]")


def findings(body: Any, context: str = "") -> list[dict[str, Any]]:
    """Personal data and credentials in a JSON body: one item per (path, kind), values as keyed pseudonyms."""
    out: list[dict[str, Any]] = []
    clf = classifier()
    pid = default_masker().pid
    for path in _environment_dumps(body):
        out.append({"path": path, "category": "credential", "kind": "environment_dump", "sensitive": True,
                    "value": "***"})
    for path, value in _walk(body):
        key = re.sub(r"\[\d+\]", "", path.split(".")[-1])
        text = str(value)
        kinds: list[tuple[str, str]] = []
        cred = _credential_kind(key, value)
        if cred:
            out.append({"path": path, "category": "credential", "kind": cred, "sensitive": True, "value": "***"})
            continue
        kinds.extend((d.exposure, d.id) for d in _TEXT_DETECTORS if d.finds(text))
        if _CVV_KEY.match(snake(key)) and re.fullmatch(r"\d{3,4}", text):
            kinds.append(("financial", "card_cvv"))
        if isinstance(value, str) and len(value) >= 6 and ADDRESS_KEYS.match(snake(key)):
            kinds.append(("contact", "address"))
        if isinstance(value, float) and len(repr(value).split(".")[-1]) >= 4:
            c = clf.classify(Field(key, context, unit="deg"))
            if c.category == "location":
                kinds.append(("location", "precise_coordinate"))
        if not kinds and value is not None and not isinstance(value, bool):
            c = clf.classify(Field(key, context))
            if c.pi != "none" and c.category in ("identifier", "location", "biometric", "cabin"):
                category = {"identifier.vin": "vehicle_identifier", "identifier.plate": "vehicle_identifier",
                            "identifier.personal_contact": "contact"}.get(c.rule, c.category)
                kinds.append((category, c.rule))
        for category, kind in dict.fromkeys(kinds):
            out.append({"path": path, "category": category, "kind": kind,
                        "sensitive": category in ("national_id", "financial", "location", "biometric", "cabin"),
                        "value": pid(text)})
    return out
