"""Authorization: object- and function-level access, enumeration, mass assignment."""

from __future__ import annotations

from typing import Any

from ..context import Context, accepted_as, fill
from ..profile import Endpoint
from .registry import _AUTHZ, Probe, _own_values, _reads, per_endpoint, probe, result


def _bola_pair(ctx: Context, p: Probe, e: Endpoint, a: str, b: str, via: str, label: str) -> dict[str, Any] | None:
    """A tries B's object with A's own credentials (by one method); None when B's object is not in the profile."""
    vals_b = _own_values(ctx, b, e)
    if vals_b is None:
        return None
    path = fill(e.path, vals_b)
    mine = ctx.client.request("GET", path, **ctx.auth(b, via))
    if mine.status != 200:
        return result(p, "error", {"reason": f"{b} cannot read its own object", **mine.evidence()}, label)
    theirs = ctx.client.request("GET", path, **ctx.auth(a, via))
    if accepted_as(theirs, mine) or theirs.ok:
        return result(p, "fail", {"as": a, "object_of": b, "credentials": via, **theirs.evidence()}, label)
    return {}


@probe("probes.bola", "Identity A cannot read identity B's objects", "OWASP-API1:2023", "CWE-639", _AUTHZ, "critical")
def bola(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A reads B's vehicle, trips or account by putting B's id in the path or query (SiriusXM 2022). Run once per
    authentication method the target accepts (token, session cookie), each request carrying only that one."""
    owners = [o.name for o in ctx.owners()]
    if len(owners) < 2:
        return [result(p, "skipped", {"reason": "needs two owner identities with objects"})]

    def one(e: Endpoint) -> list[dict[str, Any]]:
        out = []
        for via in ctx.methods:
            label = e.label + (f" [{via}]" if len(ctx.methods) > 1 else "")
            tried = 0
            verdict = None
            # only identities that hold this kind of credential: an identity without a cookie session is never
            # sent as one (a request with no credentials would be judged as that identity's)
            holders = [o for o in owners if ctx.holds(o, via)]
            for a, b in ((a, b) for a in holders for b in holders if a != b):
                verdict = _bola_pair(ctx, p, e, a, b, via, label)
                if verdict is None:
                    continue
                tried += 1
                if verdict:  # a failure or a broken oracle ends this endpoint
                    out.append(verdict)
                    break
            else:
                if tried:
                    out.append(result(p, "pass", {"pairs": tried, "credentials": via}, label,
                                      observed={"requests": 2 * tried}))
        return out

    return per_endpoint(p, (e for e in _reads(ctx, with_objects=True) if e.auth), one)


@probe("probes.bfla", "Lower roles cannot call privileged functions", "OWASP-API5:2023", "CWE-285", _AUTHZ, "critical")
def bfla(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """An owner (or dealer) token reaches an admin function (Kia dealer portal 2024)."""

    def one(e: Endpoint) -> list[dict[str, Any]]:
        lower = [i for i in ctx.profile.identities if i.role not in (e.roles or []) and ctx.has_credentials(i.name)]
        if not lower:
            return []
        hits = []
        for i in lower:
            ex = ctx.client.request("GET", fill(e.path, _own_values(ctx, i.name, e) or {}), **ctx.auth(i.name))
            if ex.ok:
                hits.append({"as": i.name, "role": i.role, **ex.evidence()})
        return [result(p, "fail" if hits else "pass", {"allowed_roles": e.roles, "reached_by": hits}, e.label,
                       observed={"requests": len(lower)})]

    return per_endpoint(p, (e for e in _reads(ctx) if e.roles and e.auth), one)


@probe("probes.enum.sequential_ids", "Object ids are not guessable neighbours", "OWASP-API1:2023", "CWE-639",
       _AUTHZ, "high")
def sequential_ids(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """Numeric ids next to one's own reach other people's objects: the whole fleet can be enumerated."""

    def one(e: Endpoint) -> list[dict[str, Any]]:
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
                ex = ctx.client.request("GET", fill(e.path, guess), **ctx.auth(ident.name))
                if ex.ok:
                    hits.append(ex.evidence(200))
                    break
            return [result(p, "fail" if hits else "pass", {"as": ident.name, "reached": hits}, e.label,
                           observed={"requests": guesses})]
        return []

    out = per_endpoint(p, (e for e in _reads(ctx, with_objects=True) if e.auth), one)
    return out or [result(p, "not_assessed", {}, reason="no numeric object ids in the profile: nothing to enumerate",
                          observed={"requests": 0})]
