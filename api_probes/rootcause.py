"""Findings that follow from one cause are one finding: a server that does not verify signatures at all
also "accepts" alg none, a kid from /dev/null, an embedded jwk and a psychic signature. The variants keep
their status (each did fail) but are folded into their root, which lists them; the summary counts roots."""

from __future__ import annotations

from typing import Any

# root check -> the checks whose failure it explains
EXPLAINS: dict[str, tuple[str, ...]] = {
    "probes.jwt.signature_not_verified": (
        "probes.jwt.alg_none", "probes.jwt.claims_tampered", "probes.jwt.key_confusion", "probes.jwt.embedded_jwk",
        "probes.jwt.jku_x5u", "probes.jwt.kid_injection", "probes.jwt.psychic_signature"),
    "probes.jwt.expired": ("probes.jwt.not_yet_valid",),
    # a foreign audience or issuer signed with the cracked key: the key is the cause a tester fixes first
    "probes.jwt.weak_secret": ("probes.jwt.wrong_audience",),
}


def fold(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark every failed variant of a failed root with ``folded_into`` and list the variants on the root."""
    failed = {c["id"]: c for c in checks if c["status"] == "fail"}
    for root, variants in EXPLAINS.items():
        if root not in failed:
            continue
        folded = sorted({c["id"] for c in checks if c["id"] in variants and c["status"] in ("fail", "needs_review")})
        for c in checks:
            if c["id"] in folded:
                c["folded_into"] = root
        if folded:
            failed[root]["variants"] = folded
    return checks


def findings(checks: list[dict[str, Any]]) -> int:
    """Failed checks that are not the variant of another failure: one per root cause."""
    return sum(1 for c in checks if c["status"] == "fail" and "folded_into" not in c)
