"""Run a suite of model checks and build the results document (component ``models``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from vehicle_ds.results import check, finish, new_results

from . import attacks, smoothing
from .adapters import Model
from .corruptions import ALEXNET_CLEAN_ERROR, ALEXNET_ERRORS, PARAMS, TEST_CORRUPTIONS, corrupt
from .integrity import abnormal_inputs, verify_signature
from .metrics import certified_accuracy, mce, metamorphic_violations, relative_mce
from .transforms import TRANSFORMS

ROBUST = ["GBT42888"]


@dataclass(frozen=True)
class Suite:
    images: int
    corruptions: tuple[str, ...]
    severities: tuple[int, ...]
    attack_images: int
    attack_budget: int
    hsj_images: int
    smooth_images: int
    smooth_n0: int
    smooth_n: int
    metamorphic_levels: tuple[int, ...]


SUITES = {
    "quick": Suite(40, TEST_CORRUPTIONS, (1, 3, 5), 6, 300, 0, 8, 20, 200, (3, 6)),
    "standard": Suite(200, tuple(PARAMS), (1, 2, 3, 4, 5), 16, 1000, 6, 25, 50, 1000, (2, 4, 6, 8)),
    "full": Suite(1000, tuple(PARAMS), (1, 2, 3, 4, 5), 50, 5000, 20, 100, 100, 10000, tuple(range(1, 11))),
}


@dataclass
class Settings:
    suite: str = "standard"
    seed: int = 0
    eps_linf: float = 8 / 255
    eps_l2: float = 1.0
    sigma: float = 0.25
    alpha: float = 0.001
    tolerance: float = 5.0  # regression: an output off by more than this counts as an error
    lam: float = 4.0  # DeepTest lambda
    time_budget_s: float = 600.0
    query_budget: int = 5_000_000
    expected_sha256: str | None = None
    signature: str | None = None
    public_key: str | None = None
    reference_errors: dict[str, Any] | None = None  # {"clean": e, "errors": {corruption: e or [e1..e5]}}


class Budget:
    def __init__(self, settings: Settings, model: Model) -> None:
        self.t0 = time.monotonic()
        self.s, self.model = settings, model

    def left(self) -> str | None:
        if time.monotonic() - self.t0 > self.s.time_budget_s:
            return f"time budget of {self.s.time_budget_s:.0f}s used up"
        if self.model.queries > self.s.query_budget:
            return f"query budget of {self.s.query_budget} used up"
        return None


def _errors(model: Model, x: np.ndarray, y: np.ndarray, tol: float) -> float:
    pred = model.predict(x)
    if model.task == "classification":
        return float(np.mean(pred != y))
    return float(np.mean(np.abs(pred - y) > tol))


def run(model: Model, x: np.ndarray, y: np.ndarray, settings: Settings, data_info: dict[str, Any],
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    suite = SUITES[settings.suite]
    rng = np.random.default_rng(settings.seed)
    n = min(len(x), suite.images)
    idx = np.sort(rng.choice(len(x), n, replace=False)) if len(x) > n else np.arange(len(x))
    x, y = x[idx], y[idx]
    if model.task == "classification":
        y = y.astype(np.int64)
    budget = Budget(settings, model)
    doc = new_results("models", {"model": model.identity, "data": {**data_info, "evaluated": int(n)},
                                 "task": model.task, "preprocess": model.preprocess.describe()},
                      {k: v for k, v in settings.__dict__.items() if k not in ("signature", "public_key")})
    checks: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"images": int(n)}
    step = progress or (lambda s: None)

    def skipped(cid: str, title: str, why: str) -> None:
        checks.append(check(cid, title, "skipped", "info", ROBUST, {"reason": why}))

    # integrity
    step("integrity")
    ev: dict[str, Any] = {"sha256": model.identity.get("sha256")}
    status = "pass"
    if settings.expected_sha256:
        ev["expected_sha256"] = settings.expected_sha256
        status = "pass" if settings.expected_sha256.lower() == model.identity.get("sha256") else "fail"
    if settings.signature and settings.public_key and model.identity.get("path"):
        ok, why = verify_signature(model.identity["path"], settings.signature, settings.public_key)
        ev["signature"] = why
        status = status if ok else "fail"
    checks.append(check("models.integrity.hash", "The model file is the one expected (hash/signature)", status,
                        "critical" if status == "fail" else "info", ["GBT42888", "R155-A5"], ev))
    probes = abnormal_inputs(model, x[: min(8, n)])
    bad = {k: v for k, v in probes.items() if v.get("raised") or v.get("nan_outputs")}
    checks.append(check("models.input.abnormal", "NaN, Inf and out-of-range inputs neither crash the harness nor "
                        "yield NaN outputs", "warn" if bad else "pass", "medium", ["GBT42888"], {"probes": probes}))

    # clean performance
    step("clean")
    clean_err = _errors(model, x, y, settings.tolerance)
    if model.task == "classification":
        clean_metric = {"accuracy": 1 - clean_err, "error": clean_err}
    else:
        pred = model.predict(x)
        clean_metric = {"mse": float(np.mean((pred - y) ** 2)), "error_rate": clean_err, "tolerance": settings.tolerance}
    summary["clean"] = clean_metric
    checks.append(check("models.clean.performance", "Performance on the clean data", "pass", "info", ROBUST, {},
                        clean_metric))

    # corruptions
    errors: dict[str, list[float]] = {}
    for name in suite.corruptions:
        why = budget.left()
        if why:
            break
        step(f"corruption {name}")
        errors[name] = [_errors(model, corrupt(x, name, s, rng), y, settings.tolerance) for s in suite.severities]
    if errors:
        ref = settings.reference_errors or {}
        ref_errors = ref.get("errors") or ALEXNET_ERRORS
        ref_clean = ref.get("clean", ALEXNET_CLEAN_ERROR)
        full = {k: v for k, v in errors.items() if k in ref_errors}
        m = mce(full, ref_errors) if full else None
        rm = relative_mce(full, clean_err, ref_errors, ref_clean) if full else None
        summary["mce"], summary["relative_mce"] = m, rm
        worst = max(errors, key=lambda k: np.mean(errors[k]))
        degraded = float(np.mean(errors[worst])) - clean_err
        checks.append(check("models.corruption.error", "Error under the ImageNet-C corruptions (error per severity)",
                            "warn" if degraded > 0.3 else "pass", "medium", ROBUST,
                            {"severities": list(suite.severities), "worst": worst, "clean_error": clean_err},
                            {"corruption_error": errors}))
        checks.append(check("models.corruption.mce", "Mean corruption error against the reference model",
                            "warn" if m is not None and m > 100 else "pass", "medium", ROBUST,
                            {"reference": "user-supplied" if settings.reference_errors else
                             "AlexNet constants (ImageNet-like tasks only)",
                             "severities": list(suite.severities)},
                            {"mce": m, "relative_mce": rm}))
    if len(errors) < len(suite.corruptions):
        skipped("models.corruption.remaining", "Remaining corruptions", budget.left() or "budget")

    # metamorphic relations (regression models, DeepTest)
    if model.task == "regression":
        y_orig = model.predict(x)
        for tname, fn in TRANSFORMS.items():
            why = budget.left()
            if why:
                skipped(f"models.metamorphic.{tname}", f"Metamorphic relation under {tname}", why)
                continue
            step(f"metamorphic {tname}")
            per_level = {}
            for level in suite.metamorphic_levels:
                yt = model.predict(fn(x, level, rng))
                per_level[str(level)] = metamorphic_violations(y, y_orig, yt, settings.lam)
            total = sum(per_level.values())
            rate = total / (len(suite.metamorphic_levels) * n)
            checks.append(check(f"models.metamorphic.{tname}",
                                f"DeepTest metamorphic relation under {tname} (violation: error > λ·MSE_orig)",
                                "warn" if rate > 0.1 else "pass", "medium", ROBUST, {"lambda": settings.lam},
                                {"violations_by_level": per_level, "violation_rate": rate}))

    # adversarial (classifiers)
    if model.task == "classification":
        correct = np.flatnonzero(model.predict(x) == y)
        for cid, title, fn, k in (
            ("models.adversarial.square_linf", f"Square Attack L∞ at ε={settings.eps_linf:.4f}",
             lambda xi, yi: attacks.square_linf(model, xi, yi, settings.eps_linf, suite.attack_budget, rng),
             suite.attack_images),
            ("models.adversarial.square_l2", f"Square Attack L2 at ε={settings.eps_l2:.3f}",
             lambda xi, yi: attacks.square_l2(model, xi, yi, settings.eps_l2, suite.attack_budget, rng),
             suite.attack_images),
            ("models.adversarial.hopskipjump", "HopSkipJump (decision-based, L2): minimal perturbation",
             lambda xi, yi: attacks.hopskipjump(model, xi, yi, suite.attack_budget, rng), suite.hsj_images),
        ):
            why = budget.left()
            if k == 0 or why or len(correct) == 0:
                skipped(cid, title, why or "not in this suite" if k == 0 else why or "no correctly classified image")
                continue
            step(cid)
            res = [fn(x[i], int(y[i])) for i in correct[:k]]
            succ = [r for r in res if r.success]
            rate = len(succ) / len(res)
            med_l2 = float(np.median([r.l2 for r in succ])) if succ else None
            med_linf = float(np.median([r.linf for r in succ])) if succ else None
            summary[cid.split(".")[-1] + "_success"] = rate
            bound = cid != "models.adversarial.hopskipjump"
            checks.append(check(cid, title, "warn" if bound and rate > 0.5 else "pass", "medium", ROBUST,
                                {"images": len(res), "budget_per_image": suite.attack_budget},
                                {"success_rate": rate, "median_l2": med_l2, "median_linf": med_linf,
                                 "queries": int(sum(r.queries for r in res)),
                                 "median_queries": float(np.median([r.queries for r in res]))}))
        # certified robustness
        why = budget.left()
        if why:
            skipped("models.certified.accuracy", "Certified robustness (randomized smoothing)", why)
        else:
            step("certify")
            radii, ok = [], []
            for i in range(min(suite.smooth_images, n)):
                c_hat, r = smoothing.certify(model, x[i], settings.sigma, suite.smooth_n0, suite.smooth_n,
                                             settings.alpha, rng)
                radii.append(r)
                ok.append(c_hat == int(y[i]))
            at = [0.0, 0.25, 0.5, 0.75, 1.0]
            acc = certified_accuracy(radii, ok, at)
            summary["certified_accuracy_r0"] = acc[0]
            checks.append(check("models.certified.accuracy",
                                f"Certified accuracy by randomized smoothing (σ={settings.sigma}, n={suite.smooth_n}, "
                                f"α={settings.alpha})", "pass", "info", ROBUST,
                                {"radii": [None if r is None else round(r, 4) for r in radii], "correct": ok},
                                {"certified_accuracy": {"radius": at, "accuracy": acc}}))
    doc["checks"] = checks
    summary.update({"queries": model.queries, "elapsed_s": round(time.monotonic() - budget.t0, 2)})
    return finish(doc, summary)
