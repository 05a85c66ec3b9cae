"""The profile's login flow for one username and password: JSON or form-encoded (e.g. an OAuth2 password
grant), returning the token and the session cookies it yields. Used at start for every identity, and by
probes that log in as an account they created."""

from __future__ import annotations

from dataclasses import dataclass, field

from .client import Exchange, SafeClient
from .profile import Profile


@dataclass(frozen=True)
class Session:
    token: str | None
    cookies: dict[str, str] = field(default_factory=dict)
    exchange: Exchange | None = None
    expires_at: float | None = None  # epoch seconds: from the answer's expires_in, else the token's exp

    @property
    def ok(self) -> bool:
        return bool(self.token or self.cookies)


def login(client: SafeClient, profile: Profile, username: str, password: str) -> Session:
    spec = profile.login or {}
    if not spec.get("path"):
        return Session(None)
    body = {k: str(v).replace("{username}", username).replace("{password}", password)
            for k, v in spec.get("body", {"username": "{username}", "password": "{password}"}).items()}
    fmt = str(spec.get("format", "json"))  # json | form | query (credentials in the URL: reported as a finding)
    ex = client.request(str(spec.get("method", "POST")), str(spec["path"]),
                        json_body=body if fmt == "json" else None, form=body if fmt == "form" else None,
                        params=body if fmt == "query" else None)
    data = ex.json() if ex.ok else None
    key = str(spec.get("token_field", "access_token"))
    token = str(data[key]) if isinstance(data, dict) and data.get(key) else None
    return Session(token, dict(ex.set_cookies) if ex.ok else {}, ex, _expiry(data, token))


def _expiry(data: object, token: str | None) -> float | None:
    import time

    if isinstance(data, dict) and isinstance(data.get("expires_in"), (int, float)):
        return time.time() + float(data["expires_in"])
    if token and token.count(".") == 2:
        from .forge import split

        try:
            exp = split(token)[1].get("exp")
        except ValueError:
            return None
        return float(exp) if isinstance(exp, (int, float)) else None
    return None
