"""Detectors of personal data in response bodies.

Categories: vehicle_identifier, contact, national_id, location, identifier, biometric, cabin; an
endpoint declares the ones its function needs. Detected: VINs with a valid check digit, Chinese resident
ID numbers with a valid checksum, mobile numbers, licence plates and precise coordinates; plus the core
classifier on JSON keys, so the probes and the catalog ask the same question."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from vehicle_ds import Classifier, Field, load_policy

_VIN = re.compile(r"(?<![A-Z0-9])[A-HJ-NPR-Z0-9]{17}(?![A-Z0-9])")
_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_PLATE = re.compile(r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·•\s]?[A-HJ-NP-Z0-9]{5,6}")
_VIN_VALUES = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
               **dict(zip("JKLMN", range(1, 6), strict=True)), "P": 7, "R": 9,
               **dict(zip("STUVWXYZ", range(2, 10), strict=True))}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_valid(vin: str) -> bool:
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    r = total % 11
    return vin[8] == ("X" if r == 10 else str(r))


def cn_id_valid(num: str) -> bool:
    """GB 11643 (ISO 7064 MOD 11-2) checksum of an 18-digit resident identity number."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(num[:17], weights, strict=True))
    return "10X98765432"[total % 11] == num[17].upper()


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


def findings(body: Any, context: str = "") -> list[dict[str, Any]]:
    """Personal data in a JSON body: one item per (path, kind), values masked."""
    out: list[dict[str, Any]] = []
    clf = classifier()
    for path, value in _walk(body):
        key = re.sub(r"\[\d+\]", "", path.split(".")[-1])
        text = str(value)
        kinds: list[tuple[str, str]] = []
        for m in _VIN.findall(text):
            if vin_valid(m):
                kinds.append(("vehicle_identifier", "vin"))
        for m in _ID.findall(text):
            if cn_id_valid(m):
                kinds.append(("national_id", "cn_resident_id"))
        if _MOBILE.search(text):
            kinds.append(("contact", "mobile_number"))
        if _PLATE.search(text):
            kinds.append(("vehicle_identifier", "licence_plate"))
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
                        "sensitive": category in ("national_id", "location", "biometric", "cabin"),
                        "value": _mask_value(text)})
    return out


def _mask_value(text: str) -> str:
    return text if len(text) <= 4 else text[:2] + "*" * (len(text) - 4) + text[-2:]
