"""The rate-limit oracle gives the same verdict however fast this machine sends (issue #10).

A simulated clock makes "fast" and "slow" machines exactly reproducible: each request advances it by a
fixed step, and the target is a real token bucket driven by the same clock (or no limiter at all)."""

from __future__ import annotations

import httpx
import pytest

from api_probes import checks
from api_probes.checks import transport
from api_probes.client import SafeClient
from api_probes.context import Context
from api_probes.profile import Endpoint, Identity, Profile


class Clock:
    def __init__(self, step: float) -> None:
        self.now, self.step = 1000.0, step

    def monotonic(self) -> float:
        return self.now


def _target(clock: Clock, limited: bool, rate: float = 50.0, burst: float = 60.0) -> httpx.MockTransport:
    bucket = {"tokens": burst, "stamp": clock.now}

    def handle(request: httpx.Request) -> httpx.Response:
        clock.now += clock.step  # the time this request took
        if limited:
            bucket["tokens"] = min(burst, bucket["tokens"] + (clock.now - bucket["stamp"]) * rate)
            bucket["stamp"] = clock.now
            if bucket["tokens"] < 1:
                return httpx.Response(429, headers={"retry-after": "1"})
            bucket["tokens"] -= 1
        return httpx.Response(200, json={"id": "u-1"})

    return httpx.MockTransport(handle)


def _run(monkeypatch, step: float, limited: bool, declared: bool) -> dict:
    clock = Clock(step)
    monkeypatch.setattr(transport.time, "monotonic", clock.monotonic)
    prof = Profile(name="t", base_url="https://api.test", allow_hosts=["api.test"],
                   identities=[Identity(name="a", role="owner")],
                   endpoints=[Endpoint(method="GET", path="/me", safe=True)], jwt_endpoint="/me",
                   max_requests=400, burst=80, time_s=1e9,
                   declared_rate=50.0 if declared else None, declared_burst=60.0 if declared else None)
    client = SafeClient(prof, transport=_target(clock, limited))
    p = next(p for p in checks.REGISTRY if p.id == "probes.limits.rate_limit")
    [c] = checks.rate_limit(Context(prof, client, {"a": "tok"}), p)
    client.close()
    return c


@pytest.mark.parametrize("step", [0.002, 0.008, 0.015], ids=["idle", "busy", "very_busy"])
def test_a_real_limiter_passes_at_any_speed_the_sender_can_outpace(monkeypatch, step):
    c = _run(monkeypatch, step, limited=True, declared=True)
    assert c["status"] == "pass" and 429 in c["evidence"]["statuses"]


@pytest.mark.parametrize("step", [0.002, 0.008, 0.015], ids=["idle", "busy", "very_busy"])
def test_no_limiter_fails_at_any_speed_the_sender_can_outpace(monkeypatch, step):
    c = _run(monkeypatch, step, limited=False, declared=True)
    assert c["status"] == "fail" and c["evidence"]["served"] > c["evidence"]["most_a_limiter_allows"]


def test_a_sender_slower_than_the_declared_rate_cannot_judge(monkeypatch):
    """At 40 requests/s a 50/s limiter never has to refuse: no verdict, never a pass or fail by luck."""
    for limited in (True, False):
        c = _run(monkeypatch, 0.025, limited=limited, declared=True)
        assert c["status"] == "not_assessed" and "outpaced" in c["reason"], c


def test_without_a_declared_limit_a_burst_is_all_there_is(monkeypatch):
    assert _run(monkeypatch, 0.002, limited=True, declared=False)["status"] == "pass"
    assert _run(monkeypatch, 0.002, limited=False, declared=False)["status"] == "fail"
