"""What a model-check run shares: the suite sizes, the settings, the budget and the run's state, plus the
judging helpers every family uses."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vehicle_ds.results import Criterion, check
from vehicle_ds.vocabulary import Status

from .acceptance import NONE, Acceptance
from .adapters import Model
from .corruptions import PARAMS, TEST_CORRUPTIONS

ROBUST = ["GBT42888"]
SIGNIFICANCE = 0.01  # one-sided tests against chance; an engineering default, said as such in the criterion
MIN_CLEAN = 20  # fewer images cannot show a model is better than chance at that significance
MIN_ATTACKED = 5
MIN_CERTIFIED = 5


@dataclass(frozen=True)
class Suite:
    """How much of each family a suite runs."""

    images: int
    corruptions: tuple[str, ...]
    severities: tuple[int, ...]
    attack_images: int
    attack_budget: int  # queries per attacked image
    hsj_images: int
    smooth_images: int
    smooth_n0: int  # randomized smoothing: samples to pick the class
    smooth_n: int  # ... and to certify it
    metamorphic_levels: tuple[int, ...]
    backdoor_images: int = 16
    trigger_sizes: tuple[int, ...] = (2, 4, 6)
    detection_attack_images: int = 5  # detectors: images attacked (vanishing, box shift) ...
    detection_attack_budget: int = 300  # ... and queries per image
    corruption_images: int | None = None  # of the sample, measured under corruption (None: all; set by a plan)


SUITES = {
    "quick": Suite(images=40, corruptions=TEST_CORRUPTIONS, severities=(1, 3, 5), attack_images=6,
                   attack_budget=300, hsj_images=0, smooth_images=8, smooth_n0=20, smooth_n=200,
                   metamorphic_levels=(3, 6), backdoor_images=12, trigger_sizes=(3, 5),
                   detection_attack_images=2, detection_attack_budget=100),
    "standard": Suite(images=200, corruptions=tuple(PARAMS), severities=(1, 2, 3, 4, 5), attack_images=16,
                      attack_budget=1000, hsj_images=6, smooth_images=25, smooth_n0=50, smooth_n=1000,
                      metamorphic_levels=(2, 4, 6, 8), backdoor_images=16, trigger_sizes=(2, 4, 6),
                      detection_attack_images=5, detection_attack_budget=300),
    "full": Suite(images=1000, corruptions=tuple(PARAMS), severities=(1, 2, 3, 4, 5), attack_images=50,
                  attack_budget=5000, hsj_images=20, smooth_images=100, smooth_n0=100, smooth_n=10000,
                  metamorphic_levels=tuple(range(1, 11)), backdoor_images=30, trigger_sizes=(2, 3, 4, 6, 8),
                  detection_attack_images=16, detection_attack_budget=1000),
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
    plan: bool = False  # scale sample sizes to the budget after the clean pass (model_checks/plan.py; the CLI's default)


class BudgetCut(Exception):
    """The time or query budget ran out inside a check (raised before the model's next batch); caught by the
    runner, never shown to a user."""


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


def error_rate(model: Model, pred: np.ndarray, y: np.ndarray, tol: float) -> float:
    """Share of wrong answers: a different class, or a regression output off by more than ``tol``."""
    if model.task == "classification":
        return float(np.mean(pred != y))
    return float(np.mean(np.abs(pred - y) > tol))


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
    clean_error: float | None = None  # set by the clean family, read by the corruption family
    clean_detections: list[Any] = field(default_factory=list)  # detectors: the clean detections, computed once

    @property
    def n(self) -> int:
        return len(self.x)

    def errors(self, x: np.ndarray, y: np.ndarray | None = None) -> float:
        return error_rate(self.model, self.model.predict(x), self.y if y is None else y, self.settings.tolerance)

    def corruption_subset(self) -> np.ndarray:
        """The sample's images measured under corruption: all of them, or (a plan shrank the suite) a seeded
        subset of the planned size, so a subset is never the first files of one class."""
        k = min(self.n, self.suite.corruption_images or self.n)
        if k >= self.n:
            return np.arange(self.n)
        return np.sort(self.rng.permutation(self.n)[:k])

    def acceptance(self, section: str, key: str, text: str) -> tuple[Any, Criterion | None]:
        """The user's threshold and its criterion, or (None, None): then the check reports needs_review."""
        v = self.settings.acceptance.get(section, key)
        if v is None:
            return None, None
        return v, Criterion(text.format(v=v), "acceptance", f"{self.settings.acceptance.path} [{section}] {key}")

    def skipped(self, cid: str, title: str, why: str) -> None:
        """Not run: ``skipped`` by design or by the query budget, ``not_assessed`` when the wall clock cut it."""
        status: Status = "not_assessed" if WALL_CLOCK in why else "skipped"
        self.checks.append(check(cid, title, status, "info", ROBUST, evidence={"reason": why}, criterion=None, reason=why))


def needing(crit: Criterion | None, minimum: dict[str, float]) -> Criterion | None:
    """The same criterion with a minimum of evidence; no criterion stays none (the check needs review)."""
    return Criterion(crit.text, crit.source, crit.ref, minimum) if crit else None


def judge(value: float | None, limit: Any, higher_is_better: bool) -> Status:
    """pass/fail against the user's limit; needs_review when there is no limit or no value."""
    if value is None or limit is None:
        return "needs_review"
    ok = value >= limit if higher_is_better else value <= limit
    return "pass" if ok else "fail"


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
