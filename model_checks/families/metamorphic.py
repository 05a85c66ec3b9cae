"""DeepTest metamorphic relations for regression models (steering angle and the like)."""

from __future__ import annotations

from vehicle_ds.results import check

from ..metrics import metamorphic_violations
from ..suite import MIN_CLEAN, ROBUST, Run, judge, needing
from ..transforms import TRANSFORMS
from .registry import family


@family(*(f"models.metamorphic.{t}" for t in TRANSFORMS), tasks=("regression",))
def check_metamorphic(r: Run) -> None:
    """DeepTest relations (regression): a transformed input moves the output by more than λ·MSE_orig more often
    than the acceptance profile allows."""
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
        r.checks.append(check(f"models.metamorphic.{tname}", title, judge(rate, limit, False), "medium", ROBUST,
                              evidence={"lambda": r.settings.lam},
                              metrics={"violations_by_level": per_level, "violation_rate": rate},
                              criterion=needing(crit, {"images": MIN_CLEAN}),
                              observed={"images": r.n, "levels": len(per_level)}))
