"""Model checks on a real-size third-party CNN: PaddleOCR's text-direction classifier as shipped in the
`rapidocr-onnxruntime` 1.4.4 wheel on PyPI (`ch_ppocr_mobile_v2.0_cls_infer.onnx`, 585 kB, input
3 x 48 x 192: non-square; classes 0° / 180°; Apache-2.0). The wheel is fetched once with
`pip download --no-deps` into benchmarks/.cache (never committed); the data are text lines rendered here
(DejaVu / Liberation fonts), upright or turned 180°.

Measures, in one run: (1) the standard suite's wall time with its default budget (600 s) and whether it
completed with every check; (2) our Square Attack (L∞, ε = 8/255) against ART's SquareAttack at the same
query budget on the same images: success rates and wall times (ART installed for the benchmark only:
pip install adversarial-robustness-toolbox). Prints a JSON last line; ``ratio`` is ours/ART success."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model_checks.adapters import Preprocess, load_model  # noqa: E402
from model_checks.attacks import square_linf  # noqa: E402
from model_checks.runner import Settings, run  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from art_square import art_square_linf  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"
WHEEL = "rapidocr-onnxruntime==1.4.4"
MEMBER = "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"
WORDS = ("vehicle", "data", "compliance", "report", "hub", "edge", "probe", "model", "catalog", "signal", "grade",
         "policy", "purpose", "consent", "location", "trajectory", "identifier", "camera", "cabin", "uplink",
         "batch", "spool", "device", "platform", "interface", "token")
FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
         "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")


def cnn() -> Path:
    target = CACHE / "ch_ppocr_mobile_v2.0_cls_infer.onnx"
    if not target.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(CACHE), WHEEL], check=True)
        wheel = next(CACHE.glob("rapidocr_onnxruntime-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            target.write_bytes(z.read(MEMBER))
    return target


def text_lines(n: int, seed: int, h: int = 48, w: int = 192) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    fonts = [f for f in FONTS if Path(f).exists()]
    xs, ys = [], []
    for i in range(n):
        font = ImageFont.truetype(fonts[i % len(fonts)], int(rng.integers(22, 30)))
        img = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(170, 256, 3)))
        ImageDraw.Draw(img).text((int(rng.integers(0, 8)), int(rng.integers(4, 12))), " ".join(rng.choice(WORDS, 3)),
                                 fill=tuple(int(v) for v in rng.integers(0, 80, 3)), font=font)
        label = int(rng.integers(0, 2))
        xs.append(np.asarray(img.rotate(180) if label else img))
        ys.append(label)
    return np.stack(xs) / 255.0, np.array(ys)


def main() -> dict[str, object]:
    path = cnn()
    pre = Preprocess(size=(48, 192), mean=(0.5,) * 3, std=(0.5,) * 3, channels="BGR", layout="NCHW")
    x, y = text_lines(300, 2026)
    model = load_model(str(path), "classification", pre)
    t0 = time.perf_counter()
    doc = run(model, x, y, Settings(suite="standard", seed=0), {"path": "rendered text lines", "items": len(x)})
    suite_s = time.perf_counter() - t0
    statuses = {c["id"]: c["status"] for c in doc["checks"]}
    result: dict[str, object] = {
        "name": "model_checks_cnn", "model": path.name, "model_bytes": path.stat().st_size, "input": [3, 48, 192],
        "clean_accuracy": doc["summary"]["clean"]["accuracy"], "standard_suite_s": round(suite_s, 1),
        "standard_suite_budget_s": 600, "complete": doc["summary"]["complete"], "cut": doc["summary"]["cut"],
        "checks_skipped": sorted(k for k, v in statuses.items() if v == "skipped"), "queries": doc["summary"]["queries"]}
    eps, budget, k = 8 / 255, 300, 20
    fresh = load_model(str(path), "classification", pre)
    correct = np.flatnonzero(fresh.predict(x) == y)[:k]
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    ours = [square_linf(fresh, x[i], int(y[i]), eps, budget, rng) for i in correct]
    result["ours_square_s"] = round(time.perf_counter() - t0, 2)
    result["ours_square_success"] = round(sum(r.success for r in ours) / len(ours), 3)
    art = art_square_linf(fresh, x[correct], y[correct], eps, budget, 2)
    if art is None:
        result.update(art_square_success=None, ratio=None, note="pip install adversarial-robustness-toolbox")
    else:
        result["art_square_s"] = round(art[1], 2)
        result["art_square_success"] = round(art[0], 3)
        result["ratio"] = round(result["ours_square_success"] / art[0], 3) if art[0] else None
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
