"""Our corruptions against the `imagecorruptions` package (1.1.2, the reference implementation most users
know), by their effect on a fixed model: the demo classifier's error rate on 150 rendered signs, per
corruption and severity. The package is patched for current scikit-image (``multichannel`` became
``channel_axis``) and NumPy 2 (``np.float_``), as the issue allows; everything is seeded, so the comparison is
exact to repeat.

Tolerance 0.12 in error rate: the sampling noise of a difference of two error rates on 150 images is about
0.05 (1 σ); measured here the agreeing corruptions differ by at most 0.06. Where we differ on purpose the
bound is the measured one, and the README says why."""

from __future__ import annotations

import numpy as np
import pytest

ic = pytest.importorskip("imagecorruptions", reason="test-only dependency (pip install -e '.[dev]')")

from model_checks.adapters import Preprocess, load_model  # noqa: E402
from model_checks.corruptions import PARAMS, corrupt  # noqa: E402
from model_checks.demo import SIGNS_MODEL  # noqa: E402
from model_checks.demo.render import signs  # noqa: E402

AGREE = 0.12
# Deliberate differences (README): frost blends photographs we do not have (a procedural texture instead);
# imagecorruptions redefines elastic_transform relative to the image size where we keep ImageNet-C's
# 244-px (alpha, sigma, affine) parameters; our spatter's mud mode and fog's plasma differ in detail.
DIFFERS = {"frost": 0.40, "elastic_transform": 0.40, "spatter": 0.35, "fog": 0.15}


@pytest.fixture(scope="module")
def reference(monkeypatch_module):
    import skimage.filters
    from imagecorruptions import corruptions as icc

    gaussian = skimage.filters.gaussian

    def patched(image, *args, multichannel=None, **kwargs):
        if multichannel is not None:
            kwargs.setdefault("channel_axis", -1 if multichannel else None)
        return gaussian(image, *args, **kwargs)

    monkeypatch_module.setattr(icc, "gaussian", patched)
    if not hasattr(np, "float_"):
        monkeypatch_module.setattr(np, "float_", np.float64, raising=False)
    return ic


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_every_corruption_agrees_with_imagecorruptions_by_its_effect_on_a_model(reference):
    model = load_model(str(SIGNS_MODEL), "classification", Preprocess(mean=(0.5,) * 3, std=(0.25,) * 3, layout="NHWC"))
    x, y = signs(150, 31)
    worst = {}
    for name in PARAMS:
        diffs = []
        for s in range(1, 6):
            ours = model.predict(corrupt(x / 255.0, name, s, np.random.default_rng(s)))
            np.random.seed(s)  # the package draws from NumPy's global generator
            theirs = np.stack([np.asarray(reference.corrupt(im.astype(np.uint8), corruption_name=name, severity=s),
                                          dtype=np.float64) / 255.0 for im in x])
            diffs.append(abs(float((ours != y).mean()) - float((model.predict(theirs) != y).mean())))
        worst[name] = max(diffs)
    too_far = {k: round(v, 3) for k, v in worst.items() if v > DIFFERS.get(k, AGREE)}
    assert not too_far, too_far
    assert worst["motion_blur"] <= AGREE and worst["glass_blur"] <= AGREE  # the two this issue fixed
