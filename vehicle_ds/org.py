"""The organisation profile (``org.toml``): the facts about the data processor that no bus, probe or model
can show — legal name, unified social credit code, the data-security officer, systems and storage,
partners, export arrangements, and the dates of past filings and assessments. The documents fill their
human fields from it; a field it lacks is marked 待填写 (to be completed), never guessed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from .errors import InputError
from .tomlfile import read_toml

# GB 32100-2015: 18 characters from this alphabet (no I, O, Z, S, V); the last is a check character.
_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_DATE_KEYS = ("last_risk_assessment", "last_filing", "export_assessment_approved", "last_drill")
_TABLES = ("organisation", "security_officer", "security_body", "assessment", "export", "dates", "processing")
_ARRAYS = ("contact", "system", "partner")


def credit_code_ok(code: str) -> bool:
    """Whether ``code`` is a well-formed unified social credit code (GB 32100-2015 check character)."""
    if len(code) != 18 or any(ch not in _CODE_CHARS for ch in code):
        return False
    total = sum(_CODE_CHARS.index(ch) * w for ch, w in zip(code[:17], _CODE_WEIGHTS, strict=True))
    return _CODE_CHARS[(31 - total % 31) % 31] == code[17]


def load_org(path: str | Path) -> dict[str, Any]:
    """Read and check ``org.toml``; a wrong type, date or credit code is one clear line naming the key."""
    doc = read_toml(path, "the organisation profile")
    where = str(path)
    for key in _TABLES:
        if key in doc and not isinstance(doc[key], dict):
            raise InputError(f"[{key}] must be a table", path=where)
    for key in _ARRAYS:
        if key in doc and not (isinstance(doc[key], list) and all(isinstance(x, dict) for x in doc[key])):
            raise InputError(f"[[{key}]] must be an array of tables", path=where)
    code = str(doc.get("organisation", {}).get("credit_code", "") or "")
    if code and not credit_code_ok(code):
        raise InputError(f"organisation.credit_code {code!r} is not a valid unified social credit code "
                         "(GB 32100-2015: 18 characters, check character last)", path=where)
    for key, value in doc.get("dates", {}).items():
        if key not in _DATE_KEYS:
            raise InputError(f"dates.{key}: unknown (expected one of {', '.join(_DATE_KEYS)})", path=where)
        if isinstance(value, str):
            try:
                doc["dates"][key] = dt.date.fromisoformat(value)
            except ValueError:
                raise InputError(f"dates.{key}: {value!r} is not a date (YYYY-MM-DD)", path=where) from None
        elif not isinstance(value, dt.date):
            raise InputError(f"dates.{key}: not a date", path=where)
    return doc


def get(org: dict[str, Any] | None, dotted: str) -> Any:
    """``get(org, "security_officer.name")``: the value, or None when absent or empty."""
    node: Any = org or {}
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return None if node in ("", [], {}) else node
