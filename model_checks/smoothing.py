"""Randomized smoothing (Cohen, Rosenfeld & Kolter, ICML 2019): CERTIFY and PREDICT for a
classifier, with Gaussian noise in pixel space and Clopper-Pearson bounds (scipy.stats.beta)."""

from __future__ import annotations

import numpy as np

from .adapters import Model
from .metrics import certified_radius, predict_pvalue


def _counts(model: Model, x: np.ndarray, sigma: float, n: int, rng: np.random.Generator, batch: int = 256) -> np.ndarray:
    counts = np.zeros(0, dtype=np.int64)
    remaining = n
    while remaining > 0:
        k = min(batch, remaining)
        out = model(x[None] + rng.normal(0.0, sigma, (k, *x.shape)))
        if counts.shape[0] < out.shape[1]:
            counts = np.pad(counts, (0, out.shape[1] - counts.shape[0]))
        counts += np.bincount(out.argmax(1), minlength=counts.shape[0])
        remaining -= k
    return counts


def certify(model: Model, x: np.ndarray, sigma: float, n0: int, n: int, alpha: float,
            rng: np.random.Generator) -> tuple[int | None, float | None]:
    """(class, radius) or (None, None) when abstaining."""
    c_hat = int(np.argmax(_counts(model, x, sigma, n0, rng)))
    counts = _counts(model, x, sigma, n, rng)
    radius = certified_radius(int(counts[c_hat]), n, sigma, alpha)
    return (c_hat, radius) if radius is not None else (None, None)


def predict(model: Model, x: np.ndarray, sigma: float, n: int, alpha: float, rng: np.random.Generator) -> int | None:
    counts = _counts(model, x, sigma, n, rng)
    top2 = np.argsort(counts)[::-1][:2]
    n1, n2 = int(counts[top2[0]]), int(counts[top2[1]]) if len(top2) > 1 else 0
    return int(top2[0]) if predict_pvalue(n1, n2) <= alpha else None
