"""Certified accuracy by randomized smoothing (Cohen et al.) at the acceptance profile's radius."""

from __future__ import annotations

import numpy as np

from vehicle_ds.results import check

from .. import smoothing
from ..metrics import certified_accuracy, max_certifiable_radius
from ..metrics import rate as rate_ci
from ..suite import MIN_CERTIFIED, ROBUST, Run, judge, needing, stratified
from .registry import family


@family("models.certified.accuracy", tasks=("classification",))
def check_certified(r: Run) -> None:
    """Certified accuracy by randomized smoothing at the acceptance profile's radius is below its minimum."""
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
                          "not_assessed" if beyond else judge(value, limit if radius is not None else None, True),
                          "medium", ROBUST,
                          evidence={"radii": [None if x is None else round(x, 4) for x in radii], "correct": ok},
                          metrics={"certified_accuracy": {"radius": at, "accuracy": acc,
                                                  "ci95": [rate_ci(k, len(radii))["ci95"] for k in counts]},
                           "max_certifiable_radius": round(cap, 4)},
                          criterion=needing(crit if radius is not None else None, {"images": MIN_CERTIFIED}),
                          observed={"images": len(radii)}, reason=why))
