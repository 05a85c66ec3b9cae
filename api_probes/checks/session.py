"""Sessions end when the user ends them: a token or session cookie used after logout is refused.

    [logout]
    path = "/api/v1/logout"     # the request that ends the session it carries
    method = "POST"

The probe logs in a fresh session of its own for this (the identity's run session is never logged out)."""

from __future__ import annotations

import time
from typing import Any

from ..context import Context, accepted_as, accepts_anything
from ..login import login
from .registry import _AUTH, Probe, needs_unsafe, probe, result


@probe("probes.auth.logout", "Credentials are refused after logout", "OWASP-API2:2023", "CWE-613", _AUTH, "high")
@needs_unsafe
def logout(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A fresh session is logged out through the profile's ``[logout]`` request, then used again on the
    reference endpoint: a token (or cookie) that still gets what it got before logout keeps working for
    whoever stole it (stateless JWTs with no revocation). Judged by content against the answer the same
    session got before logout; an endpoint that answers without credentials is not judged."""
    spec = ctx.profile.logout
    e = ctx.reference_endpoint()
    who = next((i for i in ctx.profile.identities if i.username and i.password), None)
    if not spec or not spec.get("path") or e is None or who is None:
        return [result(p, "skipped", {"reason": "no [logout] request, reference endpoint or identity with a password"})]
    session = login(ctx.client, ctx.profile, who.username or "", who.password or "")
    if session.ok and session.token and session.token == ctx.tokens.get(who.name):
        time.sleep(1.1)  # a deterministic token (same claims, same second): the next second's differs
        session = login(ctx.client, ctx.profile, who.username or "", who.password or "")
        if session.token == ctx.tokens.get(who.name):
            return [result(p, "not_assessed", {}, e.label, reason="the login hands out the run's own token again: "
                           "logging it out would end the run's session")]
    if not session.ok:
        return [result(p, "error", {"login": session.exchange.evidence() if session.exchange else {}}, e.label,
                       reason="could not log a fresh session in to log out")]
    if who.name in ctx.tokens and accepts_anything(ctx, who.name, e.path):
        return [result(p, "not_assessed", {}, e.label,
                       reason=f"{e.path} answers without valid credentials: a logout proves nothing there")]
    creds = {"token": session.token, "cookies": session.cookies or None}
    before = ctx.client.request("GET", e.path, **creds)
    out = ctx.client.request(str(spec.get("method", "POST")), str(spec["path"]), **creds)
    after = {via: ctx.client.request("GET", e.path, **{k: v for k, v in creds.items() if k == via})
             for via in ("token", "cookies") if creds[via]}
    kept = sorted(via.rstrip("s") for via, ex in after.items() if accepted_as(ex, before))
    ev = {"as": who.name, "before": before.evidence(), "logout": out.evidence(),
          "after": {via.rstrip("s"): ex.evidence() for via, ex in after.items()}, "still_accepted": kept}
    n = {"requests": 2 + len(after)}
    if not before.ok:
        return [result(p, "error", ev, e.label, observed=n, reason="the fresh session was refused before logout")]
    if not out.ok:
        return [result(p, "error", ev, e.label, observed=n, reason=f"the logout request was refused ({out.status})")]
    return [result(p, "fail" if kept else "pass", ev, e.label, observed=n)]
