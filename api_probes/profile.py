"""The target profile (TOML, documented in README.md): what may be contacted, as whom, how much."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from vehicle_ds.errors import InputError
from vehicle_ds.tomlfile import read_toml

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass
class Identity:
    name: str
    role: str
    token: str | None = None
    username: str | None = None
    password: str | None = None
    owns: dict[str, list[str]] = field(default_factory=dict)
    expired_token: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)  # a session the tester pasted (login sets its own)


@dataclass
class Endpoint:
    method: str
    path: str
    safe: bool = False
    auth: bool = True
    roles: list[str] | None = None  # roles allowed to call it; None = every authenticated identity
    objects: dict[str, str] = field(default_factory=dict)  # path/query parameter -> object kind
    expects: list[str] = field(default_factory=list)  # data categories the function legitimately returns
    allowed_fields: list[str] = field(default_factory=list)  # body paths (globs: items[*].secret) that are content
    mass_assignment: dict[str, Any] | None = None
    cross_user: dict[str, Any] | None = None  # B writes to an object the probe creates for A (write probes)
    account_change: dict[str, Any] | None = None  # B changes A's e-mail or password (write probes)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def matches(self, method: str, path: str, query: str = "") -> bool:
        """The method, the path (``{x}`` stands for one segment) and, when the profile's path carries a query
        string (``/transactions?account={n}``), every parameter it names (literal values must be equal;
        templated ones anything non-empty). Other query parameters are allowed."""
        if method.upper() != self.method:
            return False
        path_tpl, _, query_tpl = self.path.partition("?")
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path_tpl)) + "$"
        if re.match(pattern, path) is None:
            return False
        given = dict(parse_qsl(query, keep_blank_values=True))
        for name, value in parse_qsl(query_tpl, keep_blank_values=True):
            templated = re.fullmatch(r"\{[^}]+\}", value) is not None
            if name not in given or (not templated and given[name] != value) or (templated and not given[name]):
                return False
        return True


@dataclass
class Profile:
    name: str
    base_url: str
    allow_hosts: list[str]
    identities: list[Identity]
    endpoints: list[Endpoint]
    login: dict[str, Any] | None = None
    ca_cert: str | None = None
    http_port: int | None = None
    jwks_url: str | None = None
    public_key: str | None = None
    test_signing_key: str | None = None
    jwt_endpoint: str | None = None
    max_requests: int = 1000
    rate_per_s: float = 50.0
    time_s: float = 120.0
    burst: int = 30
    allow_unsafe: bool = False
    listener: bool = True
    path: str = ""
    version: str = ""
    environment: str = "production"  # "test": a lab target; plain HTTP on loopback is information, not a finding
    extra_secrets: list[str] = field(default_factory=list)  # HMAC candidates the tester suspects
    setup: list[dict[str, Any]] = field(default_factory=list)  # [[setup]] steps run after login
    discover_max: int = 150  # requests discovery may spend (--discover)
    crack_seconds: float = 120.0  # a safety stop for the offline search; a stopped search is not_assessed
    secrets_file: str | None = None  # one candidate per line
    extra_secret_words: list[str] = field(default_factory=list)  # words to decorate (the API's title, ...)
    identity_claims: list[str] | None = None  # JWT claims (dotted for nested) that name the caller; None: inferred
    max_token_lifetime_s: float | None = None  # the longest access-token lifetime the platform's policy allows
    # The rate limit the platform documents (token bucket: refill per second, burst): the rate-limit probe
    # then counts answers against it instead of hoping a burst is fast enough (same verdict on a busy machine).
    declared_rate: float | None = None
    declared_burst: float | None = None
    logout: dict[str, Any] | None = None  # the request that ends a session ([logout])
    reset: dict[str, Any] | None = None  # the password-reset flow ([reset]): its request, confirmation, code format

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def endpoint(self, method: str, path: str, query: str = "") -> Endpoint | None:
        return next((e for e in self.endpoints if e.matches(method, path, query)), None)


def _limit(target: dict[str, Any], key: str, p: Path) -> float | None:
    v = (target.get("rate_limit") or {}).get(key)
    if v is not None and (not isinstance(v, (int, float)) or v <= 0):
        raise InputError(f"target.rate_limit.{key} must be a positive number", path=str(p))
    return float(v) if v is not None else None


def _change_me(node: Any, where: str = "") -> list[str]:
    """The keys a draft left for a person (a value containing CHANGE-ME): a profile runs only once confirmed."""
    if isinstance(node, dict):
        return [k for key, v in node.items() for k in _change_me(v, f"{where}.{key}" if where else str(key))]
    if isinstance(node, list):
        return [k for n, v in enumerate(node) for k in _change_me(v, f"{where}[{n}]")]
    return [where] if isinstance(node, str) and "CHANGE-ME" in node else []


def _reset_endpoints(reset: Any, listed: list[Endpoint], p: Path) -> list[Endpoint]:
    """The reset flow's requests as endpoints (unauthenticated, declared safe by declaring the flow: they are
    still writes, sent only with the write opt-in), unless the profile lists them itself."""
    if not isinstance(reset, dict) or not reset.get("path"):
        raise InputError("[reset] needs a path (the request that asks for a code)", path=str(p))
    steps = [(str(reset.get("method", "POST")).upper(), str(reset["path"]))]
    confirm = reset.get("confirm")
    if confirm is not None:
        if not isinstance(confirm, dict) or not confirm.get("path"):
            raise InputError("reset.confirm needs a path (the request that spends the code)", path=str(p))
        steps.append((str(confirm.get("method", "POST")).upper(), str(confirm["path"])))
    return [Endpoint(method=m, path=path, safe=True, auth=False) for m, path in steps
            if not any(e.matches(m, path) for e in listed)]


def load_profile(path: str | Path) -> Profile:
    p = Path(path)
    raw = read_toml(p, "target profile")
    base = p.parent

    def rel(v: str | None) -> str | None:
        if v is None:
            return None
        return str(base / v) if not Path(v).is_absolute() else v

    try:
        t = raw["target"]
        url = str(t["base_url"]).rstrip("/")
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise InputError(f"base_url must be an http(s) URL, not {url!r}", path=str(p))
        allow = [str(h).lower() for h in t.get("allow_hosts", [urlsplit(url).hostname])]
        if (urlsplit(url).hostname or "").lower() not in allow:
            raise InputError(f"base_url host {urlsplit(url).hostname} is not in allow_hosts", path=str(p))
        idents = [Identity(name=str(i["name"]), role=str(i.get("role", "user")), token=i.get("token"),
                           username=i.get("username"), password=i.get("password"),
                           owns={k: [str(x) for x in v] for k, v in i.get("owns", {}).items()},
                           expired_token=i.get("expired_token"),
                           cookies={str(k): str(v) for k, v in (i.get("cookies") or {}).items()})
                  for i in raw.get("identity", [])]
        eps = [Endpoint(method=str(e.get("method", "GET")).upper(), path=str(e["path"]), safe=bool(e.get("safe", False)),
                        auth=bool(e.get("auth", True)) and not bool(e.get("public", False)),
                        roles=e.get("roles"), objects=dict(e.get("objects", {})),
                        expects=list(e.get("expects", [])), allowed_fields=[str(f) for f in e.get("allowed_fields", [])],
                        mass_assignment=e.get("mass_assignment"),
                        cross_user=e.get("cross_user"), account_change=e.get("account_change"))
               for e in raw.get("endpoint", [])]
        reset, logout = raw.get("reset"), raw.get("logout")
        if reset is not None:
            eps += _reset_endpoints(reset, eps, p)
        if logout is not None:
            if not isinstance(logout, dict) or not logout.get("path"):
                raise InputError("[logout] needs a path (the request that ends a session)", path=str(p))
            method = str(logout.get("method", "POST")).upper()
            if not any(e.matches(method, str(logout["path"])) for e in eps):
                eps.append(Endpoint(method=method, path=str(logout["path"]), safe=True))
        left = _change_me(raw)
        if left:
            raise InputError(f"complete the drafted profile first: {', '.join(left[:5])} still read CHANGE-ME",
                             path=str(p))
        budget, safety, jwt_cfg = raw.get("budget", {}), raw.get("safety", {}), raw.get("jwt", {})
        for label, f in (("target.ca_cert", rel(t.get("ca_cert"))), ("jwt.public_key", rel(jwt_cfg.get("public_key"))),
                         ("jwt.secrets_file", rel(jwt_cfg.get("secrets_file")))):
            if f is not None and not Path(f).is_file():
                raise InputError(f"{label}: no such file {f}", path=str(p))
        return Profile(
            name=str(t.get("name", url)), base_url=url, allow_hosts=allow, identities=idents, endpoints=eps,
            login=raw.get("login"), ca_cert=rel(t.get("ca_cert")), http_port=t.get("http_port"),
            jwks_url=jwt_cfg.get("jwks_url"), public_key=rel(jwt_cfg.get("public_key")),
            test_signing_key=jwt_cfg.get("test_signing_key"), jwt_endpoint=jwt_cfg.get("endpoint"),
            max_requests=int(budget.get("max_requests", 1000)), rate_per_s=float(budget.get("rate_per_s", 50)),
            time_s=float(budget.get("time_s", 120)), burst=int(budget.get("burst", 30)),
            allow_unsafe=bool(safety.get("allow_unsafe", False)), listener=bool(safety.get("listener", True)),
            path=str(p), version=str(t.get("version", "")), environment=str(t.get("environment", "production")),
            identity_claims=[str(c) for c in jwt_cfg["identity_claims"]] if "identity_claims" in jwt_cfg else None,
            extra_secrets=[str(w) for w in jwt_cfg.get("extra_secrets", [])], secrets_file=rel(jwt_cfg.get("secrets_file")),
            extra_secret_words=[str(w) for w in jwt_cfg.get("secret_words", [])],
            crack_seconds=float(jwt_cfg.get("crack_seconds", 120.0)),
            max_token_lifetime_s=float(jwt_cfg["max_lifetime_s"]) if "max_lifetime_s" in jwt_cfg else None,
            discover_max=int(budget.get("discover_max", 150)), setup=list(raw.get("setup", [])),
            declared_rate=_limit(t, "per_s", p), declared_burst=_limit(t, "burst", p), reset=reset,
            logout=logout,
        )
    except KeyError as exc:
        raise InputError(f"missing setting {exc.args[0]!r}", path=str(p)) from None
