"""Password-reset probes (opt-in writes: a reset request makes the platform issue a code to the account's
owner). Declared in the profile's ``[reset]`` table:

    [reset]
    path = "/api/v1/password-reset"                       # asks for a code
    body = {username = "{username}"}
    confirm = {path = "/api/v1/password-reset/confirm",   # spends it
               body = {username = "{username}", code = "{code}", new_password = "{password}"}}
    code = "\\d{6}"          # the code's format as the tester saw it delivered (SMS, e-mail)
    identity = "owner_a"     # whose reset the probes ask for (default: the first with a username)

Every confirmation a probe sends sets the account's password to the one it already has, so even an accepted
guess changes nothing; the identity logs in with its own password afterwards or the run says it was left
changed."""

from __future__ import annotations

import math
import re
import secrets
from typing import Any

from ..client import Exchange
from ..context import Context
from ..login import login
from ..profile import Identity
from .auth import stable
from .registry import _AUTH, Probe, needs_unsafe, probe, result

# ASVS 4.0.3 V2.7.6: an out-of-band code carries at least 20 bits of entropy ("typically a six digit random
# number"); NIST SP 800-63B §5.2.2 limits failed attempts. Below 20 bits, no throttling is a takeover.
MIN_CODE_BITS = 19.9  # 20 bits "typically a six digit random number" (log2 10^6 = 19.93): six digits pass
GUESSES = 20  # wrong codes sent per run: enough to see a lockout at 3, 5 or 10 attempts, far from a brute force
SECRET_KEYS = re.compile(r"(^|_|-)(code|token|pin|otp|secret|nonce|key)$|^(code|token|pin|otp)", re.I)
_CLASS = r"(?:\\d|\\w|\[[^\]]+\])"  # \d, \w or a bracket class


def code_space(pattern: str) -> tuple[float, list[str]] | None:
    """The entropy in bits of a code format made only of character classes with counts (``\\d{4}``,
    ``[A-Z0-9]{8}``, ``\\d\\d``) and one alphabet per position for generating such codes; None for any other
    pattern (the probe then reports rather than judges guessability)."""
    if re.fullmatch(rf"(?:{_CLASS}(?:\{{\d+\}})?)+", pattern) is None:
        return None
    bits, alphabets = 0.0, []
    for cls, count in re.findall(rf"({_CLASS})(?:\{{(\d+)\}})?", pattern):
        alphabet = _alphabet(cls)
        n = int(count or 1)
        bits += n * math.log2(len(alphabet))
        alphabets += [alphabet] * n
    return bits, alphabets


def _alphabet(cls: str) -> str:
    if cls == r"\d":
        return "0123456789"
    if cls == r"\w":
        return "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
    body = cls[1:-1]
    chars = ""
    for a, b, single in re.findall(r"(.)-(.)|(.)", body):
        chars += "".join(chr(c) for c in range(ord(a), ord(b) + 1)) if a else single
    return "".join(dict.fromkeys(chars))


def _spec(ctx: Context) -> dict[str, Any] | None:
    return ctx.profile.reset if ctx.profile.reset and ctx.profile.reset.get("path") else None


def _who(ctx: Context, spec: dict[str, Any]) -> Identity | None:
    named = spec.get("identity")
    return next((i for i in ctx.profile.identities if i.username and (named is None or i.name == named)), None)


def _fill(template: Any, **values: str) -> Any:
    if isinstance(template, dict):
        return {k: _fill(v, **values) for k, v in template.items()}
    text = str(template)
    for k, v in values.items():
        text = text.replace("{" + k + "}", v)
    return text


def _ask(ctx: Context, spec: dict[str, Any], username: str) -> Exchange:
    return ctx.client.request(str(spec.get("method", "POST")), str(spec["path"]),
                              json_body=_fill(spec.get("body", {"username": "{username}"}), username=username))


def _confirm(ctx: Context, spec: dict[str, Any], who: Identity, code: str) -> Exchange:
    """Spend ``code`` for ``who``, setting the password ``who`` already has (an accepted code changes nothing)."""
    c = spec["confirm"]
    body = _fill(c.get("body", {}), username=who.username or "", code=code, password=who.password or "")
    return ctx.client.request(str(c.get("method", "POST")), str(c["path"]), json_body=body, retry=False)


def _issued(ctx: Context, p: Probe, who: Identity, ex: Exchange, spec: dict[str, Any]) -> None:
    if ex.ok:  # a pending code is state the probe caused: it expires on the platform's own schedule
        ctx.changes.append({"check": p.id, "request": f"{str(spec.get('method', 'POST')).upper()} {spec['path']}",
                            "account_of": who.name,
                            "fields": ["reset code"], "accepted": True, "changed": True, "reverted": None,
                            "left_changed": True, "note": "a password-reset code was issued (expires on its own)"})


@probe("probes.auth.reset_enumeration", "Password reset answers the same for an unknown user and a known one",
       "OWASP-API2:2023", "CWE-204", _AUTH, "medium")
@needs_unsafe
def reset_enumeration(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """The reset request answers a known account differently from an unknown one (status or body, compared
    without volatile fields and with the username itself blanked): anyone can test which accounts exist, and
    the reset flow is often unthrottled where the login is not."""
    spec = _spec(ctx)
    who = _who(ctx, spec) if spec else None
    if spec is None or who is None:
        return [result(p, "skipped", {"reason": "no [reset] flow or no identity with a username"})]
    answers = {}
    for label, user in (("known_user", who.username or ""), ("unknown_user", "probe-nobody-" + secrets.token_hex(6))):
        ex = _ask(ctx, spec, user)
        if label == "known_user":
            _issued(ctx, p, who, ex, spec)
        shown = str(ex.evidence(300)["response_excerpt"]).replace(user, "{username}")  # masked: a code it hands back
        answers[label] = {"status": ex.status, "body": shown, "_stable": stable(ex.text.replace(user, "{username}"))}
    a, b = answers["known_user"], answers["unknown_user"]
    differ = [k for k, key in (("status", "status"), ("body", "_stable")) if a[key] != b[key]]
    shown = {k: {f: v for f, v in x.items() if not f.startswith("_")} for k, x in answers.items()}
    return [result(p, "fail" if differ else "pass", {"differs_in": differ, "answers": shown}, str(spec["path"]),
                   observed={"requests": 2})]


def _returned_code(doc: Any, fmt: str | None) -> str | None:
    """A value in the reset answer under a key named like a secret (``reset_code``, ``token``, ``otp``) that
    has the declared code format (any non-trivial value when none is declared)."""
    stack = [doc]
    while stack:
        d = stack.pop()
        if isinstance(d, dict):
            for k, v in d.items():
                if isinstance(v, (dict, list)):
                    stack.append(v)
                elif SECRET_KEYS.search(str(k)) and isinstance(v, (str, int)) and not isinstance(v, bool):
                    s = str(v)
                    if (re.fullmatch(fmt, s) if fmt else len(s) >= 4):
                        return s
        elif isinstance(d, list):
            stack.extend(d)
    return None


@probe("probes.auth.reset_code", "A password-reset code is neither handed back, guessable nor usable for another "
       "account", "OWASP-API2:2023", "CWE-640", _AUTH, "critical")
@needs_unsafe
def reset_code(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """Takeover through the reset flow: the reset answer hands the code to whoever asked; a code issued for
    one account is accepted for another; or the code is short (under 20 bits, ASVS 4.0.3 V2.7.6) and
    20 wrong codes in a row meet no lockout, throttling or changed answer. Each confirmation sets the
    password the account already has; the identity must still log in afterwards."""
    spec = _spec(ctx)
    who = _who(ctx, spec) if spec else None
    if spec is None or who is None:
        return [result(p, "skipped", {"reason": "no [reset] flow or no identity with a username"})]
    if not spec.get("confirm") or not who.password:
        return [result(p, "not_assessed", {}, str(spec["path"]),
                       reason="declare reset.confirm and the identity's password: a code is judged by spending it")]
    fmt = str(spec["code"]) if spec.get("code") else None
    space = code_space(fmt) if fmt else None
    asked = _ask(ctx, spec, who.username or "")
    _issued(ctx, p, who, asked, spec)
    wrong = _confirm(ctx, spec, who, _wrong_code(space, None))  # how a refused code is answered here

    def accepted(ex: Exchange) -> bool:  # a 2xx that is not the refusal's answer (some refuse with 200)
        return ex.ok and (not wrong.ok or stable(ex.text) != stable(wrong.text))

    problems: list[str] = []
    ev: dict[str, Any] = {"account": who.name, "request": asked.evidence(), "wrong_code": wrong.evidence()}
    handed = _returned_code(asked.json(), fmt) if asked.ok else None
    if handed is not None:
        used = _confirm(ctx, spec, who, handed)
        ev["returned_code_confirm"] = used.evidence()
        if accepted(used):
            problems.append("the reset answer carries the code: whoever asks for a reset can spend it")
            problems += _unbound(ctx, p, spec, who, fmt, accepted, ev)
        else:
            ev["returned_value_refused"] = True  # named like a code but not one: reported, not judged
    tries = _guesses(ctx, spec, who, space, handed, accepted, wrong)
    ev["wrong_codes"] = tries
    bits = round(space[0], 1) if space else None
    ev["code_bits"] = bits
    if tries["accepted"]:
        problems.append("a guessed code was accepted")
    elif not tries["throttled"] and bits is not None and bits < MIN_CODE_BITS:
        problems.append(f"{bits} bits of code ({fmt}) and {tries['sent'] + 1} wrong codes met no lockout or "
                        f"throttling: about {2 ** bits / 2:,.0f} guesses take the account on average")
    ev["password_still_works"] = login(ctx.client, ctx.profile, who.username or "", who.password).ok
    if not ev["password_still_works"]:
        ctx.changes.append({"check": p.id, "account_of": who.name, "fields": ["password"], "accepted": True,
                            "changed": True, "reverted": False, "left_changed": True})
    ev["problems"] = problems
    n = {"requests": 2 + tries["sent"] + ("returned_code_confirm" in ev)}
    where = str(spec["path"])
    if problems:
        return [result(p, "fail", ev, where, observed=n)]
    if tries["throttled"]:
        return [result(p, "pass", ev, where, observed=n)]
    return [result(p, "needs_review", ev, where, observed=n,
                   reason=f"{tries['sent'] + 1} wrong codes met no lockout; declare reset.code (the format you "
                          "received) to judge whether that is enough to guess one" if bits is None else
                          f"{tries['sent'] + 1} wrong codes met no lockout; {bits} bits of code is at or above the "
                          "20-bit floor, but nothing showed the attempts are limited")]


def _unbound(ctx: Context, p: Probe, spec: dict[str, Any], who: Identity, fmt: str | None, accepted: Any,
             ev: dict[str, Any]) -> list[str]:
    """A code handed back for another identity, spent for ``who`` (after ``who`` asks for a fresh one)."""
    other = next((i for i in ctx.profile.identities if i.username and i.name != who.name and i.password), None)
    if other is None:
        return []
    theirs_ask = _ask(ctx, spec, other.username or "")
    _issued(ctx, p, other, theirs_ask, spec)
    theirs = _returned_code(theirs_ask.json(), fmt) if theirs_ask.ok else None
    if theirs is None:
        return []
    _issued(ctx, p, who, _ask(ctx, spec, who.username or ""), spec)
    crossed = _confirm(ctx, spec, who, theirs)
    ev["other_accounts_code"] = crossed.evidence()
    return [f"{other.name}'s code was accepted for {who.name}: codes are not bound to the account"] \
        if accepted(crossed) else []


def _wrong_code(space: tuple[float, list[str]] | None, avoid: str | None) -> str:
    alphabets = space[1] if space else ["0123456789"] * 8
    while True:
        code = "".join(secrets.choice(a) for a in alphabets)
        if code != avoid:
            return code


def _guesses(ctx: Context, spec: dict[str, Any], who: Identity, space: tuple[float, list[str]] | None,
             avoid: str | None, accepted: Any, wrong: Exchange) -> dict[str, Any]:
    """More wrong codes for ``who``'s pending reset: throttled when an answer is a 429 or differs from the
    first wrong answer (a lockout message) once volatile fields are removed."""
    first, statuses = stable(wrong.text), [wrong.status]
    for n in range(1, GUESSES):
        ex = _confirm(ctx, spec, who, _wrong_code(space, avoid))
        statuses.append(ex.status)
        if accepted(ex):
            return {"sent": n, "statuses": sorted(set(statuses)), "throttled": False, "accepted": True}
        if ex.status == 429 or ex.status != wrong.status or stable(ex.text) != first:
            return {"sent": n, "statuses": sorted(set(statuses)), "throttled": True, "accepted": False,
                    "throttled_after": n + 1, "answer": ex.text[:200]}
    return {"sent": GUESSES - 1, "statuses": sorted(set(statuses)), "throttled": False, "accepted": False}
