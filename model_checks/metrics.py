"""Robustness metrics with their definitions (ImageNet-C, DeepTest, randomized smoothing)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

from .corruptions import ALEXNET_CLEAN_ERROR, ALEXNET_ERRORS


def corruption_error(errors: Sequence[float], reference: Sequence[float] | float) -> float:
    """CE_c = mean_s E_{s,c} / mean_s E^ref_{s,c} (the reference given per severity or as its mean)."""
    ref = float(np.mean(reference))
    return float(np.mean(errors)) / ref


def mce(errors: Mapping[str, Sequence[float]], reference: Mapping[str, Sequence[float] | float] | None = None) -> float:
    """mCE = 100 * mean_c CE_c over the corruptions that have a reference (AlexNet's by default)."""
    reference = reference or ALEXNET_ERRORS
    names = [c for c in errors if c in reference]
    if not names:
        raise ValueError("no corruption with a reference error")
    return 100.0 * float(np.mean([corruption_error(errors[c], reference[c]) for c in names]))


def relative_mce(errors: Mapping[str, Sequence[float]], clean_error: float,
                 reference: Mapping[str, Sequence[float] | float] | None = None,
                 reference_clean: float | None = None) -> float:
    """relative CE_c = (mean_s E_{s,c} - E_clean) / (mean_s E^ref_{s,c} - E^ref_clean); in %."""
    reference = reference or ALEXNET_ERRORS
    ref_clean = ALEXNET_CLEAN_ERROR if reference_clean is None else reference_clean
    names = [c for c in errors if c in reference]
    vals = [(float(np.mean(errors[c])) - clean_error) / (float(np.mean(reference[c])) - ref_clean) for c in names]
    return 100.0 * float(np.mean(vals))


def metamorphic_violations(y_true: np.ndarray, y_orig: np.ndarray, y_transformed: np.ndarray, lam: float) -> int:
    """DeepTest: a transformed input violates when (y - y_t)^2 > lambda * MSE_orig."""
    mse_orig = float(np.mean((y_true - y_orig) ** 2))
    return int(np.sum((y_true - y_transformed) ** 2 > lam * mse_orig))


def clopper_pearson_lower(n_a: int, n: int, alpha: float) -> float:
    """One-sided (1 - alpha) lower confidence bound of a binomial proportion: Beta^-1(alpha; n_A, n - n_A + 1)."""
    if n_a <= 0:
        return 0.0
    return float(stats.beta.ppf(alpha, n_a, n - n_a + 1))


def certified_radius(n_a: int, n: int, sigma: float, alpha: float) -> float | None:
    """Cohen et al.'s CERTIFY radius sigma * Phi^-1(p_A lower bound); None means abstain (bound < 1/2)."""
    p = clopper_pearson_lower(n_a, n, alpha)
    if p < 0.5:
        return None
    return float(sigma * stats.norm.ppf(p))


def predict_pvalue(n1: int, n2: int) -> float:
    """PREDICT's two-sided binomial test of the top count against 1/2 (SciPy's ``binomtest``)."""
    return float(stats.binomtest(n1, n1 + n2, 0.5).pvalue)


def certified_accuracy(radii: Sequence[float | None], correct: Sequence[bool], at: Sequence[float]) -> list[float]:
    """Fraction of points certified correct with radius >= r, for each r."""
    n = len(radii)
    return [sum(1 for rad, ok in zip(radii, correct, strict=True) if ok and rad is not None and rad >= r) / n
            for r in at] if n else [0.0 for _ in at]


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float] | None:
    """Wilson score interval of a proportion k/n (95 % by default); None for n = 0."""
    if n <= 0:
        return None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def rate(k: int, n: int) -> dict[str, object]:
    """A rate with its counts and Wilson 95 % interval, as every rate in the results is reported."""
    ci = wilson(k, n)
    return {"rate": k / n if n else None, "k": int(k), "n": int(n), "ci95": [round(ci[0], 4), round(ci[1], 4)] if ci else None}


def max_certifiable_radius(n: int, sigma: float, alpha: float) -> float:
    """The largest radius CERTIFY can return with n noise samples: every sample on the top class gives the
    Clopper-Pearson lower bound alpha^(1/n), so no radius above sigma * Phi^-1(alpha^(1/n)) is certifiable."""
    return float(sigma * stats.norm.ppf(alpha ** (1.0 / n)))
