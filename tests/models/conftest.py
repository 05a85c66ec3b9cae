"""Data and runs several model-check tests read: made once per session, since a quick suite on the demo
model is the slowest thing these tests do."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model_checks.demo import SIGNS_MODEL
from model_checks.demo.render import roads, signs
from tests.conftest import run_cli


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    x, y = signs(120, 11)
    np.savez(d / "signs.npz", x=x, y=y)
    xr, yr = roads(80, 12)
    np.savez(d / "roads.npz", x=xr, y=yr)
    return d


@pytest.fixture(scope="session")
def signs_quick(data, tmp_path_factory) -> dict:
    """The results of the quick suite on the demo sign classifier: default seed, no acceptance profile."""
    out = tmp_path_factory.mktemp("signs_quick") / "signs.json"
    proc = run_cli("model-check", "--model", str(SIGNS_MODEL), "--data", str(data / "signs.npz"), "--task",
                   "classification", "--suite", "quick", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())
