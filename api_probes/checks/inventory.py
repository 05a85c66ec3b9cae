"""Inventory (opt-in, ``--discover``): endpoints that answer but are not in the profile (API9). GET only,
within the host allowlist and the request budget: a short list of debug, admin, health, metrics and
documentation paths, tried at the root and under the API's prefix, plus neighbours of documented paths
(the collection above an object, other API versions)."""

from __future__ import annotations

import re
import secrets
from importlib import resources
from typing import Any

from ..context import Context
from ..detectors import findings
from .registry import Probe, probe, result

DOC_PATHS = re.compile(r"openapi|swagger|api-docs|graphiql", re.I)
# Answering is their job: reported, not a finding, unless they carry credentials or personal data.
BENIGN_PATHS = re.compile(r"/(?:health|healthz|ping|ready|readyz|live|livez)$", re.I)


def _wordlist() -> list[str]:
    text = resources.files("api_probes").joinpath("data/discovery.txt").read_text("utf-8")
    return [w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#")]


def _prefix(paths: list[str]) -> str:
    """The API's common prefix (``/api/v1/``), from the documented paths."""
    parts = [p.split("?")[0].strip("/").split("/") for p in paths]
    common: list[str] = []
    for segs in zip(*parts, strict=False):
        if len(set(segs)) != 1 or "{" in segs[0]:
            break
        common.append(segs[0])
    return "/" + "/".join(common[:2]) + "/" if common else "/"


def candidates(ctx: Context, limit: int) -> list[str]:
    documented = [e.path.split("?")[0] for e in ctx.profile.endpoints]
    prefix = _prefix(documented)
    out: list[str] = []
    for w in _wordlist():
        out += ["/" + w, prefix + w] if prefix != "/" else ["/" + w]
    # a path the tester declared unsafe (a command, a delete) is never approached, not even its parent
    unsafe = {e.path.split("?")[0] for e in ctx.profile.endpoints if not e.safe}
    for path in documented:  # neighbours: the collection above an object, and other versions of the API
        parent = re.sub(r"/\{[^}]+\}$", "", path)
        if parent != path and path not in unsafe:
            out.append(parent)
        m = re.search(r"/v(\d+)/", path)
        if m:
            n = int(m.group(1))
            out += [path[: m.start()] + f"/v{v}/" + path[m.end():] for v in (n - 1, n + 1)
                    if v >= 0 and path not in unsafe]
    known = {e.path.split("?")[0] for e in ctx.profile.endpoints} | {str((ctx.profile.login or {}).get("path", ""))}
    seen: set[str] = set()
    keep = [c for c in out if "{" not in c and c not in known and not (c in seen or seen.add(c))]
    return keep[:limit]


@probe("probes.inventory.undocumented", "No undocumented endpoint answers", "OWASP-API9:2023", "CWE-1059",
       ("R155-A5",), "medium")
def undocumented(ctx: Context, p: Probe) -> list[dict[str, Any]]:
    """An endpoint the profile does not list answers: a forgotten debug, admin or old-version interface.
    Worse when it answers without credentials (critical), or returns credentials or personal data."""
    if not ctx.discover:
        return [result(p, "skipped", {"reason": "discovery is opt-in: run with --discover"})]
    soft = ctx.client.request("GET", f"/probe-{secrets.token_hex(6)}", any_path=True)  # a server that answers anything
    owner = next((o.name for o in ctx.owners()), None)
    found, tried = [], 0
    for path in candidates(ctx, ctx.profile.discover_max):
        ex = ctx.client.request("GET", path, any_path=True)
        tried += 1
        open_to_all = ex.ok
        if ex.status in (401, 403) and owner:
            ex = ctx.client.request("GET", path, any_path=True, **ctx.auth(owner))
            tried += 1
        if not ex.ok or (soft.ok and ex.body == soft.body):
            continue
        data = [f for f in findings(ex.json(), path)] if ex.json() is not None else []
        found.append({"path": path, "without_credentials": open_to_all,
                      "documentation": bool(DOC_PATHS.search(path) or (BENIGN_PATHS.search(path) and not data)),
                      "data": [{k: f[k] for k in ("path", "category", "kind")} for f in data][:10],
                      **ex.evidence(200)})
    real = [f for f in found if not f["documentation"]]
    sev = "critical" if any(f["without_credentials"] and f["data"] for f in real) else \
        "high" if any(f["without_credentials"] for f in real) else "medium"
    # the finding names the endpoints it found, in its title as in its evidence
    where = ", ".join(f"GET {f['path']}" for f in real[:3]) + (f" (+{len(real) - 3})" if len(real) > 3 else "")
    return [result(p, "fail" if real else "pass", {"undocumented": real,
                                                   "expected_answers": [f["path"] for f in found if f["documentation"]]},
                   where, severity=sev, observed={"requests": tried})]
