"""Error under the ImageNet-C corruptions, and the mean corruption error against a declared reference."""

from __future__ import annotations

from typing import Any

import numpy as np

from vehicle_ds.results import check

from ..corruptions import ALEXNET_CLEAN_ERROR, ALEXNET_ERRORS, corrupt
from ..metrics import mce, relative_mce
from ..metrics import rate as rate_ci
from ..suite import MIN_CLEAN, ROBUST, BudgetCut, Run, error_rate, judge, needing
from .registry import family


def _reference(r: Run) -> tuple[dict[str, Any] | None, float | None, str]:
    """The declared reference for mCE: a user's reference model errors, or AlexNet's for ImageNet-like tasks."""
    ref = r.settings.reference_errors
    if ref:
        return ref.get("errors"), ref.get("clean"), "reference model errors (--reference-errors)"
    if r.settings.imagenet_like and r.model.task == "classification":
        return ALEXNET_ERRORS, ALEXNET_CLEAN_ERROR, "AlexNet's ImageNet-C errors (task declared ImageNet-like)"
    return None, None, ""


@family("models.corruption.error", "models.corruption.mce")
def check_corruptions(r: Run) -> None:
    """Error under the ImageNet-C corruptions exceeds the acceptance profile's limit, and the mean corruption
    error against a declared reference model exceeds its limit."""
    idx = r.corruption_subset()
    xs, ys, k = r.x[idx], r.y[idx], len(idx)
    clean_err = r.clean_error if k == r.n else error_rate(r.model, r.pred[idx], ys, r.settings.tolerance)
    errors: dict[str, list[float]] = {}
    cut = ""
    try:
        for name in r.suite.corruptions:
            r.step(f"corruption {name}")
            errors[name] = [r.errors(corrupt(xs, name, sev, r.rng, r.settings.scale_corruptions), ys)
                            for sev in r.suite.severities]
    except BudgetCut as exc:  # keep what was measured; the check says what is missing
        cut = f"{exc}: {len(errors)} of {len(r.suite.corruptions)} corruptions measured"
        r.cut.append("models.corruption.error")
    if not errors:
        r.skipped("models.corruption.error", "Error under the ImageNet-C corruptions", cut or "budget")
        return
    limit, crit = r.acceptance("corruption", "max_error", "error ≤ {v} for every corruption and severity")
    worst_value = max(max(v) for v in errors.values())
    if isinstance(limit, list):
        over = [f"{c}@{sev}" for c, v in errors.items() for sev, e in zip(r.suite.severities, v, strict=True)
                if sev - 1 < len(limit) and e > limit[sev - 1]]
        status = "fail" if over else "pass"
    else:
        status = judge(worst_value, limit, False)
    worst = max(errors, key=lambda k: np.mean(errors[k]))
    crit = needing(crit, {"images": MIN_CLEAN})
    if cut and status == "pass":
        status = "needs_review"  # the measured corruptions held; the missing ones were never seen
    r.checks.append(check("models.corruption.error", "Error under the ImageNet-C corruptions (error per severity)",
                          status, "medium", ROBUST,
                          evidence={"severities": list(r.suite.severities), "worst": worst, "clean_error": clean_err,
                           "size_policy": "scaled to the image" if r.settings.scale_corruptions else
                           "ImageNet-C pixel parameters as they are", **({"incomplete": cut} if cut else {})},
                          metrics={"corruption_error": errors, "worst_error": worst_value, "images": k,
                           "corruption_error_ci95": {c: [rate_ci(round(e * k), k)["ci95"] for e in v]
                                                     for c, v in errors.items()}}, criterion=crit,
                          observed={"images": k, "corruptions": len(errors)}))
    ref_errors, ref_clean, ref_name = _reference(r)
    full = {k: v for k, v in errors.items() if ref_errors and k in ref_errors}
    if not full:
        why = ("no reference declared: mCE compares with a reference model run by the same harness on the same data "
               "(--reference-errors), or with AlexNet only for tasks declared ImageNet-like (--imagenet-like)")
        r.checks.append(check("models.corruption.mce", "Mean corruption error against a reference model", "not_assessed",
                              "medium", ROBUST, evidence={}, criterion=None, observed={"reference_corruptions": 0}, reason=why))
        return
    m = mce(full, ref_errors)
    rm = relative_mce(full, clean_err, ref_errors, ref_clean) if ref_clean is not None else None
    r.summary["mce"], r.summary["relative_mce"] = m, rm
    limit, crit = r.acceptance("corruption", "max_mce", "mCE ≤ {v} against the declared reference")
    r.checks.append(check("models.corruption.mce", "Mean corruption error against a reference model",
                          judge(m, limit, False), "medium", ROBUST,
                          evidence={"reference": ref_name, "severities": list(r.suite.severities)},
                          metrics={"mce": m, "relative_mce": rm}, criterion=crit,
                          observed={"reference_corruptions": len(full)}))
