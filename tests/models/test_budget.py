"""A model check's verdicts do not depend on how busy the machine is: the query budget decides what runs,
and the wall clock is only an outer safety whose cuts are ``not_assessed`` and say so (fake clocks)."""

from __future__ import annotations

import itertools

import numpy as np

from model_checks.adapters import Preprocess, load_model
from model_checks.demo import SIGNS_MODEL
from model_checks.demo.render import signs
from model_checks.runner import Settings, run


def _run(clock, time_budget_s: float = 600.0) -> dict:
    x, y = signs(60, 11)
    model = load_model(str(SIGNS_MODEL), "classification", Preprocess(mean=(0.5,) * 3, std=(0.25,) * 3, layout="NHWC"))
    return run(model, x, y, Settings(suite="quick", seed=7, time_budget_s=time_budget_s), {"path": "signs"}, clock=clock)


def _verdicts(doc: dict) -> list[tuple[str, str]]:
    return [(c["id"], c["status"]) for c in doc["checks"]]


def test_the_same_model_and_seed_give_the_same_verdicts_on_an_idle_and_a_very_busy_clock():
    idle = _run(lambda: 0.0)
    busy = itertools.count(0.0, 2.0)  # every look at the clock finds two more seconds gone, within the limit
    slow = _run(lambda: next(busy), time_budget_s=1e9)
    assert _verdicts(idle) == _verdicts(slow) and idle["summary"]["queries"] == slow["summary"]["queries"]
    assert not [c for c in idle["checks"] if c["status"] == "not_assessed" and "wall-clock" in c.get("reason", "")]


def test_a_wall_clock_cut_is_not_assessed_and_says_so_never_a_pass_or_a_skip():
    ticks = itertools.chain([0.0], itertools.repeat(np.inf))  # past the limit at the first look after the start
    doc = _run(lambda: next(ticks), time_budget_s=600.0)
    cut = [c for c in doc["checks"] if "wall-clock safety limit" in c.get("reason", "")]
    assert cut and all(c["status"] == "not_assessed" for c in cut)
    assert doc["summary"]["cut"] and not doc["summary"].get("complete", True)
