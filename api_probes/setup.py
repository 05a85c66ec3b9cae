"""Setup steps of a profile (``[[setup]]``), run after login and before the probes: create the objects the
probes need and capture their ids into an identity's ``owns``, or register an account and log in as a new
identity. Writes obey the same opt-in as every write (--allow-unsafe and safety.allow_unsafe); each step's
outcome is recorded in the results (``setup``) and every object it creates in ``changes``.

    [[setup]]
    method = "POST"
    path = "/api/v1/notes"
    as = "owner_a"                      # whose credentials (omit: none)
    body = {text = "probe fixture"}
    capture = {note = "/id"}            # owns["note"] of owner_a += the value at this JSON pointer

    [[setup]]
    method = "POST"
    path = "/api/v1/register"
    body = {username = "probe-c-{rand}", password = "Pw-{rand}-x"}
    creates_identity = {name = "owner_c", role = "owner"}   # logs in with the body's username and password
"""

from __future__ import annotations

import secrets
from typing import Any

from .client import SafetyError
from .context import Context, fill_tag, resolve_pointer
from .login import login
from .profile import Identity


def run_setup(ctx: Context) -> list[dict[str, Any]]:
    out = []
    for n, step in enumerate(ctx.profile.setup, 1):
        tag = secrets.token_hex(4)
        who = step.get("as")
        body = fill_tag(step.get("body", {}), tag)
        creds = ctx.auth(who) if who else {}
        try:
            ex = ctx.client.request(str(step.get("method", "POST")), str(step["path"]), **creds, json_body=body)
        except SafetyError as exc:
            out.append({"step": n, "path": step["path"], "ok": False, "reason": f"not sent: {exc}"})
            continue
        record: dict[str, Any] = {"step": n, "request": f"{step.get('method', 'POST')} {step['path']}", "as": who,
                                  "status": ex.status, "ok": ex.ok}
        if ex.ok:
            captured = {kind: resolve_pointer(ex.json(), ptr) for kind, ptr in (step.get("capture") or {}).items()}
            if who and captured:
                owns = ctx.identity(who).owns
                for kind, value in captured.items():
                    if value is not None:
                        owns.setdefault(kind, []).insert(0, str(value))
            record["captured"] = sorted(k for k, v in captured.items() if v is not None)
            new = step.get("creates_identity")
            if new:
                user, pw = str(body.get(new.get("username_field", "username"), "")), str(
                    body.get(new.get("password_field", "password"), ""))
                session = login(ctx.client, ctx.profile, user, pw)
                if session.ok:
                    ctx.profile.identities.append(Identity(name=str(new["name"]), role=str(new.get("role", "owner")),
                                                           username=user, password=pw))
                    if session.token:
                        ctx.tokens[str(new["name"])] = session.token
                    if session.cookies:
                        ctx.cookies[str(new["name"])] = session.cookies
                record["identity"] = {"name": new["name"], "logged_in": session.ok}
            ctx.changes.append({"check": "setup", "as": who, "request": record["request"], "accepted": True,
                                "reverted": None})
        out.append(record)
    return out
