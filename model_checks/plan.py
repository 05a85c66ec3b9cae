"""Sample sizes that fit the budget: after the clean pass, the measured cost per query and the time left give
the queries the run can afford; when the suite's remaining checks would need more, their sample sizes (not the
checks) shrink by one factor, never below each check's minimum of evidence, and the plan is reported with the
interval widths those sizes give.

A model fast enough for its suite gets the suite as it is (factor 1), so the sizes, and the verdicts, do not
move with the machine's load; only a model too slow for its suite is planned, and the plan says so. Query
counts are upper bounds: the backdoor screen stops at the first trigger it finds, the estimate assumes none."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from .metrics import wilson
from .suite import MIN_ATTACKED, MIN_CERTIFIED, MIN_CLEAN, Suite

SAFETY = 0.8  # of the time left: the estimate is an upper bound, the machine may be busier later
MIN_BACKDOOR = 10  # families/backdoor.py MIN_IMAGES
SCALED = {"corruption_images": MIN_CLEAN, "attack_images": MIN_ATTACKED, "hsj_images": MIN_ATTACKED,
          "smooth_images": MIN_CERTIFIED, "backdoor_images": MIN_BACKDOOR, "detection_attack_images": MIN_ATTACKED}


def _backdoor_queries(suite: Suite, shape: tuple[int, ...], classes: int) -> int:
    """Upper bound of the trigger screen (families/backdoor.py): solid stickers of every colour at every grid
    position, then per class the pixel search at nine positions per size, then STRIP's two sweeps."""
    from .backdoor import _grid  # the same grid the screen walks

    h, w, c = shape
    colours, b = 2 ** c + classes, suite.backdoor_images
    solid = sum(len(_grid(h, w, s)) * colours * b for s in suite.trigger_sizes if s < min(h, w))
    search = classes * sum(9 * (s * s * 2 ** c + 1) * b for s in suite.trigger_sizes if s < min(h, w))
    last = suite.trigger_sizes[-1]
    return solid + search + 2 * last * last * 2 ** c * b + 20 * b


def remaining_queries(task: str, suite: Suite, n: int, shape: tuple[int, ...], classes: int) -> dict[str, int]:
    """Queries the families after the clean pass may spend, by family, at ``suite``'s sizes."""
    k = min(n, suite.corruption_images or n)
    if task == "detection":
        return {"corruption": 15 * len(suite.severities) * k,
                "attacks": 2 * suite.detection_attack_images * suite.detection_attack_budget,
                "backdoor": 50 * min(n, suite.backdoor_images)}
    out = {"corruption": len(suite.corruptions) * len(suite.severities) * k}
    if task == "regression":
        out["metamorphic"] = len(suite.metamorphic_levels) * 9 * n  # nine transformations (transforms.py)
    else:
        out["adversarial"] = (2 * suite.attack_images + suite.hsj_images) * suite.attack_budget
        out["certified"] = suite.smooth_images * (suite.smooth_n0 + suite.smooth_n)
        out["backdoor"] = _backdoor_queries(suite, shape, classes)
    return out


def plan(suite: Suite, task: str, n: int, shape: tuple[int, ...], classes: int, cost_s: float,
         seconds_left: float) -> tuple[Suite, dict[str, Any]]:
    """The suite with its sample sizes scaled to what the budget affords, and the plan as reported."""
    full = remaining_queries(task, suite, n, shape, classes)
    need = sum(full.values())
    affordable = int(SAFETY * max(seconds_left, 0.0) / cost_s) if cost_s > 0 else need
    factor = min(1.0, affordable / need) if need else 1.0
    planned = suite
    if factor < 1.0:
        base = {"corruption_images": min(n, suite.corruption_images or n)}
        sizes = {f: max(lo, math.floor((base.get(f) or getattr(suite, f)) * factor)) for f, lo in SCALED.items()}
        sizes = {f: min(v, base.get(f) or getattr(suite, f)) for f, v in sizes.items()}  # a minimum never grows one
        planned = dataclasses.replace(suite, **sizes)
    k = min(n, planned.corruption_images or n)
    report: dict[str, Any] = {
        "cost_ms_per_query": round(cost_s * 1000, 3), "affordable_queries": affordable, "suite_queries": need,
        "factor": round(factor, 3), "estimated_queries": sum(remaining_queries(task, planned, n, shape, classes).values()),
        "sizes": {"corruption_images": k, "attack_images": planned.attack_images, "hsj_images": planned.hsj_images,
                  "smooth_images": planned.smooth_images, "backdoor_images": planned.backdoor_images,
                  "detection_attack_images": planned.detection_attack_images},
        # the widest a 95 % interval of a rate can be at each size (at a rate of one half)
        "ci95_halfwidth": {f: _halfwidth(v) for f, v in (("corruption_error", k), ("attack_success",
                                                                                   planned.attack_images),
                                                          ("certified_accuracy", planned.smooth_images))}}
    return planned, report


def _halfwidth(n: int) -> float | None:
    ci = wilson(n // 2, n) if n else None
    return round((ci[1] - ci[0]) / 2, 3) if ci else None
