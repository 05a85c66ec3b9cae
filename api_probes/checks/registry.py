"""The probe registry: each probe is a plain function with a stable id and a docstring saying what its
finding proves. A probe returns one check per endpoint (or one for the target). Oracles judge by content:
a forged or foreign request "succeeds" only if it gets what the rightful identity gets."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from vehicle_ds.results import Criterion, check
from vehicle_ds.vocabulary import Severity, Status

from ..client import BudgetExhausted, SafetyError, mask
from ..context import Context
from ..profile import Endpoint


@dataclass(frozen=True)
class Probe:
    id: str
    title: str
    owasp: str
    cwe: str
    requirements: tuple[str, ...]
    severity: str
    fn: Callable[[Context, Probe], list[dict[str, Any]]]


REGISTRY: list[Probe] = []


def probe(pid: str, title: str, owasp: str, cwe: str, requirements: tuple[str, ...], severity: str):
    def deco(fn):
        REGISTRY.append(Probe(pid, title, owasp, cwe, requirements, severity, fn))
        return fn
    return deco


def _requests_in(evidence: Any) -> int:
    """Exchanges recorded in a piece of evidence (every ``Exchange.evidence()`` carries a ``request``)."""
    if isinstance(evidence, dict):
        return int("request" in evidence and "status" in evidence) + sum(_requests_in(v) for v in evidence.values())
    if isinstance(evidence, list):
        return sum(_requests_in(v) for v in evidence)
    return 0


def result(p: Probe, status: Status, evidence: dict[str, Any] | None = None, endpoint: str = "",
           severity: Severity | None = None, metrics: dict[str, Any] | None = None, *,
           observed: dict[str, Any] | None = None, minimum: dict[str, float] | None = None,
           reason: str = "", owasp: str | None = None, cwe: str | None = None) -> dict[str, Any]:
    """One check of a probe. Its criterion is the probe's title under its OWASP category; a pass needs at
    least one request that put the question to the target (``observed``; by default the exchanges in the
    evidence), else it is ``not_assessed``."""
    evidence = evidence or {}
    if status == "skipped" and not reason:
        reason = str(evidence.get("reason", ""))
    owasp, cwe = owasp or p.owasp, cwe or p.cwe  # a finding may belong elsewhere (an escalation is API5)
    crit = Criterion(p.title, "standard", owasp, minimum if minimum is not None else {"requests": 1})
    c = check(p.id, p.title + (f" — {endpoint}" if endpoint else ""), status, severity or p.severity,  # type: ignore[arg-type]
              [*p.requirements, owasp], evidence=evidence, metrics=metrics, criterion=crit,
              observed=observed if observed is not None else {"requests": _requests_in(evidence)}, reason=reason)
    return {**c, "owasp": owasp, "cwe": cwe, "endpoint": endpoint}


_AUTH = ("MIIT-DSM", "ISO20078-3", "R155-A5")  # platform interfaces: not GB/T 44464 §5.5 (in-vehicle)
_AUTHZ = ("MIIT-DSM", "ISO20078-3", "R155-A5")


def _reads(ctx: Context, with_objects: bool | None = None):
    for e in ctx.profile.endpoints:
        if e.safe and e.method == "GET" and (with_objects is None or bool(e.objects) == with_objects):
            yield e


def _own_values(ctx: Context, ident: str, e) -> dict[str, str] | None:
    owns = ctx.identity(ident).owns
    vals = {}
    for param, kind in e.objects.items():
        if not owns.get(kind):
            return None
        vals[param] = owns[kind][0]
    return vals


def _owner_of(ctx: Context, e) -> str | None:
    for i in ctx.owners():
        if _own_values(ctx, i.name, e) is not None:
            return i.name
    if e.objects:
        return None
    return next((i.name for i in ctx.profile.identities if ctx.has_credentials(i.name)), None)


def needs_unsafe(fn: Callable[[Context, Probe], list[dict[str, Any]]]) -> Callable[[Context, Probe], list[dict[str, Any]]]:
    """Precondition of every write probe: --allow-unsafe and safety.allow_unsafe, else one skipped result."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx: Context, p: Probe) -> list[dict[str, Any]]:
        if not ctx.allow_unsafe:
            return [result(p, "skipped", {"reason": "write probe: run with --allow-unsafe on a test account "
                                                    "(and safety.allow_unsafe in the profile)"})]
        return fn(ctx, p)
    return wrapper


def per_endpoint(p: Probe, endpoints: Iterable[Endpoint], one: Callable[[Endpoint], list[dict[str, Any]]]
                 ) -> list[dict[str, Any]]:
    """Run a check endpoint by endpoint: a request the safety rules refuse on one endpoint is recorded against
    that endpoint (skipped, with the reason) and the check goes on with the others."""
    out: list[dict[str, Any]] = []
    for e in endpoints:
        try:
            out.extend(one(e))
        except SafetyError as exc:
            out.append(result(p, "skipped", {"reason": f"not sent: {exc}"}, e.label))
    return out


def run_probe(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    ctx.client.check_id = p.id
    try:
        return p.fn(ctx, p)
    except SafetyError as exc:
        return [result(p, "skipped", {"reason": f"not sent: {exc}"})]
    except BudgetExhausted:
        raise
    except Exception as exc:  # a probe bug must not hide the other findings
        return [result(p, "error", {"error": mask(f"{type(exc).__name__}: {exc}")})]
