"""Authentication: requests without, or with garbled, or query-string credentials."""

from __future__ import annotations

from typing import Any

from ..context import Context, accepted_as, fill
from .registry import _AUTH, Probe, _own_values, _owner_of, _reads, probe, result


@probe("probes.auth.unauthenticated", "Endpoint refuses requests without credentials", "OWASP-API2:2023", "CWE-306",
       _AUTH, "critical")
def unauthenticated(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A request with no credentials gets the data an identity gets: the endpoint has no authentication
    (NissanConnect 2016)."""
    out = []
    for e in _reads(ctx):
        if not e.auth:
            continue
        owner = _owner_of(ctx, e)
        if owner is None:
            continue
        path = fill(e.path, _own_values(ctx, owner, e) or {})
        ex = ctx.client.request("GET", path)
        ok = ex.status in (401, 403)
        leak = ex.status is not None and 200 <= ex.status < 300
        out.append(result(p, "fail" if leak else "pass" if ok else "warn", ex.evidence(), e.label,
                          severity=None if leak else "low"))
    return out


@probe("probes.auth.invalid_token", "Endpoint refuses a garbled token", "OWASP-API2:2023", "CWE-287", _AUTH, "critical")
def invalid_token(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A token that is not a JWT at all is accepted."""
    e = ctx.reference_endpoint()
    if e is None:
        return [result(p, "skipped", {"reason": "no safe authenticated read endpoint without object ids"})]
    ex = ctx.client.request("GET", e.path, token="not.a-valid.token")
    bad = ex.status is not None and 200 <= ex.status < 300
    return [result(p, "fail" if bad else "pass", ex.evidence(), e.label)]


@probe("probes.auth.token_in_query", "Tokens are not accepted in the query string", "OWASP-API2:2023", "CWE-598",
       _AUTH, "medium")
def token_in_query(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A bearer token sent as ``?access_token=`` works: tokens end up in proxy and server logs."""
    ref = ctx.reference_and_identity()
    if ref is None:
        return [result(p, "skipped", {"reason": "no reference endpoint or identity"})]
    e, ident = ref
    base = ctx.baseline(ident, e.path)
    hits = []
    for name in ("access_token", "token"):
        ex = ctx.client.request("GET", e.path, params={name: ctx.tokens[ident]})
        if accepted_as(ex, base):
            hits.append(ex.evidence())
    return [result(p, "fail" if hits else "pass", {"accepted": hits}, e.label, observed={"requests": 2})]
