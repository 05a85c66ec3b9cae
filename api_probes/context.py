"""What every probe function receives: the profile, the safe client, the identities' tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .client import Exchange, SafeClient
from .profile import Endpoint, Identity, Profile


@dataclass
class Context:
    profile: Profile
    client: SafeClient
    tokens: dict[str, str]
    allow_unsafe: bool = False
    public_pem: bytes | None = None
    signing_key: Any = None  # a test-environment key that signs like the platform (HS secret or RSA key)
    listener: Any = None
    notes: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)  # every object or field a probe wrote
    _baseline: dict[tuple[str, str], Exchange] = field(default_factory=dict)

    def identity(self, name: str) -> Identity:
        return next(i for i in self.profile.identities if i.name == name)

    def owners(self) -> list[Identity]:
        """Identities of the ordinary (non-admin) role, for cross-user tests."""
        return [i for i in self.profile.identities if i.role != "admin" and i.name in self.tokens]

    def reference_endpoint(self) -> Endpoint | None:
        """A safe, authenticated read endpoint without object ids: where token attacks are judged."""
        if self.profile.jwt_endpoint:
            return next((e for e in self.profile.endpoints if e.path == self.profile.jwt_endpoint), None)
        return next((e for e in self.profile.endpoints if e.safe and e.method == "GET" and e.auth and not e.objects
                     and e.roles is None), None)

    def reference_and_identity(self) -> tuple[Endpoint, str] | None:
        """The reference endpoint and the first identity with a token, if both exist."""
        e, ident = self.reference_endpoint(), next(iter(self.tokens), None)
        return (e, ident) if e is not None and ident is not None else None

    def baseline(self, ident: str, path: str) -> Exchange:
        key = (ident, path)
        if key not in self._baseline:
            self._baseline[key] = self.client.request("GET", path, token=self.tokens[ident])
        return self._baseline[key]


def fill(path: str, values: dict[str, str]) -> str:
    for k, v in values.items():
        path = path.replace("{" + k + "}", v)
    return path


def accepted_as(ex: Exchange, baseline: Exchange) -> bool:
    """The forged request got what the genuine one gets (judged by content, not status alone)."""
    return ex.status is not None and 200 <= ex.status < 300 and ex.body == baseline.body and baseline.status == 200
