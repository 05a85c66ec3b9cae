"""The probe registry: each probe is a plain function with a stable id and a docstring saying what its
finding proves. A probe returns one check per endpoint (or one for the target). Oracles judge by content:
a forged or foreign request "succeeds" only if it gets what the rightful identity gets."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vehicle_ds.results import Criterion, check
from vehicle_ds.vocabulary import Severity, Status

from . import forge
from .client import BudgetExhausted, Exchange, SafetyError, mask
from .context import Context, accepted_as, fill
from .detectors import findings


@dataclass(frozen=True)
class Probe:
    id: str
    title: str
    owasp: str
    cwe: str
    requirements: tuple[str, ...]
    severity: str
    fn: Callable[[Context, Probe], list[dict[str, Any]]]


REGISTRY: list[Probe] = []


def probe(pid: str, title: str, owasp: str, cwe: str, requirements: tuple[str, ...], severity: str):
    def deco(fn):
        REGISTRY.append(Probe(pid, title, owasp, cwe, requirements, severity, fn))
        return fn
    return deco


def _requests_in(evidence: Any) -> int:
    """Exchanges recorded in a piece of evidence (every ``Exchange.evidence()`` carries a ``request``)."""
    if isinstance(evidence, dict):
        return int("request" in evidence and "status" in evidence) + sum(_requests_in(v) for v in evidence.values())
    if isinstance(evidence, list):
        return sum(_requests_in(v) for v in evidence)
    return 0


def result(p: Probe, status: Status, evidence: dict[str, Any] | None = None, endpoint: str = "",
           severity: Severity | None = None, metrics: dict[str, Any] | None = None, *,
           observed: dict[str, Any] | None = None, minimum: dict[str, float] | None = None,
           reason: str = "") -> dict[str, Any]:
    """One check of a probe. Its criterion is the probe's title under its OWASP category; a pass needs at
    least one request that put the question to the target (``observed``; by default the exchanges in the
    evidence), else it is ``not_assessed``."""
    evidence = evidence or {}
    if status == "skipped" and not reason:
        reason = str(evidence.get("reason", ""))
    crit = Criterion(p.title, "standard", p.owasp, minimum if minimum is not None else {"requests": 1})
    c = check(p.id, p.title + (f" — {endpoint}" if endpoint else ""), status, severity or p.severity,  # type: ignore[arg-type]
              [*p.requirements, p.owasp], evidence, metrics, criterion=crit,
              observed=observed if observed is not None else {"requests": _requests_in(evidence)}, reason=reason)
    return {**c, "owasp": p.owasp, "cwe": p.cwe, "endpoint": endpoint}


_AUTH = ("GBT44464-5.5", "ISO20078-3", "R155-A5")
_AUTHZ = ("GBT44464-5.5", "ISO20078-3", "R155-A5")


def _reads(ctx: Context, with_objects: bool | None = None):
    for e in ctx.profile.endpoints:
        if e.safe and e.method == "GET" and (with_objects is None or bool(e.objects) == with_objects):
            yield e


def _own_values(ctx: Context, ident: str, e) -> dict[str, str] | None:
    owns = ctx.identity(ident).owns
    vals = {}
    for param, kind in e.objects.items():
        if not owns.get(kind):
            return None
        vals[param] = owns[kind][0]
    return vals


def _owner_of(ctx: Context, e) -> str | None:
    for i in ctx.owners():
        if _own_values(ctx, i.name, e) is not None:
            return i.name
    return next(iter(ctx.tokens), None) if not e.objects else None


# --- authentication -------------------------------------------------------------------------------------

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


# --- JWT ------------------------------------------------------------------------------------------------

def _jwt_setup(ctx: Context, p: Probe):
    e = ctx.reference_endpoint()
    owners = ctx.owners()
    if e is None or not owners:
        return None, None, None, [result(p, "skipped", {"reason": "no reference endpoint or owner identity"})]
    ident = owners[0].name
    token = ctx.tokens[ident]
    base = ctx.baseline(ident, e.path)
    if base.status != 200:
        return None, None, None, [result(p, "error", {"reason": "the genuine token is refused", **base.evidence()})]
    return e, token, base, None


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
    again = ctx.client.request("GET", e.path, token=ctx.tokens[ctx.owners()[0].name])
    ev = {"variants_tried": sorted(tokens), "accepted": accepted, "genuine_token_still_works": again.status == 200}
    if not accepted and again.status != 200:  # the oracle itself broke (revoked session, limits): inconclusive
        return [result(p, "error", {**ev, "reason": "the genuine token stopped working"}, e.label)]
    return [result(p, "fail" if accepted else "pass", ev, e.label, observed={"requests": len(tokens) + 1})]


def _token(ctx: Context) -> str | None:
    owners = ctx.owners()
    return ctx.tokens.get(owners[0].name) if owners else None


@probe("probes.jwt.alg_none", "alg none is refused in every spelling", "OWASP-API2:2023", "CWE-347", _AUTH, "critical")
def alg_none(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """An unsigned token (alg none/None/NONE/nOnE or empty) is accepted: anyone can mint any identity."""
    tok = _token(ctx)
    if tok is None:
        return [result(p, "skipped", {"reason": "no token"})]
    return _try_tokens(ctx, p, {f"alg={a!r}": t for a, t in zip([*forge.ALG_NONE_SPELLINGS, ""],
                                                                 forge.alg_none_tokens(tok), strict=True)})


@probe("probes.jwt.signature_not_verified", "A stripped, truncated or altered signature is refused",
       "OWASP-API2:2023", "CWE-347", _AUTH, "critical")
def signature(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The server accepts a token whose signature is missing or wrong: it does not verify signatures."""
    tok = _token(ctx)
    if tok is None:
        return [result(p, "skipped", {"reason": "no token"})]
    return _try_tokens(ctx, p, {"stripped": forge.stripped(tok), "truncated": forge.truncated(tok),
                                "bit_flipped": forge.bit_flipped(tok)})


@probe("probes.jwt.claims_tampered", "Claims changed under the old signature are refused", "OWASP-API2:2023",
       "CWE-347", _AUTH, "critical")
def claims_tampered(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """Identity A's token with B's subject (A's signature kept) is accepted as B: account takeover."""
    owners = ctx.owners()
    e = ctx.reference_endpoint()
    if len(owners) < 2 or e is None:
        return [result(p, "skipped", {"reason": "needs two owner identities"})]
    a, b = owners[0].name, owners[1].name
    sub_b = forge.split(ctx.tokens[b])[1].get("sub")
    forged = forge.tampered(ctx.tokens[a], sub=sub_b)
    ex = ctx.client.request("GET", e.path, token=forged)
    took_over = accepted_as(ex, ctx.baseline(b, e.path))
    return [result(p, "fail" if took_over else "pass", {"claim": "sub", "as": b, **ex.evidence()}, e.label)]


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
    """A token issued for another audience (another app or region) or by another issuer is accepted."""
    a = _signed_variants(ctx, {"aud": "another-app"})
    i = _signed_variants(ctx, {"iss": "https://other-issuer.invalid"})
    if a is None or i is None:
        return [result(p, "skipped", {"reason": "needs jwt.test_signing_key or a cracked weak secret"})]
    return _try_tokens(ctx, p, {"aud=another-app": a, "iss=other-issuer": i})


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
def embedded_jwk(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The server verifies with the key the token itself carries (CVE-2018-0114)."""
    tok = _token(ctx)
    if tok is None:
        return [result(p, "skipped", {"reason": "no token"})]
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
    out[0]["evidence"]["listener_fetches"] = fetched
    if fetched and out[0]["status"] == "pass":
        out[0]["status"], out[0]["severity"] = "fail", "high"  # it fetched, even if it then refused
    return out


@probe("probes.jwt.kid_injection", "kid path traversal and SQL injection are refused", "OWASP-API2:2023", "CWE-22",
       _AUTH, "critical")
def kid_injection(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The kid header selects a key from a file or database the attacker controls (/dev/null, SQLi)."""
    tok = _token(ctx)
    if tok is None:
        return [result(p, "skipped", {"reason": "no token"})]
    return _try_tokens(ctx, p, {f"kid={kid!r}": t for kid, t in forge.kid_tokens(tok)})


@probe("probes.jwt.psychic_signature", "ECDSA r = s = 0 (psychic signature) is refused", "OWASP-API2:2023",
       "CWE-347", _AUTH, "critical")
def psychic(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """An ES256 token with an all-zero signature is accepted (CVE-2022-21449)."""
    tok = _token(ctx)
    if tok is None:
        return [result(p, "skipped", {"reason": "no token"})]
    return _try_tokens(ctx, p, {"es256_r0_s0": forge.psychic_es256(tok)})


@probe("probes.jwt.weak_secret", "HMAC tokens are not signed with a guessable secret", "OWASP-API2:2023", "CWE-798",
       _AUTH, "critical")
def weak_secret(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The HMAC secret of a captured token is in a dictionary (offline, no request sent): anyone can sign."""
    tok = _token(ctx)
    if tok is None:
        return [result(p, "skipped", {"reason": "no token"})]
    alg = forge.split(tok)[0].get("alg")
    if not str(alg).startswith("HS"):
        return [result(p, "pass", {"alg": alg, "note": "asymmetric signature: no shared secret to guess"},
                       observed={"tokens_examined": 1}, minimum={"tokens_examined": 1})]
    t0 = time.monotonic()
    secret = forge.crack_hs(tok)
    ev = {"alg": alg, "seconds": round(time.monotonic() - t0, 2), "dictionary": len(forge.COMMON_SECRETS)}
    if secret is None:
        return [result(p, "pass", ev, observed={"candidates": len(forge.COMMON_SECRETS)}, minimum={"candidates": 1})]
    ctx.signing_key = secret.encode()  # the later lifetime/audience probes can now sign real attack tokens
    ev["secret"] = f"{secret[:1]}***{secret[-1:]} ({len(secret)} chars)"
    return [result(p, "fail", ev, observed={"tokens_examined": 1})]


# --- authorization --------------------------------------------------------------------------------------

@probe("probes.bola", "Identity A cannot read identity B's objects", "OWASP-API1:2023", "CWE-639", _AUTHZ, "critical")
def bola(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A reads B's vehicle, trips or account by putting B's id in the path or query (SiriusXM 2022)."""
    out = []
    owners = ctx.owners()
    if len(owners) < 2:
        return [result(p, "skipped", {"reason": "needs two owner identities with objects"})]
    for e in _reads(ctx, with_objects=True):
        tried = 0
        for a in owners:
            for b in owners:
                if a is b:
                    continue
                vals_b = _own_values(ctx, b.name, e)
                if vals_b is None:
                    continue
                tried += 1
                path = fill(e.path, vals_b)
                mine = ctx.client.request("GET", path, token=ctx.tokens[b.name])
                if mine.status != 200:
                    out.append(result(p, "error", {"reason": f"{b.name} cannot read its own object", **mine.evidence()},
                                      e.label))
                    break
                theirs = ctx.client.request("GET", path, token=ctx.tokens[a.name])
                leaked = accepted_as(theirs, mine)
                if leaked or (theirs.status is not None and 200 <= theirs.status < 300 and mine.status == 200):
                    out.append(result(p, "fail", {"as": a.name, "object_of": b.name, **theirs.evidence()}, e.label))
                    break
            else:
                continue
            break
        else:
            if tried:
                out.append(result(p, "pass", {"pairs": tried}, e.label, observed={"requests": 2 * tried}))
    return out


@probe("probes.bfla", "Lower roles cannot call privileged functions", "OWASP-API5:2023", "CWE-285", _AUTHZ, "critical")
def bfla(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """An owner (or dealer) token reaches an admin function (Kia dealer portal 2024)."""
    out = []
    for e in _reads(ctx):
        if not e.roles:
            continue
        lower = [i for i in ctx.profile.identities if i.role not in e.roles and i.name in ctx.tokens]
        if not lower:
            continue
        hits = []
        for i in lower:
            vals = _own_values(ctx, i.name, e) or {}
            ex = ctx.client.request("GET", fill(e.path, vals), token=ctx.tokens[i.name])
            if ex.status is not None and 200 <= ex.status < 300:
                hits.append({"as": i.name, "role": i.role, **ex.evidence()})
        out.append(result(p, "fail" if hits else "pass", {"allowed_roles": e.roles, "reached_by": hits}, e.label,
                          observed={"requests": len(lower)}))
    return out


@probe("probes.enum.sequential_ids", "Object ids are not guessable neighbours", "OWASP-API1:2023", "CWE-639",
       _AUTHZ, "high")
def sequential_ids(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """Numeric ids next to one's own reach other people's objects: the whole fleet can be enumerated."""
    out = []
    for e in _reads(ctx, with_objects=True):
        for ident in ctx.owners():
            vals = _own_values(ctx, ident.name, e)
            if vals is None or not all(v.isdigit() for v in vals.values()):
                continue
            own = {v for k in e.objects.values() for v in ident.owns.get(k, [])}
            hits, guesses = [], 0
            for delta in (1, 2, 3, -1, -2, 5, 10):
                guess = {k: str(int(v) + delta) for k, v in vals.items()}
                if set(guess.values()) & own:
                    continue
                guesses += 1
                ex = ctx.client.request("GET", fill(e.path, guess), token=ctx.tokens[ident.name])
                if ex.status is not None and 200 <= ex.status < 300:
                    hits.append(ex.evidence(200))
                    break
            out.append(result(p, "fail" if hits else "pass", {"as": ident.name, "reached": hits}, e.label,
                              observed={"requests": guesses}))
            break
    if not out:
        out.append(result(p, "not_assessed", {}, reason="no numeric object ids in the profile: nothing to enumerate",
                          observed={"requests": 0}))
    return out


def _values_of(doc: Any, key: str, pointer: str | None = None) -> list[Any]:
    """Every value of ``key`` in a JSON body: under the JSON pointer if the profile gives one, else anywhere
    in the nesting (APIs wrap the object: ``{"data": {"user": {...}}}``)."""
    if pointer:
        for part in [p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/") if p]:
            if isinstance(doc, dict) and part in doc:
                doc = doc[part]
            elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
                doc = doc[int(part)]
            else:
                return []
        return [doc[key]] if isinstance(doc, dict) and key in doc else []
    found: list[Any] = []
    stack = [doc]
    while stack:
        d = stack.pop()
        if isinstance(d, dict):
            if key in d:
                found.append(d[key])
            stack.extend(d.values())
        elif isinstance(d, list):
            stack.extend(d)
    return found


@probe("probes.mass_assignment", "Writes do not store fields the client must not set", "OWASP-API3:2023", "CWE-915",
       _AUTHZ, "critical")
def mass_assignment(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A write carrying ``role`` (or another protected field) is stored. Judged by the effect: the write's own
    answer echoing the value fails the check whatever a later read shows; the read-back (a JSON pointer or a
    search of the nested body) is the second witness. Writes: opt-in only; every write is listed in the
    results' ``changes`` and undone with the profile's ``revert`` body."""
    out = []
    for e in ctx.profile.endpoints:
        spec = e.mass_assignment
        if not spec:
            continue
        if not ctx.allow_unsafe:
            out.append(result(p, "skipped", {"reason": "write probe: run with --allow-unsafe on a test account"},
                              e.label))
            continue
        ident = ctx.owners()[0].name
        fields = dict(spec.get("fields", {}))
        read_path, pointer = spec.get("read", e.path), spec.get("pointer")
        ex = ctx.client.request(e.method, e.path, token=ctx.tokens[ident], json_body=fields)
        echoed = [k for k, v in fields.items() if ex.ok and v in _values_of(ex.json(), k, pointer)]
        read = ctx.client.request("GET", read_path, token=ctx.tokens[ident])
        after = {k: _values_of(read.json(), k, pointer) for k in fields}
        stored = sorted(set(echoed) | {k for k, v in fields.items() if v in after[k]})
        change = {"check": p.id, "as": ident, "request": f"{e.method} {e.path}", "fields": sorted(fields),
                  "accepted": ex.ok, "stored": stored, "reverted": None}
        if ex.ok and spec.get("revert"):
            undo = ctx.client.request(e.method, e.path, token=ctx.tokens[ident], json_body=dict(spec["revert"]))
            change["reverted"] = undo.ok
        ctx.changes.append(change)
        ev = {"sent": sorted(fields), "stored": stored, "echoed_by_write": echoed,
              "read_back": {k: v[:3] for k, v in after.items()}, "write": ex.evidence(), "read": read.evidence()}
        if stored:
            status, why = "fail", ""
        elif not ex.ok:
            status, why = "pass", ""  # the write was refused
        elif all(after[k] for k in fields):
            status, why = "pass", ""  # the read-back shows every field, none with the value sent
        else:
            status, why = "needs_review", ("the write was accepted and the protected field is visible neither in its "
                                           "answer nor in the read-back: declare mass_assignment.pointer or a read "
                                           "endpoint that shows it")
        out.append(result(p, status, ev, e.label, observed={"requests": 2}, reason=why))
    return out


# --- data exposure --------------------------------------------------------------------------------------

@probe("probes.exposure", "Responses carry no personal data beyond what the function needs", "OWASP-API3:2023",
       "CWE-213", ("CN-ADR-6", "GBT44464-5.5"), "high")
def exposure(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The body holds personal or sensitive data (valid VINs, resident ids, phones, plates, precise
    coordinates, or keys the core classifier calls personal) of a category the endpoint does not declare."""
    out = []
    for e in _reads(ctx):
        owner = _owner_of(ctx, e)
        if owner is None:
            continue
        if e.roles and ctx.identity(owner).role not in e.roles:
            owner = next((i.name for i in ctx.profile.identities if i.role in e.roles and i.name in ctx.tokens), None)
            if owner is None:
                continue
        ex = ctx.client.request("GET", fill(e.path, _own_values(ctx, owner, e) or {}), token=ctx.tokens[owner])
        if ex.status != 200:
            continue
        found = findings(ex.json(), e.path)
        extra = [f for f in found if f["category"] not in e.expects]
        sev = "high" if any(f["sensitive"] for f in extra) else "medium"
        out.append(result(p, "fail" if extra else "pass", {"unexpected": extra[:20], "declared": e.expects,
                                                          "found": len(found)}, e.label, severity=sev,
                          observed={"requests": 1}))
    return out


# --- transport, configuration, limits -------------------------------------------------------------------

@probe("probes.transport.plain_http", "The API is not served over plain HTTP", "OWASP-API8:2023", "CWE-319",
       ("GBT44464-5.6", "R155-A5"), "high")
def plain_http(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """Data travels unencrypted: the base URL is http://, or the same API answers on the plain-HTTP port."""
    url = ctx.profile.base_url
    if url.startswith("http://"):
        return [result(p, "fail", {"base_url": url, "note": "the profile's base URL is plain HTTP"})]
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
    ex = ctx.client.request("GET", "/", any_path=True)
    bad = ex.status is None and ("SSL" in ex.error or "certificate" in ex.error.lower())
    return [result(p, "fail" if bad else "pass", ex.evidence())]


@probe("probes.transport.hsts", "HTTPS responses carry Strict-Transport-Security", "OWASP-API8:2023", "CWE-319",
       ("GBT44464-5.6",), "low")
def hsts(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """Without HSTS a client can be downgraded to plain HTTP."""
    if not ctx.profile.base_url.startswith("https://"):
        return [result(p, "skipped", {"reason": "not HTTPS"})]
    e = ctx.reference_endpoint()
    ident = next(iter(ctx.tokens), None)
    ex = ctx.client.request("GET", e.path if e else "/", token=ctx.tokens.get(ident or ""))
    has = any(k.lower() == "strict-transport-security" for k in ex.headers)
    return [result(p, "pass" if has else "fail", {"headers": sorted(ex.headers)[:30]},
                   observed={"requests": int(ex.status is not None)})]


@probe("probes.config.cors", "CORS does not allow credentials from any origin", "OWASP-API8:2023", "CWE-942",
       ("GBT44464-5.5",), "high")
def cors(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A foreign origin is reflected with credentials allowed: any web page can read the API as the user."""
    ref = ctx.reference_and_identity()
    if ref is None:
        return [result(p, "skipped", {"reason": "no reference endpoint"})]
    e, ident = ref
    origin = "https://probe-origin.invalid"
    ex = ctx.client.request("GET", e.path, token=ctx.tokens[ident], headers={"Origin": origin})
    h = {k.lower(): v for k, v in ex.headers.items()}
    allow = h.get("access-control-allow-origin")
    bad = allow in (origin, "*") and h.get("access-control-allow-credentials", "").lower() == "true"
    return [result(p, "fail" if bad else "pass", {"allow_origin": allow,
                                                  "allow_credentials": h.get("access-control-allow-credentials")},
                   observed={"requests": int(ex.status is not None)})]


@probe("probes.config.verbose_errors", "Errors do not leak stack traces", "OWASP-API8:2023", "CWE-209",
       ("R155-A5",), "medium")
def verbose_errors(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A malformed object id makes the server answer with a stack trace (internals for an attacker)."""
    markers = ("Traceback (most recent call last)", "Exception in thread", "at java.", "at org.", "SQLSTATE",
               "stack trace", 'File "/')
    out = []
    for e in _reads(ctx, with_objects=True):
        owner = _owner_of(ctx, e)
        if owner is None:
            continue
        bad_vals = {k: "x'%22<>" for k in e.objects}
        ex = ctx.client.request("GET", fill(e.path, bad_vals), token=ctx.tokens[owner])
        text = ex.body.decode("utf-8", "replace")
        leak = [m for m in markers if m in text]
        out.append(result(p, "fail" if leak else "pass", {"markers": leak, **ex.evidence(300)}, e.label))
        if leak:
            break
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
        ex = ctx.client.request("GET", e.path, token=ctx.tokens[ident], paced=False)
        statuses.append(ex.status)
        served += ex.ok
        if ex.status == 429:
            break
        if declared:
            allowed = cap + rate * (time.monotonic() - t0) + 1  # +1: the request in flight when the clock was read
            if served > allowed:
                break
    ev = {"burst": len(statuses), "served": served, "seconds": round(time.monotonic() - t0, 2),
          "statuses": sorted({s for s in statuses if s is not None})}
    if 429 in statuses:
        return [result(p, "pass", ev, e.label, observed={"requests": len(statuses)})]
    if not declared:
        return [result(p, "fail", ev, e.label, observed={"requests": len(statuses)})]
    ev.update({"declared": {"per_s": rate, "burst": cap}, "most_a_limiter_allows": round(allowed, 1)})
    if served > allowed:
        return [result(p, "fail", ev, e.label, observed={"requests": len(statuses)})]
    return [result(p, "not_assessed", ev, e.label, observed={"requests": len(statuses)},
                   reason="the burst never outpaced the declared limit within the request budget")]


def run_probe(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    ctx.client.check_id = p.id
    try:
        return p.fn(ctx, p)
    except SafetyError as exc:
        return [result(p, "skipped", {"reason": f"not sent: {exc}"})]
    except BudgetExhausted:
        raise
    except Exception as exc:  # a probe bug must not hide the other findings
        return [result(p, "error", {"error": mask(f"{type(exc).__name__}: {exc}")})]


__all__ = ["REGISTRY", "Exchange", "Probe", "run_probe"]
