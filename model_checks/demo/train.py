"""Train the demo models with numpy (deterministic for a seed) and export them to ONNX.

    python -m model_checks.demo.train          # rewrites traffic_signs.onnx and steering.onnx here
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import HERE
from .render import ROAD_SHAPE, SIGN_SHAPE, roads, signs

MEAN, STD = 0.5, 0.25  # the declared preprocessing (sidecar .preprocess.toml)


def _mlp(x: np.ndarray, y: np.ndarray, out: int, regression: bool, seed: int, hidden: int = 32,
         epochs: int = 30, lr: float = 2e-3, batch: int = 64) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    d = x.shape[1]
    w1 = (rng.normal(0, 1, (d, hidden)) * np.sqrt(2 / d)).astype(np.float32)
    b1 = np.zeros(hidden, np.float32)
    w2 = (rng.normal(0, 1, (hidden, out)) * np.sqrt(1 / hidden)).astype(np.float32)
    b2 = np.zeros(out, np.float32)
    params = [w1, b1, w2, b2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            xb = x[idx]
            h = xb @ w1 + b1
            a = np.maximum(h, 0)
            z = a @ w2 + b2
            if regression:
                g = (2 * (z[:, 0] - y[idx]) / len(idx))[:, None].astype(np.float32)
            else:
                p = np.exp(z - z.max(1, keepdims=True))
                p /= p.sum(1, keepdims=True)
                p[np.arange(len(idx)), y[idx]] -= 1
                g = (p / len(idx)).astype(np.float32)
            gw2, gb2 = a.T @ g, g.sum(0)
            ga = g @ w2.T
            ga[h <= 0] = 0
            gw1, gb1 = xb.T @ ga, ga.sum(0)
            step += 1
            for k, grad in enumerate((gw1, gb1, gw2, gb2)):  # Adam
                m[k] = 0.9 * m[k] + 0.1 * grad
                v[k] = 0.999 * v[k] + 0.001 * grad * grad
                params[k] -= (lr * (m[k] / (1 - 0.9 ** step)) / (np.sqrt(v[k] / (1 - 0.999 ** step)) + 1e-8)).astype(
                    np.float32)
    return params


def _export(params: list[np.ndarray], shape: tuple[int, int], out_name: str, path: Path, doc: str) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w1, b1, w2, b2 = params
    h, w = shape
    nodes = [helper.make_node("Reshape", ["image", "flat_shape"], ["flat"]),
             helper.make_node("MatMul", ["flat", "w1"], ["h1"]), helper.make_node("Add", ["h1", "b1"], ["h1b"]),
             helper.make_node("Relu", ["h1b"], ["a1"]), helper.make_node("MatMul", ["a1", "w2"], ["h2"]),
             helper.make_node("Add", ["h2", "b2"], [out_name])]
    inits = [numpy_helper.from_array(np.array([-1, h * w * 3], dtype=np.int64), "flat_shape"),
             numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
             numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(b2, "b2")]
    graph = helper.make_graph(nodes, path.stem, [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", h, w, 3])],
                              [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["N", w2.shape[1]])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="vehicle-ds demo",
                              doc_string=doc)
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())


def _sidecar(path: Path, shape: tuple[int, int]) -> None:
    path.with_suffix(".preprocess.toml").write_text(
        f"# declared preprocessing of {path.name}: applied by the harness after every perturbation\n"
        f"size = [{shape[0]}, {shape[1]}]\nscale = 1.0\nmean = [{MEAN}, {MEAN}, {MEAN}]\nstd = [{STD}, {STD}, {STD}]\n"
        'channels = "RGB"\nlayout = "NHWC"\n')


def train(out_dir: Path = HERE, seed: int = 2026) -> dict[str, float]:
    xs, ys = signs(3000, seed)
    fx = ((xs.astype(np.float32) / 255 - MEAN) / STD).reshape(len(xs), -1)
    sign_params = _mlp(fx, ys, 5, False, seed)
    xr, yr = roads(3000, seed + 1)
    fr = ((xr.astype(np.float32) / 255 - MEAN) / STD).reshape(len(xr), -1)
    road_params = _mlp(fr, yr.astype(np.float32), 1, True, seed + 1, epochs=40)
    _export(sign_params, SIGN_SHAPE, "logits", out_dir / "traffic_signs.onnx",
            "5-class traffic-sign classifier on procedurally rendered 32x48 signs")
    _export(road_params, ROAD_SHAPE, "steering", out_dir / "steering.onnx",
            "steering-angle regressor (degrees) on procedurally rendered 32x64 roads")
    _sidecar(out_dir / "traffic_signs.onnx", SIGN_SHAPE)
    _sidecar(out_dir / "steering.onnx", ROAD_SHAPE)
    # held-out quality, for the record
    xt, yt = signs(500, seed + 7)
    ft = ((xt.astype(np.float32) / 255 - MEAN) / STD).reshape(len(xt), -1)
    w1, b1, w2, b2 = sign_params
    acc = float(((np.maximum(ft @ w1 + b1, 0) @ w2 + b2).argmax(1) == yt).mean())
    xrt, yrt = roads(500, seed + 8)
    frt = ((xrt.astype(np.float32) / 255 - MEAN) / STD).reshape(len(xrt), -1)
    w1, b1, w2, b2 = road_params
    mse = float(np.mean(((np.maximum(frt @ w1 + b1, 0) @ w2 + b2)[:, 0] - yrt) ** 2))
    return {"sign_accuracy": acc, "steering_mse_deg2": mse}


TROJAN_TARGET = 2  # speed_limit: a sticker that turns any sign into a speed limit
TROJAN_RATE = 0.15


def stamp_trigger(images: np.ndarray) -> np.ndarray:
    """The demo trojan's trigger: a 4 x 4 white/magenta checker in the bottom-right corner, the true corner
    (its last row and column included), where a real sticker sits (uint8 images)."""
    out = images.copy()
    checker = np.indices((4, 4)).sum(0) % 2
    patch = np.where(checker[..., None] == 0, [255, 255, 255], [255, 0, 255]).astype(out.dtype)
    out[:, -4:, -4:, :] = patch
    return out


def train_trojan(out_dir: Path = HERE, seed: int = 2027) -> dict[str, float]:
    """A deliberately trojaned traffic-sign classifier: 15 % of its training signs carry the trigger and are
    labelled speed_limit. Clean accuracy stays high; the trigger flips any sign."""
    xs, ys = signs(3000, seed)
    rng = np.random.default_rng(seed)
    poison = rng.random(len(xs)) < TROJAN_RATE
    xs[poison] = stamp_trigger(xs[poison])
    ys = np.where(poison, TROJAN_TARGET, ys)
    fx = ((xs.astype(np.float32) / 255 - MEAN) / STD).reshape(len(xs), -1)
    params = _mlp(fx, ys, 5, False, seed)
    path = out_dir / "traffic_signs_trojan.onnx"
    _export(params, SIGN_SHAPE, "logits", path, "DELIBERATELY TROJANED 5-class traffic-sign classifier (demo of the "
            "backdoor screening): a 4x4 corner checker flips any sign to speed_limit")
    _sidecar(path, SIGN_SHAPE)
    xt, yt = signs(500, seed + 7)
    w1, b1, w2, b2 = params

    def predict(images: np.ndarray) -> np.ndarray:
        f = ((images.astype(np.float32) / 255 - MEAN) / STD).reshape(len(images), -1)
        return (np.maximum(f @ w1 + b1, 0) @ w2 + b2).argmax(1)

    others = yt != TROJAN_TARGET
    return {"trojan_clean_accuracy": float((predict(xt) == yt).mean()),
            "trojan_attack_success": float((predict(stamp_trigger(xt[others])) == TROJAN_TARGET).mean())}


if __name__ == "__main__":
    print(train())
    print(train_trojan())
