"""The only way probes talk to a target: every request is checked against the host allowlist and the
profile's safe-endpoint list, counted against the budget, paced by the rate limit, logged, and its
secrets masked in what is kept as evidence."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from vehicle_ds.evidence import default_masker

from .profile import SAFE_METHODS, Profile


def mask(text: str) -> str:
    """Tokens, keys, passwords and personal data never appear in clear in evidence or logs (the core's
    masker: secrets become ***, personal data a keyed pseudonym)."""
    return default_masker().text(text)


class SafetyError(Exception):
    """A request the profile does not allow; it was not sent."""


class BudgetExhausted(Exception):
    """The request or time budget is used up; no further request is sent."""


@dataclass
class Exchange:
    method: str
    url: str
    status: int | None
    body: bytes
    headers: dict[str, str]
    elapsed_ms: float
    error: str = ""
    set_cookies: dict[str, str] = field(default_factory=dict)  # cookies this response set (never sent back unasked)

    @property
    def ok(self) -> bool:
        """The target answered 2xx: it did what was asked."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        import json

        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def evidence(self, limit: int = 600) -> dict[str, Any]:
        """The exchange as evidence, masked: a JSON body is masked value by value (credential keys, personal
        keys, patterns) before it is cut to ``limit`` characters; any other body as text."""
        import json

        doc = self.json()
        if doc is not None:
            text = json.dumps(default_masker().json(doc), ensure_ascii=False)[:limit]
        else:
            text = mask(self.body[: limit * 2].decode("utf-8", "replace"))[:limit]
        return {"request": mask(f"{self.method} {self.url}"), "status": self.status,
                "response_excerpt": text, **({"error": mask(self.error)} if self.error else {})}


@dataclass
class RequestLog:
    entries: list[dict[str, Any]] = field(default_factory=list)


# headers that can name software and its version: collected from every answer of the run
WATCHED_HEADERS = frozenset({"server", "via", "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version", "x-generator",
                             "x-drupal-cache", "x-runtime-version", "x-php-version"})


class SafeClient:
    def __init__(self, profile: Profile, allow_unsafe: bool = False, transport: httpx.BaseTransport | None = None) -> None:
        """``transport`` replaces the network (httpx.MockTransport in a probe's unit test); the safety rules,
        budget and masking still apply."""
        self.profile = profile
        self.allow_unsafe = allow_unsafe and profile.allow_unsafe
        verify: bool | str = profile.ca_cert or True
        self._http = httpx.Client(verify=verify, timeout=10.0, follow_redirects=False, transport=transport)
        self.sent = 0
        self.blocked = 0
        self.log = RequestLog()
        self.started = time.monotonic()
        self._next_slot = 0.0
        self._lock = threading.Lock()
        self.check_id = ""
        # every (header, value) of WATCHED_HEADERS any answer carried, with the first URL that carried it
        self.headers_seen: dict[tuple[str, str], str] = {}

    def close(self) -> None:
        self._http.close()

    def _allowed(self, method: str, url: str, bypass_endpoint_list: bool) -> None:
        host = (urlsplit(url).hostname or "").lower()
        if host not in self.profile.allow_hosts:
            raise SafetyError(f"host {host} is not in the allowlist")
        if bypass_endpoint_list:
            return
        parts = urlsplit(url)
        path = parts.path
        login = self.profile.login or {}
        if login and path == login.get("path") and method == str(login.get("method", "POST")).upper():
            return  # the declared login flow
        ep = self.profile.endpoint(method, path, parts.query)
        if ep is None or not ep.safe:
            shown = path + (f"?{parts.query}" if parts.query else "")
            raise SafetyError(f"{method} {mask(shown)} is not an endpoint the profile marks safe")
        if method not in SAFE_METHODS and not self.allow_unsafe:
            raise SafetyError(f"{method} needs an explicit opt-in (--allow-unsafe and safety.allow_unsafe)")

    def _pace(self, rate: float | None) -> None:
        with self._lock:
            if self.sent >= self.profile.max_requests:
                raise BudgetExhausted(f"request budget of {self.profile.max_requests} used up")
            if time.monotonic() - self.started > self.profile.time_s:
                raise BudgetExhausted(f"time budget of {self.profile.time_s:.0f}s used up")
            now = time.monotonic()
            if rate:
                wait = self._next_slot - now
                if wait > 0:
                    time.sleep(wait)
                    now = time.monotonic()
                self._next_slot = max(now, self._next_slot) + 1.0 / rate
            self.sent += 1

    def request(self, method: str, url: str, *, token: str | None = None, cookies: dict[str, str] | None = None,
                headers: dict[str, str] | None = None, json_body: Any = None, form: dict[str, str] | None = None,
                params: dict[str, str] | None = None, paced: bool = True, any_path: bool = False,
                retry: bool = True) -> Exchange:
        """Send one request if the profile allows it, carrying exactly the credentials given: ``token`` as a
        bearer header, ``cookies`` as the Cookie header, nothing else (there is no cookie jar: a cookie set by
        one answer is never sent with another request unless a probe passes it). ``any_path`` is for probes
        that must reach a path outside the endpoint list on an allowed host (plain-HTTP and error probes),
        GET only. ``retry=False``: a 429 is the answer (a probe that looks for throttling)."""
        method = method.upper()
        if not url.startswith(("http://", "https://")):
            url = self.profile.base_url + url
        if any_path and method not in SAFE_METHODS:
            self.blocked += 1
            raise SafetyError("only safe methods may leave the endpoint list")
        try:
            self._allowed(method, url, any_path)
        except SafetyError:
            self.blocked += 1
            raise
        self._pace(self.profile.rate_per_s if paced else None)
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        if cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        carried = "+".join(k for k, v in (("token", token), ("cookie", cookies)) if v) or "none"
        for attempt in range(3):
            ex = self._send(method, url, h, json_body, params, form, carried)
            # Honour the target's rate limit (a 429 is not an answer to the probe's question); the
            # deliberate burst of the rate-limit probe is unpaced and wants to see the 429.
            if ex.status != 429 or not paced or not retry or attempt == 2:
                return ex
            time.sleep(min(2.0, float(ex.headers.get("retry-after", "1") or 1)))
            self._pace(self.profile.rate_per_s)
        return ex

    def _send(self, method: str, url: str, headers: dict[str, str], json_body: Any,
              params: dict[str, str] | None, form: dict[str, str] | None = None, carried: str = "none") -> Exchange:
        t0 = time.perf_counter()
        try:
            r = self._http.request(method, url, headers=headers, json=json_body, params=params, data=form)
            ex = Exchange(method, str(r.url), r.status_code, r.content, dict(r.headers), (time.perf_counter() - t0) * 1000,
                          set_cookies=dict(r.cookies))
        except httpx.HTTPError as exc:
            ex = Exchange(method, url, None, b"", {}, (time.perf_counter() - t0) * 1000, f"{type(exc).__name__}: {exc}")
        finally:
            self._http.cookies.clear()  # no jar: every request carries exactly the credentials it names
        for name in WATCHED_HEADERS.intersection(k.lower() for k in ex.headers):
            value = next(v for k, v in ex.headers.items() if k.lower() == name)
            self.headers_seen.setdefault((name, value), mask(ex.url))
        self.log.entries.append({"n": self.sent, "check": self.check_id, "method": method, "url": mask(ex.url),
                                 "credentials": carried, "status": ex.status, "ms": round(ex.elapsed_ms, 1),
                                 **({"error": mask(ex.error)[:200]} if ex.error else {})})
        return ex
