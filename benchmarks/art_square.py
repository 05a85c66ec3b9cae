"""ART's SquareAttack (L∞) on one of our models, for the benchmarks' comparison (ART is installed for the
benchmarks only: pip install adversarial-robustness-toolbox)."""

from __future__ import annotations

import time

import numpy as np

from model_checks.adapters import Model


def art_square_linf(model: Model, x: np.ndarray, y: np.ndarray, eps: float, budget: int,
                    classes: int) -> tuple[float, float] | None:
    """(success rate, seconds) of ART's SquareAttack at ``eps`` with ``budget`` iterations, or None without ART."""
    try:
        from art.attacks.evasion import SquareAttack
        from art.estimators.classification import BlackBoxClassifierNeuralNetwork
    except ImportError:
        return None
    np.random.seed(1)  # ART draws from the global generator
    clf = BlackBoxClassifierNeuralNetwork(lambda b: model.scores(b), input_shape=x.shape[1:], nb_classes=classes,
                                          clip_values=(0.0, 1.0), channels_first=False)
    attack = SquareAttack(clf, norm=np.inf, eps=eps, max_iter=budget, nb_restarts=1, p_init=0.05, verbose=False)
    t0 = time.perf_counter()
    adv = attack.generate(x.astype(np.float32), y=np.eye(classes)[y])
    return float((model.predict(adv) != y).mean()), time.perf_counter() - t0
