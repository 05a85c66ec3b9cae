"""Clean performance: better than chance, and at the acceptance profile's level."""

from __future__ import annotations

from typing import Any

import numpy as np

from vehicle_ds.results import Criterion, check

from ..metrics import rate as rate_ci
from ..suite import MIN_CLEAN, ROBUST, SIGNIFICANCE, Run, error_rate, judge, needing
from .registry import family


def _chance(r: Run) -> float:
    """Accuracy a model reaches without looking: the larger of 1/classes and the majority class's share."""
    raw = r.model(r.x[:1])
    k = int(raw.shape[-1]) if raw.ndim > 1 and raw.shape[-1] > 1 else len(np.unique(r.y))
    majority = float(np.bincount(r.y).max() / r.n) if r.n else 0.0
    return max(1.0 / max(k, 1), majority)


def _significance(r: Run, clean_err: float) -> tuple[float, float, str]:
    """(p-value, chance level, test) of 'the model is better than chance' on the clean sample."""
    from scipy import stats

    if r.model.task == "classification":
        p0 = _chance(r)
        correct = int(np.sum(r.pred == r.y))
        return float(stats.binomtest(correct, r.n, p0, alternative="greater").pvalue), p0, "one-sided binomial test"
    se_model = (r.pred - r.y) ** 2
    se_mean = (float(np.mean(r.y)) - r.y) ** 2
    diff = se_model - se_mean
    if not np.any(diff):
        return 1.0, float(np.mean(se_mean)), "Wilcoxon signed-rank test against predicting the mean"
    p = float(stats.wilcoxon(diff, alternative="less").pvalue)
    return p, float(np.mean(se_mean)), "Wilcoxon signed-rank test against predicting the mean"


@family("models.clean.performance")
def check_clean(r: Run) -> None:
    """Clean performance is no better than chance (wrong preprocessing, wrong model, wrong labels), or below
    the acceptance profile's threshold."""
    r.step("clean")
    model, s = r.model, r.settings
    r.pred = model.predict(r.x)  # reused by every later family: the clean predictions are computed once
    clean_err = error_rate(model, r.pred, r.y, s.tolerance)
    if model.task == "classification":
        metric: dict[str, Any] = {"accuracy": 1 - clean_err, "error": clean_err,
                                  "correct": rate_ci(int(np.sum(r.pred == r.y)), r.n)}
        limit, crit = r.acceptance("clean", "min_accuracy", "accuracy ≥ {v}")
        value, better = 1 - clean_err, True
    else:
        metric = {"mse": float(np.mean((r.pred - r.y) ** 2)), "error_rate": clean_err, "tolerance": s.tolerance,
                  "errors": rate_ci(int(np.sum(np.abs(r.pred - r.y) > s.tolerance)), r.n)}
        limit, crit = r.acceptance("clean", "max_error_rate", "error rate (|error| > tolerance) ≤ {v}")
        value, better = clean_err, False
    p, chance, test = _significance(r, clean_err) if r.n >= MIN_CLEAN else (1.0, None, "")
    metric.update({"images": r.n, "chance": chance, "p_value_vs_chance": p})
    r.summary["clean"] = metric
    if r.n >= MIN_CLEAN and p >= SIGNIFICANCE:
        status = "fail"
        reason = (f"not significantly better than chance ({test}, p = {p:.3g} ≥ {SIGNIFICANCE}): the declared "
                  "preprocessing (--size, --scale, --mean/--std, --channels, --layout) is probably wrong")
    else:
        status = judge(value, limit, better)
        reason = "" if limit is not None else ("better than chance; no acceptance threshold (--acceptance), so the "
                                               "level needs a person's judgement")
    crit = crit or Criterion(f"significantly better than chance ({test or 'significance test'}, p < {SIGNIFICANCE})",
                             "engineering_default")
    r.checks.append(check("models.clean.performance", "Performance on the clean data", status, "high", ROBUST,
                          evidence={"hint": reason} if status == "fail" else {}, metrics=metric,
                          criterion=needing(crit, {"images": MIN_CLEAN}), observed={"images": r.n}, reason=reason))
    r.clean_error = clean_err
