"""Model checks: (1) the cost of generating the corruptions against the model's own inference on the same
images (standard suite: 19 corruptions x 5 severities), and (2) our Square Attack against ART's
SquareAttack at the same epsilon and query budget on the demo traffic-sign classifier (ART is installed
for this benchmark only: pip install adversarial-robustness-toolbox). Prints a JSON last line.

Targets (issue #5): corruption overhead < 25 % of inference; our Square success >= ART's."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model_checks.adapters import Preprocess, load_model
from model_checks.attacks import square_linf
from model_checks.corruptions import PARAMS, corrupt
from model_checks.demo import SIGNS_MODEL
from model_checks.demo.render import signs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from art_square import art_square_linf


def main() -> dict[str, object]:
    model = load_model(str(SIGNS_MODEL), "classification", Preprocess(mean=(0.5,) * 3, std=(0.25,) * 3))
    x, y = signs(200, 123)
    x = x / 255.0
    rng = np.random.default_rng(0)
    gen_s = infer_s = 0.0
    for name in PARAMS:
        for s in range(1, 6):
            t0 = time.perf_counter()
            xc = corrupt(x, name, s, rng)
            gen_s += time.perf_counter() - t0
            t0 = time.perf_counter()
            model.predict(xc)
            infer_s += time.perf_counter() - t0
    result: dict[str, object] = {"name": "model_checks", "images": len(x), "corruptions": len(PARAMS),
                                 "corruption_gen_s": round(gen_s, 3), "inference_s": round(infer_s, 3),
                                 "corruption_overhead_ratio": round(gen_s / infer_s, 2),
                                 "model_macs_per_image": (32 * 48 * 3 * 32 + 32 * 5)}
    eps, budget, k = 8 / 255, 500, 60
    correct = np.flatnonzero(model.predict(x) == y)[:k]
    rng = np.random.default_rng(1)
    ours = [square_linf(model, x[i], int(y[i]), eps, budget, rng) for i in correct]
    result["ours_square_success"] = round(sum(r.success for r in ours) / len(ours), 3)
    art = art_square_linf(model, x[correct], y[correct], eps, budget, 5)
    if art is None:
        result.update(art_square_success=None, square_ratio=None,
                      note="ART not installed: pip install adversarial-robustness-toolbox")
    else:
        result["art_square_success"] = round(art[0], 3)
        result["square_ratio"] = round(result["ours_square_success"] / art[0], 3) if art[0] else None
    result["ratio"] = result["corruption_overhead_ratio"]
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
