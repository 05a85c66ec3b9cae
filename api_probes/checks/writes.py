"""Write probes (opt-in: --allow-unsafe and safety.allow_unsafe): mass assignment, including through
registration; another user's object changed or deleted; another user's password or e-mail changed.

Each is judged by its effect, never by a status code alone, and every object, account or field a probe
creates or changes is listed in the results' ``changes`` and undone where the profile says how."""

from __future__ import annotations

import re
import secrets
from typing import Any

from ..client import SafetyError
from ..context import Context, fill, fill_tag, resolve_pointer
from ..login import login
from ..profile import Endpoint
from .registry import _AUTHZ, Probe, needs_unsafe, per_endpoint, probe, result

PRIVILEGE_FIELDS = re.compile(r"role|admin|staff|superuser|permission|privilege|scope|group|is_?root|level|tier", re.I)


def values_of(doc: Any, key: str, pointer: str | None = None) -> list[Any]:
    """Every value of ``key`` in a JSON body: under the JSON pointer if the profile gives one, else anywhere
    in the nesting (APIs wrap the object: ``{"data": {"user": {...}}}``)."""
    if pointer:
        obj = resolve_pointer(doc, pointer)
        return [obj[key]] if isinstance(obj, dict) and key in obj else []
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


def undo(change: dict[str, Any], attempt: Any) -> None:
    """Try to undo a recorded change: ``attempt()`` sends the undo and returns whether a read-back shows it
    undone. A refused or failed undo never changes the verdict: the change stays listed as left changed."""
    try:
        change["reverted"] = bool(attempt())
    except SafetyError as exc:
        change["reverted"] = False
        change["undo_refused"] = str(exc)
    if change["reverted"] is False:
        change["left_changed"] = True


def _judge(stored: list[str], accepted: bool, visible: bool) -> tuple[str, str]:
    if stored:
        return "fail", ""
    if not accepted:
        return "pass", ""  # the write was refused
    if visible:
        return "pass", ""  # the read-back shows every field, none with the value sent
    return "needs_review", ("the write was accepted and the protected field is visible neither in its answer nor in "
                            "the read-back: declare mass_assignment.pointer or a read endpoint that shows it")


@probe("probes.mass_assignment", "Writes do not store fields the client must not set", "OWASP-API3:2023", "CWE-915",
       _AUTHZ, "critical")
@needs_unsafe
def mass_assignment(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A write carrying ``role`` (or another protected field) is stored. Judged by the effect: the write's own
    answer echoing the value fails the check whatever a later read shows; the read-back (a JSON pointer or a
    search of the nested body) is the second witness. With ``register = true`` the write is a registration:
    the probe then logs in as the new account and reads it back. A stored privilege field (role, admin,
    scope, …) is a privilege escalation and reported under API5."""

    def one(e: Endpoint) -> list[dict[str, Any]]:
        spec = e.mass_assignment or {}
        tag = secrets.token_hex(4)
        fields = dict(spec.get("fields", {}))
        body = {**fill_tag(dict(spec.get("body", {})), tag), **fields}
        read_path, pointer = spec.get("read", e.path), spec.get("pointer")
        ids: dict[str, str] = {}
        if spec.get("register"):
            ex = ctx.client.request(e.method, e.path, json_body=body)  # a registration carries no credentials
            user, pw = str(body.get(spec.get("username_field", "username"), "")), str(
                body.get(spec.get("password_field", "password"), ""))
            session = login(ctx.client, ctx.profile, user, pw) if ex.ok else None
            creds = {"token": session.token, "cookies": session.cookies or None} if session and session.ok else None
            who = f"new account {user}"
        else:
            who = ctx.owners()[0].name
            creds = ctx.auth(who)
            # path ids (/cards/{card_id}/limits) from the identity's objects, setup captures included
            owns = ctx.identity(who).owns
            ids = {param: owns.get(kind, [""])[0] for param, kind in e.objects.items()}
            read_path = fill(read_path, ids)
            ex = ctx.client.request(e.method, fill(e.path, ids), **creds, json_body=body)
        echoed = [k for k, v in fields.items() if ex.ok and v in values_of(ex.json(), k, pointer)]
        read = ctx.client.request("GET", read_path, **creds) if creds else None
        after = {k: values_of(read.json(), k, pointer) if read else [] for k in fields}
        stored = sorted(set(echoed) | {k for k, v in fields.items() if v in after[k]})
        change = {"check": p.id, "as": who, "request": f"{e.method} {e.path}", "fields": sorted(fields),
                  "accepted": ex.ok, "stored": stored, "reverted": None,
                  **({"created_account": who} if spec.get("register") and ex.ok else {})}
        ctx.changes.append(change)  # recorded before any undo is tried: a refused undo still leaves it listed
        if ex.ok and spec.get("revert") and creds:
            revert = spec["revert"]

            def send_and_verify() -> bool:
                done = ctx.client.request(revert.get("method", e.method), fill(revert.get("path", e.path), ids), **creds,
                                          json_body=dict(revert.get("body", revert)))
                again = ctx.client.request("GET", read_path, **creds)  # undone only when the read-back says so
                return done.ok and again.ok and not any(v in values_of(again.json(), k, pointer)
                                                        for k, v in fields.items() if k in stored)

            undo(change, send_and_verify)
        elif stored or change.get("created_account"):
            change["left_changed"] = True  # a stored field, or an account the registration made, stays
        ev = {"sent": sorted(fields), "stored": stored, "echoed_by_write": echoed,
              "read_back": {k: v[:3] for k, v in after.items()}, "write": ex.evidence(),
              **({"read": read.evidence()} if read else {})}
        status, why = _judge(stored, ex.ok, all(after[k] for k in fields))
        escalation = [k for k in stored if PRIVILEGE_FIELDS.search(k)]
        if escalation:
            ev["privilege_escalation"] = escalation
        return [result(p, status, ev, e.label, observed={"requests": 2}, reason=why,
                       **({"owasp": "OWASP-API5:2023", "cwe": "CWE-269"} if escalation else {}))]

    return per_endpoint(p, (e for e in ctx.profile.endpoints if e.mass_assignment), one)


def _write_to_fresh_object(ctx: Context, p: Probe, e: Endpoint, owner: str, actor: str) -> list[dict[str, Any]]:
    """``owner`` creates an object (``cross_user.create``), ``actor`` changes or deletes it with its own
    credentials, ``owner`` reads it back: a changed field or a vanished object is the effect. The object is
    deleted afterwards and every step is listed in ``changes``."""
    spec = e.cross_user or {}
    create = spec.get("create", {})
    body_id = spec.get("id_in_body")  # the object id travels in the body (PUT /notes {"id": ...}), not the path
    param = next(iter(e.objects), None) or (str(body_id) if body_id else None)
    made = ctx.client.request(create.get("method", "POST"), create["path"], **ctx.auth(owner),
                              json_body=create.get("body", {}))
    ids = values_of(made.json(), create.get("id_field", "id"), create.get("id_pointer"))
    if not made.ok or not ids or param is None:
        return [result(p, "error", {"create": made.evidence()}, e.label,
                       reason=f"could not create {owner}'s object to test with (cross_user.create)")]
    oid = str(ids[0])
    path = fill(e.path, {param: oid})
    read_path = fill(spec.get("read", e.path), {param: oid})
    list_path = spec.get("list")  # the owner's list of such objects: a deletion is judged by it too
    before = ctx.client.request("GET", read_path, **ctx.auth(owner))
    body = spec.get("body", {})
    sent = {**body, body_id: ids[0]} if body_id else body
    attempt = ctx.client.request(e.method, path, **ctx.auth(actor), json_body=sent if e.method != "DELETE" or body_id
                                 else None)
    after = ctx.client.request("GET", read_path, **ctx.auth(owner))
    if e.method == "DELETE":
        # gone for its owner: its read answers 404/410, or it left the owner's list (a soft delete answers 200)
        listed = ctx.client.request("GET", list_path, **ctx.auth(owner)) if list_path else None
        off_list = bool(listed and listed.ok and ids[0] not in values_of(listed.json(), create.get("id_field", "id")))
        effect = before.ok and (after.status in (404, 410) or off_list)
    else:  # a value the actor sent that the owner's read shows now and did not show before
        effect = after.ok and any(v in values_of(after.json(), k) and not (before.ok and v in values_of(before.json(), k))
                                  for k, v in body.items())
    change = {"check": p.id, "as": actor, "request": f"{e.method} {e.path}", "object_of": owner,
              "created": f"{create['path']} -> {oid}", "accepted": attempt.ok, "changed": effect, "reverted": None}
    ctx.changes.append(change)
    if spec.get("cleanup", True):
        if e.method == "DELETE" and effect:
            change["reverted"] = True  # the object the probe created is gone: nothing is left
        else:
            def delete_and_verify() -> bool:  # gone: its read answers 404/410, or it left the owner's list
                ctx.client.request("DELETE", fill(spec.get("delete", e.path), {param: oid}), **ctx.auth(owner))
                if list_path:
                    now = ctx.client.request("GET", list_path, **ctx.auth(owner))
                    return now.ok and ids[0] not in values_of(now.json(), create.get("id_field", "id"))
                return ctx.client.request("GET", read_path, **ctx.auth(owner)).status in (404, 410)

            undo(change, delete_and_verify)
    else:
        change["left_changed"] = True
    ev = {"as": actor, "object_of": owner, "attempt": attempt.evidence(), "read_back": after.evidence()}
    if effect:
        return [result(p, "fail", ev, e.label, observed={"requests": 3})]
    if attempt.ok:
        return [result(p, "needs_review", ev, e.label, observed={"requests": 3},
                       reason=f"{actor}'s write was accepted but {owner}'s read-back shows no change: declare "
                              "cross_user.read")]
    return [result(p, "pass", ev, e.label, observed={"requests": 3})]


@probe("probes.bola.write", "Identity B cannot change or delete identity A's objects", "OWASP-API1:2023", "CWE-639",
       _AUTHZ, "critical")
@needs_unsafe
def cross_user_write(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """B changes (PUT/PATCH) or deletes A's object with B's own credentials. The object is one the probe
    creates for A first (``cross_user.create``), so no real data is touched; A then reads it back: a changed
    field or a vanished object fails the check, whatever status B got. A deletes it afterwards."""
    owners = [o.name for o in ctx.owners()]
    if len(owners) < 2:
        return [result(p, "skipped", {"reason": "needs two owner identities"})]
    return per_endpoint(p, (e for e in ctx.profile.endpoints if e.cross_user and not e.roles),
                        lambda e: _write_to_fresh_object(ctx, p, e, owners[0], owners[1]))


@probe("probes.bfla.write", "Lower roles cannot change or delete through privileged functions", "OWASP-API5:2023",
       "CWE-285", _AUTHZ, "critical")
@needs_unsafe
def privileged_write(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """A customer changes or deletes through a function reserved to staff (``roles``): an object a privileged
    identity creates first is changed or removed by the lower role (a customer deleting menu items)."""

    def one(e: Endpoint) -> list[dict[str, Any]]:
        allowed = next((i.name for i in ctx.profile.identities if i.role in (e.roles or [])
                        and ctx.has_credentials(i.name)), None)
        lower = next((i.name for i in ctx.owners() if i.role not in (e.roles or [])), None)
        if allowed is None or lower is None:
            return [result(p, "skipped", {"reason": f"needs an identity of {e.roles} and a lower one"}, e.label)]
        return _write_to_fresh_object(ctx, p, e, allowed, lower)

    return per_endpoint(p, (e for e in ctx.profile.endpoints if e.cross_user and e.roles), one)


def _own_password_changed(ctx: Context, b: Any, method: str, path: str) -> bool:
    """Whether B's accepted write changed B's own password (B's profile password no longer logs in). If so the
    change is recorded and B's password restored through the same request and verified: a probe never
    leaves an identity it logs in with changed."""
    if not (b.username and b.password) or login(ctx.client, ctx.profile, b.username, b.password).ok:
        return False
    change = {"check": "probes.bola.account_takeover", "as": b.name, "request": f"{method} {path}",
              "account_of": b.name, "fields": ["password"], "accepted": True, "changed": True, "reverted": None}
    ctx.changes.append(change)
    undo(change, lambda: ctx.client.request(method, path, **ctx.auth(b.name), json_body={"password": b.password}).ok
         and login(ctx.client, ctx.profile, b.username, b.password).ok)
    return True


@probe("probes.bola.account_takeover", "Identity B cannot change identity A's password or e-mail",
       "OWASP-API1:2023", "CWE-620", _AUTHZ, "critical")
@needs_unsafe
def account_takeover(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """B sets A's e-mail (or password) through an account endpoint with A's user id: the account is B's from
    then on. For an e-mail the effect is read back as A; for a password, A logging in with the new one is the
    effect. A's original e-mail is restored afterwards (or the profile's ``revert`` body is sent).
    ``account_change.id_in_body`` maps body fields to kinds of A's ``owns`` (``{username = "username"}``) for
    APIs that take the account from the body (PUT /profile {"username": A, "phone_number": ...})."""
    owners = [o for o in ctx.owners()]
    if len(owners) < 2:
        return [result(p, "skipped", {"reason": "needs two owner identities"})]
    a, b = owners[0], owners[1]

    def one(e: Endpoint) -> list[dict[str, Any]]:
        spec = e.account_change or {}
        field = str(spec.get("field", "email"))
        value = fill_tag(str(spec.get("value", "probe-{rand}@example.invalid" if field == "email" else "Probe-{rand}-pw")),
                         secrets.token_hex(4))
        vals = {param: a.owns.get(kind, [""])[0] for param, kind in e.objects.items()}
        path = fill(e.path, vals)
        read_path = spec.get("read", "")
        before = ctx.client.request("GET", read_path, **ctx.auth(a.name)) if read_path else None
        original = (values_of(before.json(), field) or [None])[0] if before and before.ok else None
        # the account may be named in the body instead of the path (PUT /profile {"username": A, ...})
        named = {k: a.owns.get(kind, [""])[0] for k, kind in (spec.get("id_in_body") or {}).items()}
        attempt = ctx.client.request(e.method, path, **ctx.auth(b.name), json_body={**named, field: value})
        if field == "password":
            effect = bool(a.username) and login(ctx.client, ctx.profile, a.username or "", value).ok
            # the old password no longer working is a change too, whether or not the new one logs in
            lost = attempt.ok and bool(a.username and a.password) and \
                not login(ctx.client, ctx.profile, a.username or "", a.password or "").ok
        else:
            after = ctx.client.request("GET", read_path, **ctx.auth(a.name)) if read_path else None
            effect, lost = bool(after and after.ok and value in values_of(after.json(), field)), False
        change = {"check": p.id, "as": b.name, "request": f"{e.method} {e.path}", "account_of": a.name,
                  "fields": [field], "accepted": attempt.ok, "changed": effect or lost, "reverted": None}
        ctx.changes.append(change)
        if effect or lost:
            # an identity's own credentials are always restored: its password from the profile
            back = spec.get("revert") or ({field: a.password} if field == "password" and a.password else
                                          {field: original} if original is not None else None)

            def restore_and_verify() -> bool:
                if back is None:
                    return False
                # through the request that made the change (B's write is proven to work here)
                done = ctx.client.request(e.method, path, **ctx.auth(b.name), json_body={**named, **back})
                if field == "password":
                    return done.ok and login(ctx.client, ctx.profile, a.username or "", str(back[field])).ok
                now = ctx.client.request("GET", read_path, **ctx.auth(a.name)) if read_path else None
                return done.ok and bool(now and now.ok and original in values_of(now.json(), field))

            undo(change, restore_and_verify)
        ev = {"as": b.name, "account_of": a.name, "field": field, "attempt": attempt.evidence()}
        if effect or lost:
            return [result(p, "fail", ev, e.label, observed={"requests": 2})]
        if attempt.ok and field == "password" and _own_password_changed(ctx, b, e.method, path):
            # the platform applied B's write to B's own account (it ignores the id in the path): A is safe
            ev["applied_to_caller"] = True
            return [result(p, "pass", ev, e.label, observed={"requests": 3})]
        if attempt.ok:
            return [result(p, "needs_review", ev, e.label, observed={"requests": 2},
                           reason="B's change was accepted but its effect could not be seen (declare account_change.read)")]
        return [result(p, "pass", ev, e.label, observed={"requests": 2})]

    return per_endpoint(p, (e for e in ctx.profile.endpoints if e.account_change), one)
