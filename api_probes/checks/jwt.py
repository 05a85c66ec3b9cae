"""JWT attacks: forged, unsigned, confused and lifetime-violating tokens, judged by content."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from .. import forge
from ..context import Context, accepted_as, accepts_anything
from .registry import _AUTH, Probe, probe, result


def _token_owners(ctx: Context) -> list[str]:
    """Owners that hold a token (a cookie-only session has nothing to forge)."""
    return [o.name for o in ctx.owners() if o.name in ctx.tokens]


def _jwt_setup(ctx: Context, p: Probe):
    e = ctx.reference_endpoint()
    owners = _token_owners(ctx)
    if e is None or not owners:
        return None, None, None, [result(p, "skipped", {"reason": "no reference endpoint or owner with a token"})]
    ident = owners[0]
    token = ctx.tokens[ident]
    base = ctx.baseline(ident, e.path, "token")
    if base.status != 200:
        return None, None, None, [result(p, "error", {"reason": "the genuine token is refused", **base.evidence()})]
    open_to = accepts_anything(ctx, ident, e.path)
    if open_to:
        return None, None, None, [_no_differential(p, e.label, open_to)]
    return e, token, base, None


def _no_differential(p: Probe, where: str, open_to: dict[str, Any]) -> dict[str, Any]:
    return result(p, "not_assessed", {"answers_the_same_to": open_to}, where, observed={"differential": 0},
                  minimum={"differential": 1},
                  reason=f"the endpoint answers {' and '.join(open_to)} as it answers the genuine token: a forged "
                         "token proves nothing there (its open access is probes.auth's finding)")


def _try_tokens(ctx: Context, p: Probe, tokens: dict[str, str]) -> list[dict[str, Any]]:
    e, _, base, early = _jwt_setup(ctx, p)
    if early:
        return early
    accepted = {}
    for label, tok in tokens.items():
        ex = ctx.client.request("GET", e.path, token=tok)
        if accepted_as(ex, base):
            accepted[label] = ex.evidence()
    # The genuine token must still work afterwards (jwt_tool's persistence check).
    again = ctx.client.request("GET", e.path, token=ctx.tokens[_token_owners(ctx)[0]])
    ev = {"variants_tried": sorted(tokens), "accepted": accepted, "genuine_token_still_works": again.status == 200}
    if not accepted and again.status != 200:  # the oracle itself broke (revoked session, limits): inconclusive
        return [result(p, "error", {**ev, "reason": "the genuine token stopped working"}, e.label)]
    return [result(p, "fail" if accepted else "pass", ev, e.label, observed={"requests": len(tokens) + 1})]


def _token(ctx: Context) -> str | None:
    owners = _token_owners(ctx)
    return ctx.tokens[owners[0]] if owners else None


def needs_token(fn: Callable[[Context, Probe], list[dict[str, Any]]]) -> Callable[[Context, Probe], list[dict[str, Any]]]:
    """Precondition of the token attacks: an owner with a token (a cookie-only session has nothing to forge)."""
    @functools.wraps(fn)
    def wrapper(ctx: Context, p: Probe) -> list[dict[str, Any]]:
        if _token(ctx) is None:
            return [result(p, "skipped", {"reason": "no token"})]
        return fn(ctx, p)
    return wrapper


@probe("probes.jwt.alg_none", "alg none is refused in every spelling", "OWASP-API2:2023", "CWE-347", _AUTH, "critical")
@needs_token
def alg_none(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """An unsigned token (alg none/None/NONE/nOnE or empty) is accepted: anyone can mint any identity."""
    tok = _token(ctx)
    return _try_tokens(ctx, p, {f"alg={a!r}": t for a, t in zip([*forge.ALG_NONE_SPELLINGS, ""],
                                                                 forge.alg_none_tokens(tok), strict=True)})


@probe("probes.jwt.signature_not_verified", "A stripped, truncated or altered signature is refused",
       "OWASP-API2:2023", "CWE-347", _AUTH, "critical")
@needs_token
def signature(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The server accepts a token whose signature is missing or wrong: it does not verify signatures."""
    tok = _token(ctx)
    return _try_tokens(ctx, p, {"stripped": forge.stripped(tok), "truncated": forge.truncated(tok),
                                "bit_flipped": forge.bit_flipped(tok)})


@probe("probes.jwt.claims_tampered", "Claims changed under the old signature are refused", "OWASP-API2:2023",
       "CWE-347", _AUTH, "critical")
def claims_tampered(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """Identity A's token with B's identity claims (A's signature kept) is accepted as B: account takeover. The
    identity claims are those the profile names (``jwt.identity_claims``), else those that differ between A's
    and B's tokens (``sub``, ``user_id``, ``uid``, ``vin``, nested ones)."""
    owners = _token_owners(ctx)
    e = ctx.reference_endpoint()
    if len(owners) < 2 or e is None:
        return [result(p, "skipped", {"reason": "needs two owner identities with tokens"})]
    a, b = owners[0], owners[1]
    open_to = accepts_anything(ctx, a, e.path)
    if open_to:
        return [_no_differential(p, e.label, open_to)]
    claims = ctx.profile.identity_claims or forge.identity_claims(ctx.tokens[a], ctx.tokens[b])
    if not claims:
        return [result(p, "not_assessed", {}, e.label, observed={"requests": 0},
                       reason="A's and B's tokens carry the same claims: no identity claim to swap "
                              "(name it with jwt.identity_claims)")]
    b_claims = forge.flat_claims(forge.split(ctx.tokens[b])[1])
    forged = forge.tampered_paths(ctx.tokens[a], {c: b_claims.get(c) for c in claims})
    ex = ctx.client.request("GET", e.path, token=forged)
    took_over = accepted_as(ex, ctx.baseline(b, e.path, "token"))
    return [result(p, "fail" if took_over else "pass", {"claims": claims, "as": b, **ex.evidence()}, e.label)]


def _signed_variants(ctx: Context, claims: dict[str, Any]) -> str | None:
    tok = _token(ctx)
    if tok is None or ctx.signing_key is None:
        return None
    head, payload, *_ = forge.split(tok)
    new = {**payload, **claims}
    if isinstance(ctx.signing_key, (bytes, str)):
        key = ctx.signing_key.encode() if isinstance(ctx.signing_key, str) else ctx.signing_key
        return forge.hs_sign({k: v for k, v in head.items() if k != "alg"}, new, key, head.get("alg", "HS256")
                             if str(head.get("alg", "")).startswith("HS") else "HS256")
    from cryptography.hazmat.primitives.asymmetric import ec

    if isinstance(ctx.signing_key, ec.EllipticCurvePrivateKey):
        return forge.es256_sign({k: v for k, v in head.items() if k != "alg"}, new, ctx.signing_key)
    return forge.rsa_sign({k: v for k, v in head.items() if k != "alg"}, new, ctx.signing_key)


def _lifetime_probe(ctx: Context, p: Probe, claims: dict[str, Any], why: str) -> list[dict[str, Any]]:
    tok = _signed_variants(ctx, claims)
    if tok is None:
        ident = ctx.owners()[0] if ctx.owners() else None
        if p.id == "probes.jwt.expired" and ident is not None and ident.expired_token:
            return _try_tokens(ctx, p, {"expired_token_replay": ident.expired_token})
        return [result(p, "skipped", {"reason": f"{why}: needs jwt.test_signing_key (test environments), an "
                                                "expired_token for an identity, or a cracked weak secret"})]
    return _try_tokens(ctx, p, {"signed": tok})


@probe("probes.jwt.expired", "Expired tokens are refused", "OWASP-API2:2023", "CWE-613", _AUTH, "high")
def expired(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A correctly signed token whose exp has passed is still accepted."""
    return _lifetime_probe(ctx, p, {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200,
                                    "nbf": int(time.time()) - 7200}, "expiry")


@probe("probes.jwt.not_yet_valid", "Tokens are refused before nbf", "OWASP-API2:2023", "CWE-613", _AUTH, "medium")
def not_yet_valid(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A correctly signed token whose nbf lies in the future is accepted."""
    return _lifetime_probe(ctx, p, {"nbf": int(time.time()) + 86400, "iat": int(time.time()) + 86400,
                                    "exp": int(time.time()) + 90000}, "not-before")


@probe("probes.jwt.wrong_audience", "Tokens for another audience or issuer are refused", "OWASP-API2:2023",
       "CWE-287", (*_AUTH,), "high")
def wrong_audience(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A token issued for another audience (another app or region) or by another issuer is accepted. Judged only
    for the claims the platform's own tokens carry: an app that issues no ``aud`` has no audience to check."""
    tok = _token(ctx)
    carried = [c for c in ("aud", "iss") if tok is not None and c in forge.split(tok)[1]]
    if tok is not None and not carried:
        return [result(p, "not_assessed", {"claims": sorted(forge.split(tok)[1])}, observed={"claims_carried": 0},
                       minimum={"claims_carried": 1},
                       reason="the platform's tokens carry neither aud nor iss: there is no audience or issuer to check")]
    variants = {"aud=another-app": {"aud": "another-app"}, "iss=other-issuer": {"iss": "https://other-issuer.invalid"}}
    tokens = {label: _signed_variants(ctx, claims) for label, claims in variants.items() if next(iter(claims)) in carried}
    if not tokens or None in tokens.values():
        return [result(p, "skipped", {"reason": "needs jwt.test_signing_key or a cracked weak secret"})]
    return _try_tokens(ctx, p, tokens)


@probe("probes.jwt.key_confusion", "RS/ES -> HS key confusion is refused", "OWASP-API2:2023", "CWE-347", _AUTH,
       "critical")
def key_confusion(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """HS256 signed with the platform's own public key (in any common encoding) is accepted."""
    tok = _token(ctx)
    if tok is None or ctx.public_pem is None:
        return [result(p, "skipped", {"reason": "no published JWKS or public key"})]
    return _try_tokens(ctx, p, forge.key_confusion_tokens(tok, ctx.public_pem))


@probe("probes.jwt.embedded_jwk", "A key embedded in the header (jwk) is not trusted", "OWASP-API2:2023", "CWE-347",
       _AUTH, "critical")
@needs_token
def embedded_jwk(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The server verifies with the key the token itself carries (CVE-2018-0114)."""
    tok = _token(ctx)
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _head, payload, *_ = forge.split(tok)
    forged = forge.rsa_sign({"typ": "JWT", "jwk": forge.rsa_public_jwk(key)}, payload, key)
    return _try_tokens(ctx, p, {"jwk": forged})


@probe("probes.jwt.jku_x5u", "Key URLs in the header (jku, x5u) are not followed", "OWASP-API2:2023", "CWE-918",
       _AUTH, "critical")
def jku_x5u(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The server fetches verification keys from a URL the token names (here: the probe's loopback listener)."""
    tok = _token(ctx)
    if tok is None or ctx.listener is None:
        return [result(p, "skipped", {"reason": "no token or the loopback listener is off"})]
    _head, payload, *_ = forge.split(tok)
    key = ctx.listener.key
    tokens = {h: forge.rsa_sign({"typ": "JWT", h: f"{ctx.listener.url}/{h}.json", "kid": "probe"}, payload, key)
              for h in ("jku", "x5u")}
    before = len(ctx.listener.fetches)
    out = _try_tokens(ctx, p, tokens)
    fetched = ctx.listener.fetches[before:]
    c = out[0]
    c["evidence"]["listener_fetches"] = fetched
    if fetched:  # it fetched, even if it then refused: the finding is the fetch (SSRF to a URL we chose)
        c.update(status="fail", severity="high" if c["status"] == "pass" else c["severity"])
    elif c["status"] == "fail":  # accepted without fetching: another flaw accepts it, not a key URL
        c.update(status="needs_review", severity="info",
                 reason="the forged token was accepted but the key URL was never fetched: the acceptance is "
                        "explained by another check (signature or key handling), not by jku/x5u")
    return out


@probe("probes.jwt.kid_injection", "kid path traversal and SQL injection are refused", "OWASP-API2:2023", "CWE-22",
       _AUTH, "critical")
@needs_token
def kid_injection(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The kid header selects a key from a file or database the attacker controls (/dev/null, SQLi)."""
    tok = _token(ctx)
    return _try_tokens(ctx, p, {f"kid={kid!r}": t for kid, t in forge.kid_tokens(tok)})


@probe("probes.jwt.psychic_signature", "ECDSA r = s = 0 (psychic signature) is refused", "OWASP-API2:2023",
       "CWE-347", _AUTH, "critical")
@needs_token
def psychic(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """An ES256 token with an all-zero signature is accepted (CVE-2022-21449)."""
    tok = _token(ctx)
    return _try_tokens(ctx, p, {"es256_r0_s0": forge.psychic_es256(tok)})


@probe("probes.jwt.weak_secret", "HMAC tokens are not signed with a guessable secret", "OWASP-API2:2023", "CWE-798",
       _AUTH, "critical")
@needs_token
def weak_secret(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The HMAC secret of a captured token is guessable (offline, no request sent): the built-in list, ~104k
    publicly leaked JWT secrets, the profile's candidates, words of the target's name and host, every number
    up to six digits. Anyone who guesses it can sign any identity."""
    from ..secrets import candidates

    tok = _token(ctx)
    alg = forge.split(tok)[0].get("alg")
    if not str(alg).startswith("HS"):
        return [result(p, "pass", {"alg": alg, "note": "asymmetric signature: no shared secret to guess"},
                       observed={"tokens_examined": 1}, minimum={"tokens_examined": 1})]
    res = forge.crack_hs(tok, candidates(ctx.profile), time_budget_s=ctx.profile.crack_seconds)
    ev = {"alg": alg, "candidates_tried": res.tried, "complete": res.complete}
    metrics = {"candidates_per_s": round(res.per_second), "seconds": round(res.seconds, 2)}
    if res.secret is None:
        return [result(p, "pass" if res.complete else "not_assessed", ev, metrics=metrics,
                       observed={"candidates": res.tried}, minimum={"candidates": 1},
                       reason="" if res.complete else "the search was cut by its time limit (jwt.crack_seconds)")]
    ctx.signing_key = res.secret.encode()  # the later lifetime/audience probes can now sign real attack tokens
    ev["secret"] = f"{res.secret[:1]}***{res.secret[-1:]} ({len(res.secret)} chars)"
    return [result(p, "fail", ev, metrics=metrics, observed={"candidates": res.tried})]


@probe("probes.jwt.token_hygiene", "Access tokens expire, live no longer than the policy allows and carry no personal "
       "data", "OWASP-API2:2023", "CWE-613", _AUTH, "medium")
@needs_token
def token_hygiene(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The platform's own token, read offline (no request): it has no ``exp`` (valid forever once stolen), it
    lives longer than the declared maximum (``jwt.max_lifetime_s``; without one, the lifetime is reported, not
    judged), or its claims carry personal data anyone holding the token can read (phone numbers, ID numbers,
    VINs, e-mail addresses: the same detectors as the exposure probe)."""
    from ..detectors import findings

    _head, claims, *_ = forge.split(_token(ctx))
    problems, ev = [], {"claims": sorted(claims)}
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, (int, float)):
        problems.append("no exp: the token never expires")
    elif isinstance(iat, (int, float)):
        ev["lifetime_s"] = int(exp - iat)
        cap = ctx.profile.max_token_lifetime_s
        if cap is not None and exp - iat > cap:
            problems.append(f"lifetime {int(exp - iat):,} s exceeds the declared maximum {int(cap):,} s")
    personal = [f for f in findings(claims) if f["category"] != "credential"]
    if personal:
        ev["personal_claims"] = [{k: f[k] for k in ("path", "category", "kind", "value")} for f in personal]
        problems.append(f"{len(personal)} claim(s) carry personal data readable by anyone holding the token")
    ev["problems"] = problems
    return [result(p, "fail" if problems else "pass", ev, observed={"tokens_examined": 1},
                   minimum={"tokens_examined": 1})]
