"""Data exposure: personal data in responses beyond what the endpoint declares."""

from __future__ import annotations

from typing import Any

from ..context import Context, fill
from ..detectors import findings
from ..profile import Endpoint
from .registry import Probe, _own_values, _owner_of, _reads, per_endpoint, probe, result


@probe("probes.exposure", "Responses carry no personal data beyond what the function needs", "OWASP-API3:2023",
       "CWE-213", ("CN-ADR-6", "MIIT-DSM"), "high")
def exposure(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The body holds personal or sensitive data (valid VINs, resident ids, phones, plates, precise
    coordinates, or keys the core classifier calls personal) of a category the endpoint does not declare,
    or credentials (passwords, password hashes, API keys and secrets, private keys, an environment dump),
    which no endpoint may return, unless the profile names the field as the endpoint's content
    (``allowed_fields``). Evidence says which detector fired (``kind``) on which field (``path``) and carries
    keyed pseudonyms, never the values."""

    def one(e: Endpoint) -> list[dict[str, Any]]:
        owner = _owner_of(ctx, e)
        if owner is not None and e.roles and ctx.identity(owner).role not in e.roles:
            owner = next((i.name for i in ctx.profile.identities if i.role in e.roles and ctx.has_credentials(i.name)),
                         None)
        if owner is None:
            return []
        ex = ctx.client.request("GET", fill(e.path, _own_values(ctx, owner, e) or {}), **ctx.auth(owner))
        if ex.status != 200:
            return []
        found = findings(ex.json(), e.path)
        allowed = [f for f in found if _allowed(f["path"], e.allowed_fields)]  # the profile says: content
        extra = [f for f in found if f["category"] not in e.expects and f not in allowed]
        sev = ("critical" if any(f["category"] == "credential" for f in extra) else
               "high" if any(f["sensitive"] for f in extra) else "medium")
        return [result(p, "fail" if extra else "pass", {"unexpected": extra[:20], "declared": e.expects,
                                                       "allowed_fields": [f["path"] for f in allowed][:20],
                                                       "found": len(found)}, e.label, severity=sev,
                       observed={"requests": 1})]

    return per_endpoint(p, _reads(ctx), one)


def _allowed(path: str, patterns: list[str]) -> bool:
    """A body path the profile declares legitimate content: ``notes[*].body`` (``[*]``: any list index, ``*``:
    any one key), or a bare key name (``api_key``: that key anywhere, for an endpoint whose function is to show
    the user's own key)."""
    import re

    for pat in patterns:
        if "." not in pat and "[" not in pat and "*" not in pat:
            if re.sub(r"\[\d+\]", "", path.split(".")[-1]) == pat:
                return True
            continue
        rx = re.escape(pat).replace(r"\[\*\]", r"\[\d+\]").replace(r"\*", r"[^.\[]*")
        if re.fullmatch(rx, path):
            return True
    return False
