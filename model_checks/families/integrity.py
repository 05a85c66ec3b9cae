"""The model file is the one expected, and abnormal inputs neither crash it nor make it answer NaN."""

from __future__ import annotations

from typing import Any

from vehicle_ds.results import Criterion, check
from vehicle_ds.vocabulary import Status

from ..integrity import abnormal_inputs, verify_signature
from ..suite import ROBUST, Run
from .registry import family


@family("models.integrity.hash", tasks=("classification", "regression", "detection"))
def check_integrity(r: Run) -> None:
    """The model file is the one expected: its sha256 equals ``--expected-sha256`` and its Ed25519
    ``--signature`` verifies. Without either there is nothing to compare: the criterion's minimum of one
    reference keeps the check from passing."""
    r.step("integrity")
    s, model = r.settings, r.model
    ev: dict[str, Any] = {"sha256": model.identity.get("sha256")}
    status: Status = "pass"
    compared = 0
    if s.expected_sha256:
        compared += 1
        ev["expected_sha256"] = s.expected_sha256
        status = "pass" if s.expected_sha256.lower() == model.identity.get("sha256") else "fail"
    if s.signature and s.public_key and model.identity.get("path"):
        compared += 1
        ok, why = verify_signature(model.identity["path"], s.signature, s.public_key)
        ev["signature"] = why
        status = status if ok else "fail"
    r.checks.append(check("models.integrity.hash", "The model file is the one expected (hash/signature)", status,
                          "critical", ["GBT42888", "R155-A5"], evidence=ev,
                          criterion=Criterion("sha256 equals the expected hash; the Ed25519 signature verifies",
                                              "engineering_default", minimum={"references_compared": 1}),
                          observed={"references_compared": compared}))


@family("models.input.abnormal", tasks=("classification", "regression", "detection"))
def check_abnormal_inputs(r: Run) -> None:
    """NaN, ±Inf, out-of-range and all-zero inputs crash the model or make it answer NaN."""
    probes = abnormal_inputs(r.model, r.x[: min(8, r.n)])
    bad = {k: v for k, v in probes.items() if v.get("raised") or v.get("nan_outputs")}
    r.checks.append(check("models.input.abnormal", "NaN, Inf and out-of-range inputs neither crash the harness nor "
                          "yield NaN outputs", "warn" if bad else "pass", "medium", ROBUST, evidence={"probes": probes},
                          criterion=Criterion("no probe raises or yields a NaN output", "engineering_default",
                                              minimum={"probes": 4}),
                          observed={"probes": len(probes)}))
