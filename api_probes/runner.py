"""Run the probes of a target profile and write the results document (component ``probes``)."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vehicle_ds.errors import InputError
from vehicle_ds.results import Asset, Criterion, check, finish, new_results

from .checks import REGISTRY, result, run_probe
from .client import BudgetExhausted, SafeClient, mask
from .context import AUTH_METHODS, Context, accepted_as
from .listener import KeyListener
from .login import login
from .profile import Profile
from .rootcause import findings, fold
from .setup import run_setup

FIRST = ("probes.jwt.weak_secret",)  # a cracked secret lets the lifetime and audience probes sign
LAST = ("probes.config.header_disclosure",)  # judged on every answer the run saw


def _login(client: SafeClient, profile: Profile, expires: dict[str, float] | None = None,
           only: str | None = None) -> tuple[dict[str, str], dict[str, dict[str, str]], list[str]]:
    """Tokens and session cookies per identity: given in the profile, or from the login flow. A cookie the
    login sets belongs to that identity only; ``expires`` collects when each logged-in token runs out."""
    tokens: dict[str, str] = {}
    cookies: dict[str, dict[str, str]] = {}
    problems = []
    for ident in profile.identities:
        if only is not None and ident.name != only:
            continue
        if ident.token:
            tokens[ident.name] = ident.token
        if ident.cookies:
            cookies[ident.name] = dict(ident.cookies)
        if ident.token or ident.cookies:
            continue
        if not (profile.login and ident.username):
            problems.append(f"{ident.name}: no token, no cookies and no login flow")
            continue
        s = login(client, profile, ident.username, ident.password or "")
        if s.token:
            tokens[ident.name] = s.token
        if s.cookies:
            cookies[ident.name] = s.cookies
        if s.expires_at is not None and expires is not None:
            expires[ident.name] = s.expires_at
        if not s.ok:
            problems.append(f"{ident.name}: login failed ({s.exchange.status or s.exchange.error if s.exchange else '-'})")
    return tokens, cookies, problems


def _auth_methods(ctx: Context) -> tuple[str, ...]:
    """How the target accepts an identity: each credential alone is compared with both together on the
    reference endpoint. Ownership checks then run once per accepted method."""
    e = ctx.reference_endpoint()
    both = next((i.name for i in ctx.owners() if i.name in ctx.tokens and ctx.cookies.get(i.name)), None)
    if e is None or both is None:
        return ("token",) if ctx.tokens else ("cookie",)
    base = ctx.client.request("GET", e.path, token=ctx.tokens[both], cookies=ctx.cookies[both])
    accepted = tuple(m for m in AUTH_METHODS if accepted_as(ctx.client.request("GET", e.path, **ctx.auth(both, m)), base))
    return accepted or ("token",)


def _public_key(client: SafeClient, profile: Profile) -> bytes | None:
    if profile.public_key:
        return Path(profile.public_key).read_bytes()
    if not profile.jwks_url:
        return None
    ex = client.request("GET", profile.jwks_url, any_path=True)
    keys = (ex.json() or {}).get("keys", []) if ex.status == 200 else []
    if not keys:
        return None
    import jwt
    from cryptography.hazmat.primitives import serialization

    key = jwt.PyJWK(keys[0]).key
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _signing_key(spec: str | None) -> Any:
    if not spec:
        return None
    if spec.startswith("hs:"):
        return spec[3:].encode()
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(Path(spec).read_bytes(), password=None)


def _login_check(problems: list[Any], identities: int) -> dict[str, Any]:
    """The probes' own precondition, not a property of the target: no OWASP category, no CWE, no requirement."""
    crit = Criterion("every identity of the profile logs in, so each probe can ask as that identity",
                     "engineering_default", "probe profile [[identity]]", {"identities": 1})
    c = check("probes.setup.login", "Every identity could log in", "error", "high", [], evidence={"login_problems": problems},
              metrics={"identities": identities, "failed": len(problems)}, criterion=crit, observed={"identities": identities},
              reason="an identity could not log in: the probes that need it could not ask their question")
    return {**c, "owasp": None, "cwe": None, "endpoint": ""}


def _results_doc(profile: Profile, client: SafeClient, probes: list, discover: bool) -> dict[str, Any]:
    return new_results("probes", {"target": profile.name, "base_url": profile.base_url,
                                  "profile_sha256": hashlib.sha256(Path(profile.path).read_bytes()).hexdigest()
                                  if profile.path else None,
                                  "identities": [{"name": i.name, "role": i.role} for i in profile.identities],
                                  "endpoints": len(profile.endpoints)},
                       {"max_requests": profile.max_requests, "rate_per_s": profile.rate_per_s, "time_s": profile.time_s,
                        "burst": profile.burst, "allow_unsafe": client.allow_unsafe, "discover": discover,
                        "probes": [p.id for p in probes]},
                       asset=Asset("platform", profile.name, profile.version))


def _connect(client: SafeClient, profile: Profile) -> tuple[Context, list[str]]:
    """Reach the target through its first safe GET endpoint, log every identity in; the context the probes
    share, and the identities that could not log in."""
    first = next((e for e in profile.endpoints if e.safe and e.method == "GET" and "{" not in e.path), None)
    if first is None:
        raise InputError("the profile lists no safe GET endpoint without parameters to reach the target with",
                         path=profile.path)
    health = client.request("GET", first.path)  # start-up goes through the safe list like every request
    if health.status is None and "SSL" not in health.error and "certificate" not in health.error.lower():
        raise InputError(f"target unreachable: {mask(health.error)}", path=profile.path)
    expires: dict[str, float] = {}
    tokens, cookies, problems = _login(client, profile, expires)
    ctx = Context(profile, client, tokens, allow_unsafe=client.allow_unsafe, cookies=cookies, expires=expires,
                  public_pem=_public_key(client, profile), signing_key=_signing_key(profile.test_signing_key))

    def relogin(name: str, ctx: Context = ctx) -> None:
        t, c, _ = _login(client, profile, ctx.expires, only=name)
        ctx.tokens.update(t)
        ctx.cookies.update(c)
        ctx.refreshed.append(name)

    ctx.relogin = relogin
    return ctx, problems


def _key_listener() -> KeyListener:
    """A loopback JWKS server with a key of our own, for the jku/x5u probes."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from .forge import rsa_public_jwk

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    listener = KeyListener({"keys": [rsa_public_jwk(key)]})
    listener.key = key
    return listener


def _run_probes(ctx: Context, probes: list, checks: list[dict[str, Any]],
                progress: Callable[[str, int, int], None] | None) -> bool:
    """Every probe in order until the request budget is used up (the rest are skipped and say so); whether
    it was."""
    exhausted = False
    for n, p in enumerate(probes):
        if progress:
            progress(p.id, n, len(probes))
        if exhausted:
            checks.append(result(p, "skipped", {"reason": "request budget used up"}))
            continue
        try:
            checks.extend(run_probe(ctx, p))
        except BudgetExhausted as exc:
            exhausted = True
            checks.append(result(p, "skipped", {"reason": str(exc)}))
    return exhausted


def _summary(checks: list[dict[str, Any]], client: SafeClient, profile: Profile, exhausted: bool,
             elapsed: float, ctx: Context | None) -> dict[str, Any]:
    sev = Counter(c["severity"] for c in checks if c["status"] == "fail" and "folded_into" not in c)
    return {"requests_sent": client.sent, "requests_blocked_by_safety": client.blocked,
            "budget": {"max_requests": profile.max_requests, "exhausted": exhausted},
            "elapsed_s": round(elapsed, 2),
            "checks": dict(Counter(c["status"] for c in checks)), "findings_by_severity": dict(sev),
            "findings": findings(checks), "failed_checks": sum(1 for c in checks if c["status"] == "fail"),
            "tokens_refreshed": len(ctx.refreshed) if ctx is not None else 0, "checks_run": len(checks),
            # every object, field or account a probe changed and could not (or was not told how to) undo
            "left_changed": [c for c in (ctx.changes if ctx is not None else []) if c.get("left_changed")]}


def run(profile: Profile, *, allow_unsafe: bool = False, only: list[str] | None = None, discover: bool = False,
        progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Every registered probe (or those ``only`` names) against the profile's target, within its budget."""
    if allow_unsafe and not profile.allow_unsafe:
        raise InputError("--allow-unsafe also needs safety.allow_unsafe = true in the profile", path=profile.path)
    client = SafeClient(profile, allow_unsafe=allow_unsafe)
    t0 = time.monotonic()
    listener = None
    probes = [p for p in REGISTRY if not only or any(p.id == o or p.id.startswith(o + ".") for o in only)]
    probes.sort(key=lambda p: (p.id not in FIRST, p.id in LAST))
    doc = _results_doc(profile, client, probes, discover)
    checks: list[dict[str, Any]] = []
    exhausted = False
    ctx: Context | None = None
    try:
        ctx, problems = _connect(client, profile)
        doc["setup"] = run_setup(ctx)
        ctx.methods = _auth_methods(ctx)
        ctx.discover = discover
        doc["subject"]["auth_methods"] = list(ctx.methods)
        if problems:
            checks.append(_login_check(problems, len(profile.identities)))
        if profile.listener:
            ctx.listener = listener = _key_listener()
        exhausted = _run_probes(ctx, probes, checks, progress)
    finally:
        if listener is not None:
            listener.close()
        client.close()
    for c in checks:  # keep DESIGN's check shape; owasp/cwe/endpoint stay as extra keys
        c.setdefault("metrics", {})
    fold(checks)
    doc["checks"] = checks
    doc["request_log"] = client.log.entries
    doc["changes"] = ctx.changes if ctx is not None else []
    return finish(doc, _summary(checks, client, profile, exhausted, time.monotonic() - t0, ctx))
