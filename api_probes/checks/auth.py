"""Authentication: requests without, or with garbled, or query-string credentials."""

from __future__ import annotations

import json
import re
from typing import Any

from ..context import Context, accepted_as, fill
from ..login import login as log_in
from ..profile import Endpoint
from .registry import _AUTH, Probe, _own_values, _owner_of, _reads, per_endpoint, probe, result


@probe("probes.auth.unauthenticated", "Endpoint refuses requests without credentials", "OWASP-API2:2023", "CWE-306",
       _AUTH, "critical")
def unauthenticated(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A request with no credentials gets the data an identity gets: the endpoint has no authentication
    (NissanConnect 2016)."""

    def one(e: Endpoint) -> list[dict[str, Any]]:
        owner = _owner_of(ctx, e)
        if owner is None:
            return []
        # no token, no cookie: the client keeps no jar, so cookies set at login are not carried here
        ex = ctx.client.request("GET", fill(e.path, _own_values(ctx, owner, e) or {}))
        ok = ex.status in (401, 403)
        return [result(p, "fail" if ex.ok else "pass" if ok else "warn", ex.evidence(), e.label,
                       severity=None if ex.ok else "low")]

    return per_endpoint(p, (e for e in _reads(ctx) if e.auth), one)


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
    if ident not in ctx.tokens:
        return [result(p, "skipped", {"reason": "the identity has no token (cookie session only)"}, e.label)]
    base = ctx.baseline(ident, e.path, "token")
    hits = []
    for name in ("access_token", "token"):
        ex = ctx.client.request("GET", e.path, params={name: ctx.tokens[ident]})
        if accepted_as(ex, base):
            hits.append(ex.evidence())
    return [result(p, "fail" if hits else "pass", {"accepted": hits}, e.label, observed={"requests": 2})]


@probe("probes.auth.credentials_in_url", "Credentials are never taken in the URL", "OWASP-API2:2023", "CWE-598",
       _AUTH, "medium")
def credentials_in_url(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The login takes the username and password in the query string: they land in proxy, server and browser
    logs. A profile whose login is declared ``format = "query"`` fails as soon as it logs in; otherwise, with
    --allow-unsafe (it puts a probe identity's password in the target's logs), the credentials are sent in
    the query string of the login path with no body, and a session issued fails the check."""
    spec = ctx.profile.login or {}
    known = next((i for i in ctx.profile.identities if i.username and i.password), None)
    if not spec.get("path") or known is None:
        return [result(p, "skipped", {"reason": "no login flow or no identity with a password"})]
    if str(spec.get("format", "json")) == "query":
        ok = log_in(ctx.client, ctx.profile, known.username or "", known.password or "").ok
        return [result(p, "fail" if ok else "error", {"declared": "login.format = query", "session_issued": ok},
                       str(spec["path"]), observed={"requests": 1},
                       reason="" if ok else "the declared query-string login issued no session")]
    if not ctx.allow_unsafe:
        return [result(p, "not_assessed", {}, str(spec["path"]), observed={"requests": 0}, minimum={"requests": 1},
                       reason="opt-in (--allow-unsafe): the test sends a probe identity's password in a URL, which "
                              "lands in the target's logs")]
    body = {k: str(v).replace("{username}", known.username or "").replace("{password}", known.password or "")
            for k, v in spec.get("body", {"username": "{username}", "password": "{password}"}).items()}
    ex = ctx.client.request(str(spec.get("method", "POST")), str(spec["path"]), params=body)
    data = ex.json() if ex.ok else None
    issued = (isinstance(data, dict) and bool(data.get(str(spec.get("token_field", "access_token"))))) or \
        bool(ex.ok and ex.set_cookies)
    return [result(p, "fail" if issued else "pass", {"session_issued": issued, **ex.evidence(200)}, str(spec["path"]),
                   observed={"requests": 1})]


# volatile parts of an answer that differ between any two requests: times, ids of the request, nonces
_VOLATILE_WORDS = frozenset({"time", "date", "timestamp", "ts", "at", "nonce", "trace", "request", "correlation",
                             "duration", "elapsed", "took", "now", "server"})
_VOLATILE_TEXT = (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?"),
                  re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE),
                  re.compile(r"\b[0-9a-f]{16,}\b", re.IGNORECASE), re.compile(r"\b1[6-9]\d{8}(\d{3})?\b"))


def stable(body: str) -> str:
    """An answer without what changes from one request to the next (timestamps, request ids, nonces): JSON
    with such keys dropped, then ISO times, UUIDs, long hex and epoch seconds masked in what remains."""
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None

    def volatile(key: str) -> bool:  # requestId, request_id, timestamp, createdAt, trace-id ...
        words = {w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", key)}
        return bool(words & _VOLATILE_WORDS)

    def strip(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if not volatile(k)}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    text = json.dumps(strip(doc), sort_keys=True) if doc is not None else body
    for pattern in _VOLATILE_TEXT:
        text = pattern.sub("~", text)
    return text


@probe("probes.auth.user_enumeration", "Login answers the same for an unknown user and a wrong password",
       "OWASP-API2:2023", "CWE-204", _AUTH, "medium")
def user_enumeration(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The login answers an unknown user differently from a known user with a wrong password: anyone can
    test which accounts exist. Judged by what each login achieved (a token or session issued, or not) and by
    the answers compared without their volatile parts (times, request ids), whatever the HTTP status (an app
    may report a failed login with 200). One wrong password per known user, so no lockout is risked.
    Response times are reported, not judged (they depend on the machine)."""
    login = ctx.profile.login or {}
    known = next((i for i in ctx.profile.identities if i.username), None)
    if not login.get("path") or known is None:
        return [result(p, "skipped", {"reason": "no login flow or no identity with a username"})]
    import secrets

    wrong = "probe-wrong-" + secrets.token_hex(6)
    unknown_user = "probe-nobody-" + secrets.token_hex(6)
    answers, sessions = {}, {}
    for label, user in (("wrong_password", known.username or ""), ("unknown_user", unknown_user)):
        session = log_in(ctx.client, ctx.profile, user, wrong)
        ex = session.exchange
        assert ex is not None  # the profile has a login path (checked above)
        text = ex.body.decode("utf-8", "replace").replace(user, "{username}")
        sessions[label] = session.ok
        answers[label] = {"status": ex.status, "body": text[:300], "ms": round(ex.elapsed_ms, 1),
                          "session_issued": session.ok, "_stable": stable(text)}
    if sessions["wrong_password"]:
        return [result(p, "error", {"answers": _shown(answers)}, str(login["path"]), observed={"requests": 2},
                       reason="a wrong password was accepted: the oracle is broken (check the login body)")]
    a, b = answers["wrong_password"], answers["unknown_user"]
    differ = [k for k, key in (("status", "status"), ("body", "_stable")) if a[key] != b[key]]
    return [result(p, "fail" if differ else "pass", {"differs_in": differ, "answers": _shown(answers)},
                   str(login["path"]), observed={"requests": 2})]


def _shown(answers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {f: v for f, v in a.items() if not f.startswith("_")} for k, a in answers.items()}
