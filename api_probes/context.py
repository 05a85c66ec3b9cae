"""What every probe function receives: the profile, the safe client, the identities' tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .client import Exchange, SafeClient
from .profile import Endpoint, Identity, Profile

AUTH_METHODS = ("token", "cookie")
PRIVILEGED_ROLES = frozenset({"admin", "staff", "employee", "dealer", "support", "operator", "service"})


@dataclass
class Context:
    profile: Profile
    client: SafeClient
    tokens: dict[str, str]
    allow_unsafe: bool = False
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)  # session cookies per identity
    # how the target accepts an identity (measured at start): ownership checks run once per method
    methods: tuple[str, ...] = ("token",)
    discover: bool = False  # --discover: look for endpoints the profile does not list
    expires: dict[str, float] = field(default_factory=dict)  # when each identity's token expires (epoch s)
    relogin: Any = None  # callable(name) -> None: log the identity in again (tokens are refreshed before expiry)
    refreshed: list[str] = field(default_factory=list)
    public_pem: bytes | None = None
    signing_key: Any = None  # a test-environment key that signs like the platform (HS secret or RSA key)
    listener: Any = None
    notes: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)  # every object or field a probe wrote
    _baseline: dict[tuple[str, str, str], Exchange] = field(default_factory=dict)
    _open_to: dict[str, dict[str, Any]] = field(default_factory=dict)  # per path: what it accepts besides a token

    def identity(self, name: str) -> Identity:
        return next(i for i in self.profile.identities if i.name == name)

    def has_credentials(self, name: str) -> bool:
        return name in self.tokens or bool(self.cookies.get(name))

    def auth(self, name: str, via: str | None = None) -> dict[str, Any]:
        """The request arguments that carry exactly identity ``name``'s credentials by one method (``token``
        or ``cookie``; default: the first the target accepts that this identity has)."""
        self._refresh_if_due(name)
        if via is None:
            via = next((m for m in self.methods if self._has(name, m)), "token")
        if via == "cookie":
            return {"cookies": self.cookies.get(name) or None}
        return {"token": self.tokens.get(name)}

    def _refresh_if_due(self, name: str) -> None:
        """A token that expires within 30 s is renewed by logging in again (long runs outlive 15-minute tokens)."""
        import time

        due = self.expires.get(name)
        if due is not None and self.relogin is not None and time.time() > due - 30:
            self.expires.pop(name)
            self.relogin(name)

    def holds(self, name: str, via: str) -> bool:
        """Whether identity ``name`` has a credential of kind ``via`` (``token`` or ``cookie``)."""
        return self._has(name, via)

    def _has(self, name: str, via: str) -> bool:
        return bool(self.cookies.get(name)) if via == "cookie" else name in self.tokens

    def owners(self) -> list[Identity]:
        """Identities of an ordinary role (owner, peer, user, customer …), paired in cross-user tests; staff,
        dealers, support and admins are privileged and never stand in for a customer."""
        return [i for i in self.profile.identities if i.role.lower() not in PRIVILEGED_ROLES and self.has_credentials(i.name)]

    def reference_endpoint(self) -> Endpoint | None:
        """A safe, authenticated read endpoint without object ids: where token attacks are judged."""
        if self.profile.jwt_endpoint:
            return next((e for e in self.profile.endpoints if e.path == self.profile.jwt_endpoint), None)
        return next((e for e in self.profile.endpoints if e.safe and e.method == "GET" and e.auth and not e.objects
                     and e.roles is None), None)

    def reference_and_identity(self) -> tuple[Endpoint, str] | None:
        """The reference endpoint and the first identity with credentials, if both exist."""
        e = self.reference_endpoint()
        ident = next((i.name for i in self.profile.identities if self.has_credentials(i.name)), None)
        return (e, ident) if e is not None and ident is not None else None

    def baseline(self, ident: str, path: str, via: str | None = None) -> Exchange:
        key = (ident, path, via or "")
        if key not in self._baseline:
            self._baseline[key] = self.client.request("GET", path, **self.auth(ident, via))
        return self._baseline[key]


def accepts_anything(ctx: Context, ident: str, path: str) -> dict[str, Any]:
    """What ``path`` answers as it answers ``ident``'s genuine token: no token, a garbage token (evidence per
    label; empty when it refuses both). Token attacks judged there prove nothing: a forged token "accepted" by
    an endpoint that ignores tokens is no finding (jwt_tool's pre-scan); its open access is auth's finding."""
    if path not in ctx._open_to:
        base = ctx.baseline(ident, path, "token")
        open_to = {}
        for label, token in (("no token", None), ("garbage token", "probe.garbage.token")):
            ex = ctx.client.request("GET", path, token=token)
            if accepted_as(ex, base):
                open_to[label] = ex.evidence()
        ctx._open_to[path] = open_to
    return ctx._open_to[path]


def fill(path: str, values: dict[str, str]) -> str:
    """Put object ids into a path template; ids in its query string are URL-encoded."""
    from urllib.parse import quote

    head, sep, query = path.partition("?")
    for k, v in values.items():
        head = head.replace("{" + k + "}", v)
        query = query.replace("{" + k + "}", quote(v, safe=""))
    return head + sep + query


def accepted_as(ex: Exchange, baseline: Exchange) -> bool:
    """The forged request got what the genuine one gets (judged by content, not status alone)."""
    return ex.status is not None and 200 <= ex.status < 300 and ex.body == baseline.body and baseline.status == 200


_MISSING = object()


def resolve_pointer(doc: Any, pointer: str) -> Any:
    """The value at a JSON pointer (RFC 6901: ``/data/user``, ``~1`` for ``/``, ``~0`` for ``~``), or None."""
    for part in [p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/") if p]:
        if isinstance(doc, dict):
            doc = doc.get(part, _MISSING)
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return None
        if doc is _MISSING:
            return None
    return doc


def fill_tag(value: Any, tag: str) -> Any:
    """Put a per-run random ``tag`` where a profile value says ``{rand}`` (new accounts and objects never collide)."""
    if isinstance(value, str):
        return value.replace("{rand}", tag)
    if isinstance(value, dict):
        return {k: fill_tag(v, tag) for k, v in value.items()}
    return value
