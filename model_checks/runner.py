"""Run a suite of model checks and build the results document (component ``models``): the registered
families (``model_checks/families``) run in order against one budget."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from vehicle_ds.results import Asset, finish, new_results

from .adapters import Model
from .families import expected_checks, families_for
from .suite import SUITES, WALL_CLOCK, Budget, BudgetCut, Run, Settings

__all__ = ["SUITES", "Settings", "run"]  # what the CLI and the benchmarks import from here


def _sample(x: np.ndarray, y: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    idx = np.sort(rng.choice(len(x), n, replace=False)) if len(x) > n else np.arange(len(x))
    return x[idx], y[idx]


def _results_doc(model: Model, settings: Settings, data_info: dict[str, Any], n: int) -> dict[str, Any]:
    hidden = ("signature", "public_key", "acceptance")
    return new_results("models", {"model": model.identity, "data": {**data_info, "evaluated": int(n)},
                                  "task": model.task, "preprocess": model.preprocess.describe()},
                       {**{k: v for k, v in settings.__dict__.items() if k not in hidden},
                        "acceptance": settings.acceptance.values, "acceptance_file": settings.acceptance.path or None},
                       asset=Asset("model", model.name, str(model.identity.get("sha256") or "")[:12]))


def _plan(r: Run, elapsed: float) -> None:
    """The measured cost per query and the time left decide the remaining checks' sample sizes."""
    from .plan import plan

    if not r.model.queries:
        return
    classes = max(2, int(np.max(r.y)) + 1) if r.model.task == "classification" else 0
    r.suite, r.summary["plan"] = plan(r.suite, r.model.task, r.n, tuple(r.x.shape[1:]), classes,
                                      r.model.seconds / r.model.queries, r.settings.time_budget_s - elapsed)


def run(model: Model, x: np.ndarray, y: np.ndarray, settings: Settings, data_info: dict[str, Any],
        progress: Callable[[str], None] | None = None, clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Every family registered for the model's task, in order, until done or a budget cut; what a cut
    stopped is reported as such, so the results always list every expected check."""
    suite = SUITES[settings.suite]
    rng = np.random.default_rng(settings.seed)
    n = min(len(x), suite.images)
    x, y = _sample(x, y, n, rng)
    if model.task == "classification":
        y = y.astype(np.int64)
    budget = Budget(settings, model, clock)
    doc = _results_doc(model, settings, data_info, n)
    r = Run(model, x, y, settings, suite, rng, budget, progress or (lambda s: None), np.empty(0), [], {"images": int(n)})
    model.guard = budget.check  # the budget is asked before every batch of queries
    why = ""
    try:
        for fam in families_for(model.task):
            fam.run(r)
            if fam.name == "check_clean" and settings.plan:
                _plan(r, clock() - budget.t0)
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
    # every check a budget stopped, whether the runner filled it in or the family said so itself
    stopped = {c["id"] for c in r.checks if c["status"] in ("skipped", "not_assessed")
               and ("budget" in c.get("reason", "") or WALL_CLOCK in c.get("reason", ""))}
    cut = sorted(set(r.cut) | stopped)
    r.summary.update({"queries": model.queries, "elapsed_s": round(clock() - budget.t0, 2),
                      "complete": not cut, "cut": cut})
    return finish(doc, r.summary)
