"""Transport, configuration and limits: plain HTTP, TLS, HSTS, CORS, verbose errors, rate limits."""

from __future__ import annotations

import re
import time
from typing import Any

from ..context import Context, fill
from ..error_signatures import disclosures
from ..profile import Endpoint
from .registry import Probe, _owner_of, _reads, per_endpoint, probe, result


@probe("probes.transport.plain_http", "The API is not served over plain HTTP", "OWASP-API8:2023", "CWE-319",
       ("GBT44464-5.6", "R155-A5"), "high")
def plain_http(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """Data travels unencrypted: the base URL is http://, or the same API answers on the plain-HTTP port."""
    url = ctx.profile.base_url
    if url.startswith("http://"):
        if ctx.profile.environment == "test" and ctx.profile.host in ("127.0.0.1", "localhost", "::1"):
            return [result(p, "warn", {"base_url": url}, severity="info", observed={"requests": 0}, minimum={},
                           reason="a test environment on loopback (target.environment = \"test\"): plain HTTP is "
                                  "reported for information")]
        return [result(p, "fail", {"base_url": url, "note": "the profile's base URL is plain HTTP"},
                       observed={"base_url_checked": 1}, minimum={})]
    port = ctx.profile.http_port
    if port is None:  # the base URL is HTTPS; whether the API also answers in clear is untested
        return [result(p, "not_assessed", {"base_url": url}, observed={"requests": 0},
                       reason="HTTPS base URL; no plain-HTTP port declared (target.http_port) to test")]
    e = ctx.reference_endpoint()
    ex = ctx.client.request("GET", f"http://{ctx.profile.host}:{port}{e.path if e else '/'}", any_path=True)
    # any answer other than a redirect means clients can talk to the API in clear (tokens included)
    served = ex.status is not None and ex.status not in (301, 302, 307, 308)
    return [result(p, "fail" if served else "pass", ex.evidence())]


@probe("probes.transport.tls", "The TLS certificate validates", "OWASP-API8:2023", "CWE-295", ("GBT44464-5.6",),
       "high")
def tls(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The server's certificate does not validate against the trust store (or the profile's CA)."""
    if not ctx.profile.base_url.startswith("https://"):
        return [result(p, "skipped", {"reason": "not HTTPS"})]
    e = ctx.reference_endpoint()
    ex = ctx.client.request("GET", e.path if e else "/", any_path=e is None)
    bad = ex.status is None and ("SSL" in ex.error or "certificate" in ex.error.lower())
    return [result(p, "fail" if bad else "pass", ex.evidence())]


@probe("probes.transport.hsts", "HTTPS responses carry Strict-Transport-Security", "OWASP-API8:2023", "CWE-319",
       ("GBT44464-5.6",), "low")
def hsts(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """Without HSTS a client can be downgraded to plain HTTP."""
    if not ctx.profile.base_url.startswith("https://"):
        return [result(p, "skipped", {"reason": "not HTTPS"})]
    ref = ctx.reference_and_identity()
    ex = ctx.client.request("GET", ref[0].path, **ctx.auth(ref[1])) if ref else ctx.client.request("GET", "/",
                                                                                                 any_path=True)
    has = any(k.lower() == "strict-transport-security" for k in ex.headers)
    return [result(p, "pass" if has else "fail", {"headers": sorted(ex.headers)[:30]},
                   observed={"requests": int(ex.status is not None)})]


_VERSIONED = re.compile(r"\d+\.\d+")
_DISCLOSING = ("x-powered-by", "x-aspnet-version", "x-aspnetmvc-version", "x-generator", "x-drupal-cache",
               "x-runtime-version", "x-php-version")


@probe("probes.config.header_disclosure", "Response headers do not disclose the software and its version",
       "OWASP-API8:2023", "CWE-200", ("R155-A5",), "low")
def header_disclosure(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """Headers name the framework (X-Powered-By, X-AspNet-Version, …) or a versioned Server/Via, on any answer
    the run saw (it runs last; error pages and redirects often carry what the main answers hide): an attacker
    learns which published vulnerabilities to try."""
    ref = ctx.reference_and_identity()
    if ref is None:
        return [result(p, "skipped", {"reason": "no reference endpoint"})]
    e, ident = ref
    ex = ctx.client.request("GET", e.path, **ctx.auth(ident))
    found: dict[str, str] = {}
    where: dict[str, str] = {}
    for (name, value), url in ctx.client.headers_seen.items():
        if (name in _DISCLOSING or (name in ("server", "via") and _VERSIONED.search(value))) and name not in found:
            found[name], where[name] = value, url
    return [result(p, "fail" if found else "pass", {"disclosed": found, "seen_at": where,
                                                   "answers_seen": len(ctx.client.log.entries)}, e.label,
                   observed={"requests": int(ex.status is not None)})]


@probe("probes.config.cors", "CORS does not allow credentials from any origin", "OWASP-API8:2023", "CWE-942",
       ("MIIT-DSM",), "high")
def cors(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A foreign origin is reflected with credentials allowed: any web page can read the API as the user."""
    ref = ctx.reference_and_identity()
    if ref is None:
        return [result(p, "skipped", {"reason": "no reference endpoint"})]
    e, ident = ref
    origin = "https://probe-origin.invalid"
    ex = ctx.client.request("GET", e.path, **ctx.auth(ident), headers={"Origin": origin})
    h = {k.lower(): v for k, v in ex.headers.items()}
    allow = h.get("access-control-allow-origin")
    bad = allow in (origin, "*") and h.get("access-control-allow-credentials", "").lower() == "true"
    return [result(p, "fail" if bad else "pass", {"allow_origin": allow,
                                                  "allow_credentials": h.get("access-control-allow-credentials")},
                   observed={"requests": int(ex.status is not None)})]


@probe("probes.config.verbose_errors", "Errors do not leak stack traces, database errors or SQL",
       "OWASP-API8:2023", "CWE-209", ("R155-A5",), "medium")
def verbose_errors(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A malformed object id makes the server answer with internals: a stack trace in any language, database
    or ORM error text (PostgreSQL, MySQL, SQLite, Oracle, SQL Server), the failing SQL statement, or server
    file paths (api_probes/error_signatures.py)."""

    def one(e: Endpoint) -> list[dict[str, Any]]:
        owner = _owner_of(ctx, e)
        if owner is None:
            return []
        ex = ctx.client.request("GET", fill(e.path, {k: "x'%22<>" for k in e.objects}), **ctx.auth(owner))
        leak = disclosures(ex.body.decode("utf-8", "replace"))
        return [result(p, "fail" if leak else "pass", {"disclosed": leak, **ex.evidence(300)}, e.label)]

    out = per_endpoint(p, (e for e in _reads(ctx, with_objects=True) if e.auth), one)
    return out or [result(p, "skipped", {"reason": "no endpoint with object ids"})]


@probe("probes.limits.rate_limit", "A burst of requests is rate limited", "OWASP-API4:2023", "CWE-770",
       ("R155-A5",), "medium")
def rate_limit(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A bounded burst (profile budget.burst requests, unpaced, on one safe endpoint) never sees 429.

    With the platform's documented limit (``target.rate_limit = {per_s, burst}``) the verdict does not
    depend on how fast this machine sends: a token bucket can serve at most burst + per_s × elapsed
    requests, so more successes than that fail the check whatever the speed; a 429 passes it; a sender too
    slow to exceed the limit within the budget is ``not_assessed``, never a pass or a fail by luck."""
    ref = ctx.reference_and_identity()
    if ref is None:
        return [result(p, "skipped", {"reason": "no reference endpoint"})]
    e, ident = ref
    rate, cap = ctx.profile.declared_rate, ctx.profile.declared_burst
    declared = rate is not None and cap is not None
    limit_n = ctx.profile.burst if not declared else max(ctx.profile.burst, ctx.profile.max_requests - ctx.client.sent - 5)
    statuses: list[int | None] = []
    served, allowed = 0, float("inf")
    t0 = time.monotonic()
    while len(statuses) < limit_n:
        ex = ctx.client.request("GET", e.path, **ctx.auth(ident), paced=False)
        statuses.append(ex.status)
        served += ex.ok
        if ex.status == 429:
            break
        if declared:
            # +1: the request in flight when the clock was read; 1e-6 absorbs float error at the boundary
            allowed = cap + rate * (time.monotonic() - t0) + 1 + 1e-6
            if served > allowed:
                break
    ev = {"burst": len(statuses), "served": served, "seconds": round(time.monotonic() - t0, 2),
          "statuses": sorted({s for s in statuses if s is not None})}
    if 429 in statuses:
        return [result(p, "pass", ev, e.label, observed={"requests": len(statuses)})]
    if not declared:
        return [result(p, "fail", ev, e.label, observed={"requests": len(statuses)})]
    ev.update({"declared": {"per_s": rate, "burst": cap}, "most_a_limiter_allows": round(allowed, 3)})
    if served > allowed:
        return [result(p, "fail", ev, e.label, observed={"requests": len(statuses)})]
    return [result(p, "not_assessed", ev, e.label, observed={"requests": len(statuses)},
                   reason="the burst never outpaced the declared limit within the request budget")]
