"""Every metric's definition against hand-computed cases and the reference tables (model_checks.md §2)."""

from __future__ import annotations

import numpy as np
import pytest

from model_checks.corruptions import ALEXNET_CLEAN_ERROR, ALEXNET_ERRORS, PARAMS, ZOOM_FACTORS, contrast, corrupt
from model_checks.metrics import (
    certified_accuracy,
    certified_radius,
    clopper_pearson_lower,
    corruption_error,
    mce,
    metamorphic_violations,
    predict_pvalue,
    relative_mce,
)

# model_checks.md §2.1: (n_A, n, lower bound, radii at sigma .12 .25 .5 1.0)
CP_TABLE = [
    (100000, 100000, 0.9999309, (0.4574, 0.9529, 1.9057, 3.8115)),
    (99990, 100000, 0.9997587, (0.4188, 0.8726, 1.7451, 3.4902)),
    (99900, 100000, 0.9986510, (0.3600, 0.7501, 1.5001, 3.0002)),
    (99000, 100000, 0.9889893, (0.2748, 0.5725, 1.1450, 2.2900)),
    (90000, 100000, 0.8970365, (0.1518, 0.3162, 0.6324, 1.2648)),
    (60000, 100000, 0.5952010, (0.0289, 0.0602, 0.1205, 0.2409)),
    (50500, 100000, 0.5001090, (0.0000, 0.0001, 0.0001, 0.0003)),
    (1000, 1000, 0.9931160, (0.2956, 0.6158, 1.2316, 2.4633)),
    (990, 1000, 0.9760362, (0.2374, 0.4945, 0.9890, 1.9780)),
    (100, 100, 0.9332543, (0.1801, 0.3751, 0.7502, 1.5005)),
    (10, 10, 0.5011872, (0.0004, 0.0007, 0.0015, 0.0030)),
]


@pytest.mark.parametrize("n_a,n,lower,radii", CP_TABLE)
def test_clopper_pearson_table(n_a, n, lower, radii):
    assert round(clopper_pearson_lower(n_a, n, 0.001), 7) == lower
    for sigma, r in zip((0.12, 0.25, 0.5, 1.0), radii, strict=True):
        assert round(certified_radius(n_a, n, sigma, 0.001), 4) == r


def test_abstain_and_all_hits():
    assert certified_radius(50000, 100000, 0.25, 0.001) is None
    assert clopper_pearson_lower(100, 100, 0.001) == pytest.approx(0.001 ** (1 / 100), abs=1e-12)


def test_the_binomial_p_value_of_a_prediction_matches_reference_values():
    assert round(predict_pvalue(510, 490), 3) == 0.548
    assert round(predict_pvalue(550, 450), 5) == 0.00173
    assert predict_pvalue(600, 400) == pytest.approx(2.73e-10, rel=1e-2)
    assert round(predict_pvalue(60, 40), 4) == 0.0569


def test_imagenet_c_identities():
    alex = {k: [v] * 5 for k, v in ALEXNET_ERRORS.items()}
    assert mce(alex) == pytest.approx(100.0)
    assert relative_mce(alex, ALEXNET_CLEAN_ERROR) == pytest.approx(100.0)
    assert mce({k: [v / 2] * 5 for k, v in ALEXNET_ERRORS.items()}) == pytest.approx(50.0)
    assert relative_mce({k: [0.3] * 5 for k in ALEXNET_ERRORS}, 0.3) == pytest.approx(0.0)
    assert 100 * np.mean(list(ALEXNET_ERRORS.values())) == pytest.approx(78.8993, abs=1e-4)


def test_hand_computed_ce_and_user_reference():
    assert corruption_error([0.1, 0.2, 0.3, 0.4, 0.5], [0.6] * 5) == pytest.approx(0.5)
    ref = {"fog": 0.4, "snow": [0.2, 0.4, 0.6, 0.8, 1.0]}
    errs = {"fog": [0.2] * 5, "snow": [0.3] * 5}
    # CE_fog = 0.2/0.4 = 0.5; CE_snow = 0.3/0.6 = 0.5 -> mCE 50
    assert mce(errs, ref) == pytest.approx(50.0)
    # relative: (0.2-0.1)/(0.4-0.2) = 0.5; (0.3-0.1)/(0.6-0.2) = 0.5 -> 50
    assert relative_mce(errs, 0.1, ref, 0.2) == pytest.approx(50.0)


def test_a_metamorphic_violation_is_an_error_above_lambda_times_the_original_mse():
    y = np.array([0.0, 0.0, 0.0, 0.0])
    y_orig = np.array([1.0, -1.0, 1.0, -1.0])  # MSE_orig = 1
    y_t = np.array([1.5, -2.5, 0.5, 3.0])  # squared errors 2.25, 6.25, 0.25, 9
    assert metamorphic_violations(y, y_orig, y_t, lam=2.0) == 3
    assert metamorphic_violations(y, y_orig, y_t, lam=7.0) == 1


def test_certified_accuracy_rule():
    radii = [0.6, None, 0.3, 1.2]
    correct = [True, True, False, True]
    assert certified_accuracy(radii, correct, [0.0, 0.5, 1.0]) == [0.5, 0.5, 0.25]


def test_corruption_identities_and_parameters():
    x = np.array([[[[0.0], [0.5], [1.0]], [[1.0], [0.5], [0.0]]]])
    assert np.allclose(contrast(x, 0.4, None)[0, ..., 0], [[0.3, 0.5, 0.7], [0.7, 0.5, 0.3]])
    assert [len(z) for z in ZOOM_FACTORS] == [12, 16, 11, 13, 11]
    assert [round(z[-1], 2) for z in ZOOM_FACTORS] == [1.11, 1.15, 1.2, 1.24, 1.3]
    assert [int(224 * c) for c in PARAMS["pixelate"]] == [134, 112, 89, 67, 56]
    assert PARAMS["gaussian_noise"] == (.08, .12, .18, .26, .38) and PARAMS["jpeg_compression"] == (25, 18, 15, 10, 7)
    assert len(PARAMS) == 19


def test_pixelate_target_side_on_224():
    rng = np.random.default_rng(0)
    x = rng.random((1, 224, 224, 3))
    from model_checks.corruptions import pixelate

    for c, side in zip(PARAMS["pixelate"], (134, 112, 89, 67, 56), strict=True):
        y = pixelate(x, c, rng)
        # box-upsampling back makes runs of equal columns: count distinct column blocks
        blocks = 1 + int(np.sum(np.any(np.abs(np.diff(y[0, :, :, 0], axis=1)) > 1e-9, axis=0)))
        assert abs(blocks - side) <= 1


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_every_corruption_any_size_seeded(name):
    x = np.random.default_rng(1).random((2, 27, 61, 3))
    a = corrupt(x, name, 3, np.random.default_rng(5))
    b = corrupt(x, name, 3, np.random.default_rng(5))
    assert a.shape == x.shape and np.array_equal(a, b) and a.min() >= 0 and a.max() <= 1
    low, high = corrupt(x, name, 1, np.random.default_rng(5)), corrupt(x, name, 5, np.random.default_rng(5))
    assert np.abs(high - x).mean() >= np.abs(low - x).mean() * 0.8 or name in ("saturate", "elastic_transform")


def test_glass_blur_moves_copy_a_neighbour_as_the_reference_statement_does():
    """The reference's ``x[h, w], x[h', w'] = x[h', w'], x[h, w]`` on NumPy views copies the neighbour into the
    pixel and leaves the neighbour unchanged; executed here on the same offsets, it must equal our moves."""
    from model_checks.corruptions import _glass_moves

    rng = np.random.default_rng(0)
    x = rng.random((1, 12, 10, 3))
    delta = 2
    offsets = rng.integers(-delta, delta, size=(12 - 2 * delta, 10 - 2 * delta, 2))
    ref = x[0].copy()
    for i, r in enumerate(range(12 - delta, delta, -1)):
        for j, c in enumerate(range(10 - delta, delta, -1)):
            dy, dx = offsets[i, j]
            ref[r, c], ref[r + dy, c + dx] = ref[r + dy, c + dx], ref[r, c]
    ours = x.copy()
    _glass_moves(ours, offsets, delta)
    assert np.array_equal(ours[0], ref)
    swapped = x[0].copy()  # a true swap is a different corruption: the test can tell them apart
    for i, r in enumerate(range(12 - delta, delta, -1)):
        for j, c in enumerate(range(10 - delta, delta, -1)):
            dy, dx = offsets[i, j]
            swapped[[r, r + dy], [c, c + dx]] = swapped[[r + dy, r], [c + dx, c]]
    assert not np.array_equal(ours[0], swapped)
