"""``vehicle-ds probe init --openapi URL_OR_FILE``: draft a target profile from an OpenAPI 3 document for a
person to complete. Every operation becomes an endpoint; only GET/HEAD are marked safe; path and id-like
query parameters become object parameters; public-looking operations (login, register, health, docs, or
``security: []``) get ``auth = false``; admin paths get ``roles = ["admin"]``. Identities, their objects
and the data each endpoint needs are left for the tester (marked CHANGE-ME)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vehicle_ds.errors import InputError

_PUBLIC = re.compile(r"login|signin|sign-in|register|signup|token|health|ping|openapi|swagger|docs|jwks", re.I)
_ID_LIKE = re.compile(r"(?:^|_)(?:id|vin|number|no|uuid)$|Id$", re.I)
_METHODS = ("get", "head", "post", "put", "patch", "delete")


def load_openapi(source: str) -> tuple[dict[str, Any], str]:
    """The document and where it came from (its URL gives the base URL when the document has no servers)."""
    if source.startswith(("http://", "https://")):
        import httpx

        try:
            r = httpx.get(source, timeout=15, follow_redirects=True, verify=False)
        except httpx.HTTPError as exc:
            raise InputError(f"cannot fetch the OpenAPI document: {exc}", path=source) from None
        text = r.text
    else:
        try:
            text = Path(source).read_text("utf-8")
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", path=source) from None
    try:
        doc = json.loads(text)
    except ValueError:
        try:
            import yaml  # optional: YAML documents need PyYAML

            doc = yaml.safe_load(text)
        except ImportError:
            raise InputError("not JSON (install PyYAML to read YAML OpenAPI documents)", path=source) from None
        except Exception as exc:  # any YAML error: one line naming the file
            raise InputError(f"not an OpenAPI document: {exc}", path=source) from None
    if not isinstance(doc, dict) or "paths" not in doc:
        raise InputError("not an OpenAPI document (no 'paths')", path=source)
    return doc, source


def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _base_url(doc: dict[str, Any], source: str) -> str:
    servers = [s.get("url", "") for s in doc.get("servers", []) if isinstance(s, dict)]
    url = servers[0] if servers else ""
    if url.startswith(("http://", "https://")):
        return url.rstrip("/")
    if source.startswith(("http://", "https://")):
        parts = urlsplit(source)
        return f"{parts.scheme}://{parts.netloc}{url}".rstrip("/")
    return "https://CHANGE-ME.example.invalid" + url.rstrip("/")


def _endpoint(path: str, method: str, op: dict[str, Any], shared: list[dict[str, Any]]) -> str:
    params = [p for p in (*shared, *op.get("parameters", [])) if isinstance(p, dict)]
    objects = {p["name"]: p["name"] for p in params if p.get("in") == "path"}
    query = [p["name"] for p in params if p.get("in") == "query" and p.get("required") and _ID_LIKE.search(p["name"])]
    objects.update({q: q for q in query})
    full = path + ("?" + "&".join(f"{q}={{{q}}}" for q in query) if query else "")
    public = op.get("security") == [] or bool(_PUBLIC.search(path))
    lines = ["[[endpoint]]", f"method = {_q(method.upper())}", f"path = {_q(full)}",
             f"safe = {'true' if method in ('get', 'head') else 'false'}"
             + ("" if method in ("get", "head") else "   # a write: mark safe only for objects the probe may change")]
    if op.get("summary"):
        lines.insert(1, f"# {op['summary']}")
    if public:
        lines.append("auth = false")
    if objects:
        lines.append("objects = {" + ", ".join(f"{k} = {_q(v)}" for k, v in objects.items()) + "}"
                     + "   # parameter -> object kind in identities' owns")
    if "/admin" in path:
        lines.append('roles = ["admin"]')
    lines.append("expects = []   # CHANGE-ME: the data this endpoint needs (identifier, contact, location, ...)")
    return "\n".join(lines)


def _token_field(op: dict[str, Any]) -> str | None:
    """The login answer's token property, when the document's 200/201 schema names one (else a person says)."""
    for code in ("200", "201"):
        content = ((op.get("responses") or {}).get(code) or {}).get("content", {})
        props = next(iter(content.values()), {}).get("schema", {}).get("properties", {}) if content else {}
        names = [n for n in props if re.search(r"token", n, re.I) and not re.search(r"refresh|type", n, re.I)]
        if names:
            return names[0]
    return None


def draft_profile(doc: dict[str, Any], source: str, base_url: str | None = None) -> str:
    """The drafted profile. ``base_url`` (the URL the tester tests) wins over the document's ``servers``;
    whatever the draft can only guess reads CHANGE-ME, which the profile loader refuses until confirmed."""
    info = doc.get("info", {})
    base = base_url.rstrip("/") if base_url else _base_url(doc, source)
    host = urlsplit(base).hostname or "CHANGE-ME"
    paths = doc.get("paths", {})
    login = next(((p, m, op) for p, item in paths.items() for m, op in item.items()
                  if m == "post" and re.search(r"login|signin|token", p, re.I)), None)
    kinds = sorted({p["name"] for item in paths.values() for op in item.values() if isinstance(op, dict)
                    for p in op.get("parameters", []) if isinstance(p, dict) and p.get("in") == "path"})
    out = [f"# Drafted by `vehicle-ds probe init` from {source} — complete every CHANGE-ME before running.",
           "[target]", f"name = {_q(str(info.get('title', host)))}", f"version = {_q(str(info.get('version', '')))}",
           f"base_url = {_q(base)}", f"allow_hosts = [{_q(host)}]", 'environment = "test"   # or "production"', "",
           "[budget]", "max_requests = 800", "rate_per_s = 10", "time_s = 300", "burst = 30", "",
           "[safety]", "allow_unsafe = false", ""]
    if login:
        path, _, op = login
        content = (op.get("requestBody") or {}).get("content", {})
        form = "application/x-www-form-urlencoded" in content
        props = next(iter(content.values()), {}).get("schema", {}).get("properties", {}) if content else {}
        body = ('{grant_type = "password", username = "{username}", password = "{password}"}' if "grant_type" in props
                else '{username = "{username}", password = "{password}"}')
        field = _token_field(op)
        out += ["[login]", f"path = {_q(path)}", 'method = "POST"', *(['format = "form"'] if form else []),
                f"body = {body}", f"token_field = {_q(field)}" if field else
                'token_field = "CHANGE-ME"   # the login answer\'s token property (access_token, auth_token, ...)', ""]
    owns = "{" + ", ".join(f'{k} = ["CHANGE-ME"]' for k in kinds) + "}"
    for name in ("owner_a", "owner_b"):
        out += ["[[identity]]", f"name = {_q(name)}", 'role = "owner"', 'username = "CHANGE-ME"',
                'password = "CHANGE-ME"', f"owns = {owns}", ""]
    for path, item in paths.items():
        shared = item.get("parameters", []) if isinstance(item, dict) else []
        for method in _METHODS:
            op = item.get(method) if isinstance(item, dict) else None
            if isinstance(op, dict):
                out += [_endpoint(path, method, op, shared), ""]
    return "\n".join(out)
