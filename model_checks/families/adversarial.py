"""Black-box adversarial attacks on classifiers: Square Attack (L∞, L2) and HopSkipJump."""

from __future__ import annotations

import numpy as np

from vehicle_ds.results import check

from .. import attacks
from ..metrics import rate as rate_ci
from ..suite import MIN_ATTACKED, ROBUST, Run, judge, needing, stratified
from .registry import family


@family("models.adversarial.square_linf", "models.adversarial.square_l2", "models.adversarial.hopskipjump",
        tasks=("classification",))
def check_attacks(r: Run) -> None:
    """Black-box attacks (classifiers) succeed more often than the acceptance profile allows at the stated ε."""
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
        r.checks.append(check(cid, title, judge(rate, limit, False), "medium", ROBUST,
                              evidence={"images": len(res), "budget_per_image": suite.attack_budget},
                              metrics={"success_rate": rate, "success": rate_ci(len(succ), len(res)),
                               "median_l2": float(np.median([a.l2 for a in succ])) if succ else None,
                               "median_linf": float(np.median([a.linf for a in succ])) if succ else None,
                               "queries": int(sum(a.queries for a in res)),
                               "median_queries": float(np.median([a.queries for a in res]))},
                              criterion=needing(crit, {"images": MIN_ATTACKED}),
                              observed={"images": len(res)}))
