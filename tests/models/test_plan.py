"""Sample sizes planned from the measured cost per query (model_checks/plan.py): a fast model keeps its suite,
a slow one gets smaller samples, never below each check's minimum, with the widths they give reported; the
corruption check then measures exactly the planned subset. The cost is set, not timed: no test here depends on
how busy the machine is."""

from __future__ import annotations

import dataclasses

import numpy as np

from model_checks.adapters import Preprocess, load_model
from model_checks.demo import SIGNS_MODEL
from model_checks.demo.render import signs
from model_checks.families.clean import check_clean
from model_checks.families.corruption import check_corruptions
from model_checks.plan import SCALED, plan
from model_checks.runner import _plan
from model_checks.suite import SUITES, Budget, Run, Settings

SHAPE = (32, 48, 3)


def test_a_model_fast_enough_keeps_its_suite():
    suite = SUITES["standard"]
    planned, report = plan(suite, "classification", 200, SHAPE, 5, cost_s=2e-5, seconds_left=590)
    assert planned is suite and report["factor"] == 1.0
    assert report["estimated_queries"] == report["suite_queries"] <= report["affordable_queries"]


def test_a_slow_model_gets_smaller_samples_never_below_the_minimum_of_evidence():
    suite = SUITES["standard"]
    planned, report = plan(suite, "classification", 200, SHAPE, 5, cost_s=0.005, seconds_left=590)
    assert planned.attack_images == report["sizes"]["attack_images"] < suite.attack_images
    assert 0 < report["factor"] < 1 and report["affordable_queries"] == int(0.8 * 590 / 0.005)
    for field, floor in SCALED.items():
        full = 200 if field == "corruption_images" else getattr(suite, field)
        got = report["sizes"][field]
        assert min(floor, full) <= got <= full, field
    assert report["estimated_queries"] < report["suite_queries"]
    assert report["ci95_halfwidth"]["attack_success"] > plan(suite, "classification", 200, SHAPE, 5, 2e-5, 590)[1][
        "ci95_halfwidth"]["attack_success"]  # fewer attacked images: a wider interval, and it is said
    tight = plan(suite, "classification", 200, SHAPE, 5, cost_s=0.5, seconds_left=590)[1]
    assert all(tight["sizes"][f] == min(lo, 200 if f == "corruption_images" else getattr(suite, f))
               for f, lo in SCALED.items())  # a hopeless budget: every sample at its minimum, the cut says the rest


def test_the_runner_plans_after_the_clean_pass_and_the_corruptions_use_the_planned_subset():
    model = load_model(str(SIGNS_MODEL), "classification", Preprocess(mean=(0.5,) * 3, std=(0.25,) * 3, layout="NHWC"))
    x, y = signs(120, 5)
    settings = Settings(suite="quick", plan=True)
    suite = dataclasses.replace(SUITES["quick"], corruptions=("gaussian_noise",), severities=(3,))
    r = Run(model, x.astype(np.float64) / 255, y.astype(np.int64), settings, suite, np.random.default_rng(0),
            Budget(settings, model), lambda s: None, np.empty(0), [], {})
    check_clean(r)
    model.seconds = model.queries * 0.05  # as if each query had cost 50 ms
    _plan(r, elapsed=5.0)
    p = r.summary["plan"]
    assert p["factor"] < 1 and r.suite.corruption_images == p["sizes"]["corruption_images"] < r.n
    check_corruptions(r)
    corr = next(c for c in r.checks if c["id"] == "models.corruption.error")
    assert corr["observed"]["images"] == p["sizes"]["corruption_images"] == corr["metrics"]["images"]
