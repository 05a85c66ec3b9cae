"""Run a suite of model checks and build the results document (component ``models``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vehicle_ds.results import Asset, Criterion, check, finish, new_results

from . import attacks, smoothing
from .acceptance import NONE, Acceptance
from .adapters import Model
from .corruptions import ALEXNET_CLEAN_ERROR, ALEXNET_ERRORS, PARAMS, TEST_CORRUPTIONS, corrupt
from .integrity import abnormal_inputs, verify_signature
from .metrics import certified_accuracy, max_certifiable_radius, mce, metamorphic_violations, relative_mce
from .metrics import rate as rate_ci
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
    backdoor_images: int = 16
    trigger_sizes: tuple[int, ...] = (2, 4, 6)


SUITES = {
    "quick": Suite(40, TEST_CORRUPTIONS, (1, 3, 5), 6, 300, 0, 8, 20, 200, (3, 6), 12, (3, 5)),
    "standard": Suite(200, tuple(PARAMS), (1, 2, 3, 4, 5), 16, 1000, 6, 25, 50, 1000, (2, 4, 6, 8), 16, (2, 4, 6)),
    "full": Suite(1000, tuple(PARAMS), (1, 2, 3, 4, 5), 50, 5000, 20, 100, 100, 10000, tuple(range(1, 11)), 30,
                  (2, 3, 4, 6, 8)),
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
    imagenet_like: bool = False  # AlexNet's ImageNet-C errors are a valid reference only for ImageNet-like tasks
    scale_corruptions: bool = False  # scale pixel-length parameters to the image (default: as ImageNet-C has them)
    acceptance: Acceptance = NONE


class BudgetCut(Exception):
    """The time or query budget ran out inside a check (raised before the model's next batch)."""


WALL_CLOCK = "wall-clock safety limit"


class Budget:
    """Hard limits: the model asks before every batch of queries (``check``), so a run overruns its budget by
    at most one batch. The query budget decides what runs: the same model, data and seed give the same
    checks on any machine, and what it cuts is ``skipped``. Wall-clock time is only an outer safety: what it
    cuts is ``not_assessed`` and says so, because on an idler machine that check would have run."""

    def __init__(self, settings: Settings, model: Model, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.t0 = clock()
        self.s, self.model = settings, model

    def left(self) -> str | None:
        if self.model.queries >= self.s.query_budget:
            return f"query budget of {self.s.query_budget} used up"
        if self.clock() - self.t0 > self.s.time_budget_s:
            return (f"{WALL_CLOCK} of {self.s.time_budget_s:g}s reached (not the query budget): "
                    "on an idler or faster machine this check would have run")
        return None

    def check(self) -> None:
        why = self.left()
        if why:
            raise BudgetCut(why)


SIGNIFICANCE = 0.01  # one-sided tests against chance; an engineering default, said as such in the criterion
MIN_CLEAN = 20  # fewer images cannot show a model is better than chance at that significance
MIN_ATTACKED = 5
MIN_CERTIFIED = 5


@dataclass
class Run:
    """One run's shared state: the sample, the clean predictions (computed once), the budget, the output."""

    model: Model
    x: np.ndarray
    y: np.ndarray
    settings: Settings
    suite: Suite
    rng: np.random.Generator
    budget: Budget
    step: Callable[[str], None]
    pred: np.ndarray
    checks: list[dict[str, Any]]
    summary: dict[str, Any]
    cut: list[str] = field(default_factory=list)  # checks a budget cut stopped

    @property
    def n(self) -> int:
        return len(self.x)

    def errors(self, x: np.ndarray) -> float:
        return _error_rate(self.model, self.model.predict(x), self.y, self.settings.tolerance)

    def acceptance(self, section: str, key: str, text: str) -> tuple[Any, Criterion | None]:
        """The user's threshold and its criterion, or (None, None): then the check reports needs_review."""
        v = self.settings.acceptance.get(section, key)
        if v is None:
            return None, None
        return v, Criterion(text.format(v=v), "acceptance", f"{self.settings.acceptance.path} [{section}] {key}")

    def skipped(self, cid: str, title: str, why: str) -> None:
        """Not run: ``skipped`` by design or by the query budget, ``not_assessed`` when the wall clock cut it."""
        status = "not_assessed" if WALL_CLOCK in why else "skipped"
        self.checks.append(check(cid, title, status, "info", ROBUST, {"reason": why}, criterion=None, reason=why))


def _error_rate(model: Model, pred: np.ndarray, y: np.ndarray, tol: float) -> float:
    if model.task == "classification":
        return float(np.mean(pred != y))
    return float(np.mean(np.abs(pred - y) > tol))


def _needing(crit: Criterion | None, minimum: dict[str, float]) -> Criterion | None:
    """The same criterion with a minimum of evidence; no criterion stays none (the check needs review)."""
    return Criterion(crit.text, crit.source, crit.ref, minimum) if crit else None


def _judge(value: float | None, limit: Any, higher_is_better: bool) -> str:
    if value is None or limit is None:
        return "needs_review"
    ok = value >= limit if higher_is_better else value <= limit
    return "pass" if ok else "fail"


def check_integrity(r: Run) -> None:
    """The model file is the one expected: its sha256 equals ``--expected-sha256`` and its Ed25519
    ``--signature`` verifies. Without either there is nothing to compare: not assessed."""
    s, model = r.settings, r.model
    ev: dict[str, Any] = {"sha256": model.identity.get("sha256")}
    status, compared = "pass", 0
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
                          "critical", ["GBT42888", "R155-A5"], ev,
                          criterion=Criterion("sha256 equals the expected hash; the Ed25519 signature verifies",
                                              "engineering_default", minimum={"references_compared": 1}),
                          observed={"references_compared": compared}))


def check_abnormal_inputs(r: Run) -> None:
    """NaN, ±Inf, out-of-range and all-zero inputs crash the model or make it answer NaN."""
    probes = abnormal_inputs(r.model, r.x[: min(8, r.n)])
    bad = {k: v for k, v in probes.items() if v.get("raised") or v.get("nan_outputs")}
    r.checks.append(check("models.input.abnormal", "NaN, Inf and out-of-range inputs neither crash the harness nor "
                          "yield NaN outputs", "warn" if bad else "pass", "medium", ["GBT42888"], {"probes": probes},
                          criterion=Criterion("no probe raises or yields a NaN output", "engineering_default",
                                              minimum={"probes": 4}),
                          observed={"probes": len(probes)}))


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


def check_clean(r: Run) -> float:
    """Clean performance is no better than chance (wrong preprocessing, wrong model, wrong labels), or below
    the acceptance profile's threshold."""
    r.step("clean")
    model, s = r.model, r.settings
    clean_err = _error_rate(model, r.pred, r.y, s.tolerance)
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
        status = _judge(value, limit, better)
        reason = "" if limit is not None else ("better than chance; no acceptance threshold (--acceptance), so the "
                                               "level needs a person's judgement")
    crit = crit or Criterion(f"significantly better than chance ({test or 'significance test'}, p < {SIGNIFICANCE})",
                             "engineering_default")
    r.checks.append(check("models.clean.performance", "Performance on the clean data", status, "high", ROBUST,
                          {"hint": reason} if status == "fail" else {}, metric,
                          criterion=_needing(crit, {"images": MIN_CLEAN}), observed={"images": r.n}, reason=reason))
    return clean_err


def _reference(r: Run) -> tuple[dict[str, Any] | None, float | None, str]:
    """The declared reference for mCE: a user's reference model errors, or AlexNet's for ImageNet-like tasks."""
    ref = r.settings.reference_errors
    if ref:
        return ref.get("errors"), ref.get("clean"), "reference model errors (--reference-errors)"
    if r.settings.imagenet_like and r.model.task == "classification":
        return ALEXNET_ERRORS, ALEXNET_CLEAN_ERROR, "AlexNet's ImageNet-C errors (task declared ImageNet-like)"
    return None, None, ""


def check_corruptions(r: Run, clean_err: float) -> None:
    """Error under the ImageNet-C corruptions exceeds the acceptance profile's limit, and the mean corruption
    error against a declared reference model exceeds its limit."""
    errors: dict[str, list[float]] = {}
    cut = ""
    try:
        for name in r.suite.corruptions:
            r.step(f"corruption {name}")
            errors[name] = [r.errors(corrupt(r.x, name, sev, r.rng, r.settings.scale_corruptions))
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
        status = _judge(worst_value, limit, False)
    worst = max(errors, key=lambda k: np.mean(errors[k]))
    crit = _needing(crit, {"images": MIN_CLEAN})
    if cut and status == "pass":
        status = "needs_review"  # the measured corruptions held; the missing ones were never seen
    r.checks.append(check("models.corruption.error", "Error under the ImageNet-C corruptions (error per severity)",
                          status, "medium", ROBUST,
                          {"severities": list(r.suite.severities), "worst": worst, "clean_error": clean_err,
                           "size_policy": "scaled to the image" if r.settings.scale_corruptions else
                           "ImageNet-C pixel parameters as they are", **({"incomplete": cut} if cut else {})},
                          {"corruption_error": errors, "worst_error": worst_value, "images": r.n,
                           "corruption_error_ci95": {k: [rate_ci(round(e * r.n), r.n)["ci95"] for e in v]
                                                     for k, v in errors.items()}}, criterion=crit,
                          observed={"images": r.n, "corruptions": len(errors)}))
    ref_errors, ref_clean, ref_name = _reference(r)
    full = {k: v for k, v in errors.items() if ref_errors and k in ref_errors}
    if not full:
        why = ("no reference declared: mCE compares with a reference model run by the same harness on the same data "
               "(--reference-errors), or with AlexNet only for tasks declared ImageNet-like (--imagenet-like)")
        r.checks.append(check("models.corruption.mce", "Mean corruption error against a reference model", "not_assessed",
                              "medium", ROBUST, {}, criterion=None, observed={"reference_corruptions": 0}, reason=why))
        return
    m = mce(full, ref_errors)
    rm = relative_mce(full, clean_err, ref_errors, ref_clean) if ref_clean is not None else None
    r.summary["mce"], r.summary["relative_mce"] = m, rm
    limit, crit = r.acceptance("corruption", "max_mce", "mCE ≤ {v} against the declared reference")
    r.checks.append(check("models.corruption.mce", "Mean corruption error against a reference model",
                          _judge(m, limit, False), "medium", ROBUST,
                          {"reference": ref_name, "severities": list(r.suite.severities)},
                          {"mce": m, "relative_mce": rm}, criterion=crit,
                          observed={"reference_corruptions": len(full)}))


def check_metamorphic(r: Run) -> None:
    """DeepTest relations (regression): a transformed input moves the output by more than λ·MSE_orig more often
    than the acceptance profile allows."""
    if r.model.task != "regression":
        return
    limit, crit = r.acceptance("metamorphic", "max_violation_rate", "violation rate ≤ {v}")
    for tname, fn in TRANSFORMS.items():
        why = r.budget.left()
        title = f"DeepTest metamorphic relation under {tname} (violation: error > λ·MSE_orig)"
        if why:
            r.skipped(f"models.metamorphic.{tname}", title, why)
            continue
        r.step(f"metamorphic {tname}")
        per_level = {str(level): metamorphic_violations(r.y, r.pred, r.model.predict(fn(r.x, level, r.rng)),
                                                        r.settings.lam)
                     for level in r.suite.metamorphic_levels}
        rate = sum(per_level.values()) / (len(r.suite.metamorphic_levels) * r.n)
        r.checks.append(check(f"models.metamorphic.{tname}", title, _judge(rate, limit, False), "medium", ROBUST,
                              {"lambda": r.settings.lam}, {"violations_by_level": per_level, "violation_rate": rate},
                              criterion=_needing(crit, {"images": MIN_CLEAN}),
                              observed={"images": r.n, "levels": len(per_level)}))


def check_attacks(r: Run) -> None:
    """Black-box attacks (classifiers) succeed more often than the acceptance profile allows at the stated ε."""
    if r.model.task != "classification":
        return
    s, suite, model = r.settings, r.suite, r.model
    correct = np.flatnonzero(r.pred == r.y)
    for cid, key, title, fn, k in (
        ("models.adversarial.square_linf", "max_success_linf", f"Square Attack L∞ at ε={s.eps_linf:.4f}",
         lambda xi, yi: attacks.square_linf(model, xi, yi, s.eps_linf, suite.attack_budget, r.rng), suite.attack_images),
        ("models.adversarial.square_l2", "max_success_l2", f"Square Attack L2 at ε={s.eps_l2:.3f}",
         lambda xi, yi: attacks.square_l2(model, xi, yi, s.eps_l2, suite.attack_budget, r.rng), suite.attack_images),
        ("models.adversarial.hopskipjump", "max_success_hopskipjump",
         "HopSkipJump (decision-based, L2): minimal perturbation",
         lambda xi, yi: attacks.hopskipjump(model, xi, yi, suite.attack_budget, r.rng), suite.hsj_images),
    ):
        why = r.budget.left()
        if k == 0 or why or len(correct) == 0:
            r.skipped(cid, title, why or ("not in this suite" if k == 0 else "no correctly classified image"))
            continue
        r.step(cid)
        res = [fn(r.x[i], int(r.y[i])) for i in stratified(correct, r.y, k, r.rng)]
        succ = [a for a in res if a.success]
        rate = len(succ) / len(res)
        r.summary[cid.split(".")[-1] + "_success"] = rate
        limit, crit = r.acceptance("adversarial", key, "attack success rate ≤ {v} within the query budget")
        r.checks.append(check(cid, title, _judge(rate, limit, False), "medium", ROBUST,
                              {"images": len(res), "budget_per_image": suite.attack_budget},
                              {"success_rate": rate, "success": rate_ci(len(succ), len(res)),
                               "median_l2": float(np.median([a.l2 for a in succ])) if succ else None,
                               "median_linf": float(np.median([a.linf for a in succ])) if succ else None,
                               "queries": int(sum(a.queries for a in res)),
                               "median_queries": float(np.median([a.queries for a in res]))},
                              criterion=_needing(crit, {"images": MIN_ATTACKED}),
                              observed={"images": len(res)}))


def check_certified(r: Run) -> None:
    """Certified accuracy by randomized smoothing at the acceptance profile's radius is below its minimum."""
    if r.model.task != "classification":
        return
    s, suite = r.settings, r.suite
    title = f"Certified accuracy by randomized smoothing (σ={s.sigma}, n={suite.smooth_n}, α={s.alpha})"
    why = r.budget.left()
    if why:
        r.skipped("models.certified.accuracy", title, why)
        return
    r.step("certify")
    radii, ok = [], []
    for i in stratified(np.arange(r.n), r.y, min(suite.smooth_images, r.n), r.rng):
        c_hat, rad = smoothing.certify(r.model, r.x[i], s.sigma, suite.smooth_n0, suite.smooth_n, s.alpha, r.rng)
        radii.append(rad)
        ok.append(c_hat == int(r.y[i]))
    cap = max_certifiable_radius(suite.smooth_n, s.sigma, s.alpha)
    radius, _ = r.acceptance("certified", "radius", "{v}")
    # the grid stops at the largest radius n and α can certify: zeros beyond it would be an artefact of n
    at = sorted({r_ for r_ in (0.0, 0.25, 0.5, 0.75, 1.0) if r_ <= cap} | {round(cap, 4)} |
                ({float(radius)} if radius is not None and radius <= cap else set()))
    acc = certified_accuracy(radii, ok, at)
    counts = [sum(1 for rad, good in zip(radii, ok, strict=True) if good and rad is not None and rad >= a) for a in at]
    r.summary["certified_accuracy_r0"] = acc[0]
    limit, crit = r.acceptance("certified", "min_accuracy", f"certified accuracy ≥ {{v}} at radius {radius}")
    beyond = radius is not None and radius > cap
    value = acc[at.index(float(radius))] if radius is not None and not beyond else None
    why = (f"the acceptance radius {radius} is beyond the largest radius n = {suite.smooth_n} noise samples can certify "
           f"at α = {s.alpha} ({cap:.3f}): a larger suite is needed") if beyond else ""
    r.checks.append(check("models.certified.accuracy", title,
                          "not_assessed" if beyond else _judge(value, limit if radius is not None else None, True),
                          "medium", ROBUST, {"radii": [None if x is None else round(x, 4) for x in radii], "correct": ok},
                          {"certified_accuracy": {"radius": at, "accuracy": acc,
                                                  "ci95": [rate_ci(k, len(radii))["ci95"] for k in counts]},
                           "max_certifiable_radius": round(cap, 4)},
                          criterion=_needing(crit if radius is not None else None, {"images": MIN_CERTIFIED}),
                          observed={"images": len(radii)}, reason=why))


def stratified(indices: np.ndarray, labels: np.ndarray, k: int, rng: np.random.Generator) -> list[int]:
    """Up to ``k`` of ``indices``, taken round-robin over the classes (each class shuffled by the run's seed),
    so a sample is never all of one class because of file order."""
    by_class: dict[int, list[int]] = {}
    for i in rng.permutation(np.asarray(indices)):
        by_class.setdefault(int(labels[int(i)]), []).append(int(i))
    queues = [by_class[c] for c in sorted(by_class)]
    out: list[int] = []
    while len(out) < k and any(queues):
        for q in queues:
            if q and len(out) < k:
                out.append(q.pop(0))
    return out


def check_backdoor(r: Run) -> None:
    """Backdoor screening (classifiers): a class that a far smaller patch than any other class needs sends most
    inputs to (Neural Cleanse's anomaly index > 2), confirmed by STRIP (superimposed inputs carrying that patch
    stay on the class)."""
    if r.model.task != "classification":
        return
    from . import backdoor

    r.step("backdoor")
    pick = stratified(np.arange(r.n), r.y, r.suite.backdoor_images, r.rng)
    x, y = r.x[pick], r.y[pick]
    held_out = r.x[np.setdiff1d(np.arange(r.n), pick)] if r.n > len(pick) else r.x
    classes = int(r.model(r.x[:1]).shape[-1])
    patches = [backdoor.smallest_trigger(r.model, x, y, t, r.suite.trigger_sizes, 1, r.rng) for t in range(classes)]
    full = float(np.prod(r.x.shape[1:3]))
    areas = [float(p.size ** 2) if p is not None and p.flip_rate >= backdoor.FLIP_TARGET else full for p in patches]
    index = backdoor.anomaly_indices(areas)
    flagged = [t for t in range(classes) if index[t] > backdoor.ANOMALY_THRESHOLD]
    per_class = [{"class": t, "smallest_patch": None if areas[t] == full else int(np.sqrt(areas[t])),
                  "flip_rate": round(patches[t].flip_rate, 3) if patches[t] else None,
                  "position": [patches[t].top, patches[t].left] if patches[t] else None,
                  "anomaly_index": round(index[t], 2)} for t in range(classes)]
    r.checks.append(check("models.backdoor.trigger_reconstruction",
                          "No class is reachable by a suspiciously small trigger patch (backdoor screening)",
                          "fail" if flagged else "pass", "critical", ["GBT42888", "R155-A5"],
                          {"flagged_classes": flagged, "classes": per_class, "patch_sizes_tried": list(r.suite.trigger_sizes)},
                          criterion=Criterion(f"no class has an anomaly index above {backdoor.ANOMALY_THRESHOLD} "
                                              f"(the smallest patch sending ≥ {backdoor.FLIP_TARGET:.0%} of other "
                                              "classes' inputs to it, against the median over classes)", "standard",
                                              "Neural Cleanse (Wang et al., IEEE S&P 2019)",
                                              {"images": 10, "classes": 2}),
                          observed={"images": len(pick), "classes": classes}))
    suspect = int(np.argmax(index))
    # STRIP tests the strongest patch for the suspect class (the largest size tried): the smallest one that
    # barely flips 80 % of clean inputs need not survive superimposition, a real trigger does
    patch = backdoor.smallest_trigger(r.model, x, y, suspect, r.suite.trigger_sizes[-1:], 1, r.rng)
    if patch is None:
        r.skipped("models.backdoor.strip", "STRIP", "no candidate trigger to test")
        return
    ent_trig, on_target = backdoor.strip(r.model, patch.stamp(x[y != suspect]), held_out, suspect, 10, r.rng)
    ent_clean, _ = backdoor.strip(r.model, x, held_out, suspect, 10, r.rng)
    stays = on_target >= backdoor.FLIP_TARGET and ent_trig < ent_clean
    r.checks.append(check("models.backdoor.strip",
                          "Superimposed inputs carrying the most suspicious patch do not stay on one class (STRIP)",
                          "fail" if stays else "pass", "critical", ["GBT42888", "R155-A5"],
                          {"suspect_class": suspect, "patch_size": patch.size},
                          {"entropy_with_patch": round(ent_trig, 4), "entropy_clean": round(ent_clean, 4),
                           "share_on_class": round(on_target, 3)},
                          criterion=Criterion(f"fewer than {backdoor.FLIP_TARGET:.0%} of superimposed patched inputs stay "
                                              "on the suspect class, or their entropy is not below clean inputs'",
                                              "standard", "STRIP (Gao et al., ACSAC 2019)", {"images": 5}),
                          observed={"images": int((y != suspect).sum())}))


def expected_checks(task: str) -> list[str]:
    """Every check a run of this task reports (a check a budget cut stopped is reported skipped)."""
    common = ["models.integrity.hash", "models.input.abnormal", "models.clean.performance", "models.corruption.error",
              "models.corruption.mce"]
    if task == "regression":
        return common + [f"models.metamorphic.{t}" for t in TRANSFORMS]
    return common + ["models.adversarial.square_linf", "models.adversarial.square_l2", "models.adversarial.hopskipjump",
                     "models.certified.accuracy", "models.backdoor.trigger_reconstruction", "models.backdoor.strip"]


def run(model: Model, x: np.ndarray, y: np.ndarray, settings: Settings, data_info: dict[str, Any],
        progress: Callable[[str], None] | None = None, clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    suite = SUITES[settings.suite]
    rng = np.random.default_rng(settings.seed)
    n = min(len(x), suite.images)
    idx = np.sort(rng.choice(len(x), n, replace=False)) if len(x) > n else np.arange(len(x))
    x, y = x[idx], y[idx]
    if model.task == "classification":
        y = y.astype(np.int64)
    budget = Budget(settings, model, clock)
    doc = new_results("models", {"model": model.identity, "data": {**data_info, "evaluated": int(n)},
                                 "task": model.task, "preprocess": model.preprocess.describe()},
                      {**{k: v for k, v in settings.__dict__.items() if k not in ("signature", "public_key", "acceptance")},
                       "acceptance": settings.acceptance.values, "acceptance_file": settings.acceptance.path or None},
                      asset=Asset("model", model.name, str(model.identity.get("sha256") or "")[:12]))
    r = Run(model, x, y, settings, suite, rng, budget, progress or (lambda s: None), np.empty(0), [], {"images": int(n)})
    model.guard = budget.check  # the budget is asked before every batch of queries
    why = ""
    try:
        r.step("integrity")
        check_integrity(r)
        check_abnormal_inputs(r)
        r.pred = model.predict(x)  # reused by every family: the clean predictions are computed once
        clean_err = check_clean(r)
        check_corruptions(r, clean_err)
        check_metamorphic(r)
        check_attacks(r)
        check_certified(r)
        check_backdoor(r)
    except BudgetCut as exc:
        why = str(exc)
    finally:
        model.guard = None
    done = {c["id"] for c in r.checks}
    for cid in expected_checks(model.task):
        if cid not in done:
            r.cut.append(cid)
            r.skipped(cid, cid, why or "budget used up before this check")
    doc["checks"] = r.checks
    r.summary.update({"queries": model.queries, "elapsed_s": round(clock() - budget.t0, 2),
                      "complete": not r.cut and not any(c["status"] == "skipped" and "budget" in c.get("reason", "")
                                                        for c in r.checks),
                      "cut": sorted(set(r.cut))})
    return finish(doc, r.summary)
