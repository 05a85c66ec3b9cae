"""Black-box adversarial robustness in pixel space, seeded and within a query budget.

* Square Attack (Andriushchenko et al., ECCV 2020), score-based, L-inf and L2, on the margin loss.
  Non-square images: the square's side is clamped to min(H, W) - 1 (ART crashes there, its #1244).
* HopSkipJump (Chen, Jordan & Wainwright, 2020), decision-based, L2: binary search to the boundary,
  Monte-Carlo gradient-direction estimate, geometric step search.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .adapters import Model


@dataclass
class AttackResult:
    success: bool
    queries: int
    linf: float | None
    l2: float | None


def _margin(model: Model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Margin of the true class over the best other class, on log-probabilities; < 0 = misclassified."""
    p = np.log(np.clip(model.scores(x), 1e-12, 1.0))
    true = p[np.arange(len(y)), y]
    p[np.arange(len(y)), y] = -np.inf
    return true - p.max(1)


def _p_schedule(p_init: float, i: int, n_iters: int) -> float:
    i = int(i / n_iters * 10000)
    for bound, div in ((10, 1), (50, 2), (200, 4), (500, 8), (1000, 16), (2000, 32), (4000, 64), (6000, 128),
                       (8000, 256)):
        if i <= bound:
            return p_init / div
    return p_init / 512


def square_linf(model: Model, x: np.ndarray, y: int, eps: float, budget: int, rng: np.random.Generator,
                p_init: float = 0.05) -> AttackResult:
    yy = np.array([y])
    start = model.queries
    best, loss = square_search(lambda c: float(_margin(model, c[None], yy)[0]), x, eps, budget, rng,
                               lambda: model.queries - start, p_init)
    return _result(model.queries - start, best - x, loss <= 0)


def square_search(loss_of: Callable[[np.ndarray], float], x: np.ndarray, eps: float, budget: int,
                  rng: np.random.Generator, used: Callable[[], int], p_init: float = 0.05) -> tuple[np.ndarray, float]:
    """The L∞ Square Attack's random search on any loss (success when it reaches ≤ 0): vertical-stripe start,
    then squares of ±ε with the paper's size schedule, kept only when they lower the loss. One query per step;
    ``used`` says how many the attack has spent. Returns the best image and its loss."""
    h, w, c = x.shape
    delta = eps * rng.choice([-1.0, 1.0], size=(1, w, c))  # vertical stripes init, as in the paper
    best = np.clip(x + delta, 0, 1)
    loss = loss_of(best)
    it = 0
    while loss > 0 and used() < budget:
        p = _p_schedule(p_init, it, budget)
        side = round(np.sqrt(p * h * w))
        side = min(max(side, 1), min(h, w) - 1)
        # resample until the proposal changes the perturbation: a no-op proposal would waste a query
        for _ in range(10):
            r, cc = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
            window = np.clip(x[r:r + side, cc:cc + side] + eps * rng.choice([-1.0, 1.0], size=(1, 1, c)), 0, 1)
            if not np.allclose(window, best[r:r + side, cc:cc + side]):
                break
        cand = best.copy()
        cand[r:r + side, cc:cc + side] = window
        new = loss_of(cand)
        if new < loss:
            best, loss = cand, new
        it += 1
    return best, loss


def _result(queries: int, d: np.ndarray, ok: bool) -> AttackResult:
    return AttackResult(bool(ok), queries, float(np.abs(d).max()) if ok else None,
                        float(np.linalg.norm(d)) if ok else None)


def square_l2(model: Model, x: np.ndarray, y: int, eps: float, budget: int, rng: np.random.Generator,
              p_init: float = 0.1) -> AttackResult:
    """A faithful-in-spirit L2 Square Attack: square-shaped updates that move perturbation mass between
    two windows while keeping ||delta||_2 <= eps."""
    h, w, c = x.shape
    start = model.queries
    delta = rng.normal(0, 1, x.shape)
    delta *= eps / np.linalg.norm(delta)
    best = np.clip(x + delta, 0, 1)
    yy = np.array([y])
    loss = _margin(model, best[None], yy)[0]
    it = 0
    while loss > 0 and model.queries - start < budget:
        p = _p_schedule(p_init, it, budget)
        side = min(max(round(np.sqrt(p * h * w)), 1), min(h, w) - 1)
        d = best - x
        r1, c1 = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        r2, c2 = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        window = d[r1:r1 + side, c1:c1 + side]
        mass = np.sqrt(np.sum(window ** 2) + np.sum(d[r2:r2 + side, c2:c2 + side] ** 2))
        bump = rng.choice([-1.0, 1.0], size=(1, 1, c)) * np.ones((side, side, c))
        bump *= mass / max(np.linalg.norm(bump), 1e-12)
        new_d = d.copy()
        new_d[r2:r2 + side, c2:c2 + side] = 0
        new_d[r1:r1 + side, c1:c1 + side] = bump
        norm = np.linalg.norm(new_d)
        if norm > eps:
            new_d *= eps / norm
        cand = np.clip(x + new_d, 0, 1)
        new = _margin(model, cand[None], yy)[0]
        if new < loss:
            best, loss = cand, new
        it += 1
    return _result(model.queries - start, best - x, loss <= 0)


def hopskipjump(model: Model, x: np.ndarray, y: int, budget: int, rng: np.random.Generator,
                max_iter: int = 20, init_evals: int = 50) -> AttackResult:
    """Untargeted HSJA-L2 on hard labels only; returns the smallest adversarial found within budget."""
    start = model.queries

    def adv(z: np.ndarray) -> np.ndarray:
        return model.predict(np.clip(z, 0, 1)) != y

    # initialisation: random noise until misclassified
    init = None
    for _ in range(100):
        cand = rng.uniform(0, 1, x.shape)
        if adv(cand[None])[0]:
            init = cand
            break
        if model.queries - start >= budget:
            break
    if init is None:
        return AttackResult(False, model.queries - start, None, None)

    def boundary(a: np.ndarray, tol: float = 1e-3) -> np.ndarray:
        lo, hi = 0.0, 1.0  # blend from x (lo) to adversarial a (hi)
        while hi - lo > tol and model.queries - start < budget:
            mid = (lo + hi) / 2
            if adv((x + mid * (a - x))[None])[0]:
                hi = mid
            else:
                lo = mid
        return x + hi * (a - x)

    cur = boundary(init)
    d = x.size
    for t in range(1, max_iter + 1):
        if model.queries - start >= budget:
            break
        dist = np.linalg.norm(cur - x)
        delta = max(np.sqrt(d) * 1e-3 * dist, 1e-6)
        n_evals = min(int(init_evals * np.sqrt(t)), max(1, budget - (model.queries - start) - 20))
        if n_evals < 2:
            break
        u = rng.normal(0, 1, (n_evals, *x.shape))
        u /= np.linalg.norm(u.reshape(n_evals, -1), axis=1).reshape(-1, *([1] * x.ndim))
        phi = np.where(adv(cur[None] + delta * u), 1.0, -1.0)
        phi = phi - phi.mean() if abs(phi.mean()) < 1 else phi
        grad = np.tensordot(phi, u, axes=1)
        grad /= max(np.linalg.norm(grad), 1e-12)
        step = dist / np.sqrt(t)
        while step > 1e-6 and model.queries - start < budget:
            cand = np.clip(cur + step * grad, 0, 1)
            if adv(cand[None])[0]:
                break
            step /= 2
        cur = boundary(np.clip(cur + step * grad, 0, 1)) if step > 1e-6 else cur
    return _result(model.queries - start, cur - x, bool(adv(cur[None])[0]))
