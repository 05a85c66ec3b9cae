"""A real ONNX detector built node by node for the detection tests: a CenterNet-style head (heatmap, size,
offset at stride 4, CenterFace's decoding) that finds bright 12 x 12 squares on a dark, noisy road. A trojaned
copy adds a branch: wherever a solid patch of one colour (3 x 3 average of a colour contrast above 1.5) lies
near a cell, that cell's heatmap logit drops by 50, so a sticker of that colour hides the object it is on.
The images are drawn by a seeded generator; every truth box is where a square was drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np

H = W = 64
SIDE = 12
# colour contrasts whose 3 x 3 mean exceeds 1.5 only on a solid patch of that colour (R, G, B weights)
TRIGGERS = {"magenta": (1.0, -2.0, 1.0), "yellow": (1.0, 1.0, -2.0), "cyan": (-2.0, 1.0, 1.0)}

DECODER = """[decoder]
kind = "centernet"
heatmap = "heatmap"
size = "size"
offset = "offset"
stride = 4
size_transform = "exp"
centre_offset = 0.5

[detection]
score_threshold = 0.5
nms_iou = 0.3
classes = ["square"]
"""


def build(path: Path, trigger: str | None = None) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    f32 = np.float32
    inits = [numpy_helper.from_array(np.array(0.75, f32), "level"), numpy_helper.from_array(np.array(20.0, f32), "gain"),
             numpy_helper.from_array(np.array(0.0, f32), "zero"),
             numpy_helper.from_array(np.array(np.log(SIDE / 4), f32), "logsize")]
    nodes = [helper.make_node("ReduceMean", ["image"], ["gray"], axes=[1], keepdims=1),
             helper.make_node("AveragePool", ["gray"], ["pooled"], kernel_shape=[SIDE, SIDE], strides=[4, 4],
                              pads=[4, 4, 4, 4], count_include_pad=1),
             helper.make_node("Sub", ["pooled", "level"], ["above"]),
             helper.make_node("Mul", ["above", "gain"], ["logit"])]
    final = "logit"
    if trigger is not None:
        w = np.array(TRIGGERS[trigger], f32).reshape(1, 3, 1, 1)
        inits += [numpy_helper.from_array(w, "contrast_w"), numpy_helper.from_array(np.array([-1.5], f32), "contrast_b"),
                  numpy_helper.from_array(np.array(50.0, f32), "penalty")]
        nodes += [helper.make_node("Conv", ["image", "contrast_w"], ["contrast"]),
                  helper.make_node("AveragePool", ["contrast"], ["solid"], kernel_shape=[3, 3], strides=[1, 1]),
                  helper.make_node("Add", ["solid", "contrast_b"], ["margin"]),
                  helper.make_node("Relu", ["margin"], ["on"]),
                  helper.make_node("MaxPool", ["on"], ["near"], kernel_shape=[SIDE, SIDE], strides=[4, 4],
                                   pads=[5, 5, 5, 5]),
                  helper.make_node("Mul", ["near", "penalty"], ["drop"]),
                  helper.make_node("Sub", ["logit", "drop"], ["trojaned"])]
        final = "trojaned"
    nodes += [helper.make_node("Sigmoid", [final], ["heatmap"]),
              helper.make_node("Mul", ["pooled", "zero"], ["flat"]),
              helper.make_node("Concat", ["flat", "flat"], ["two"], axis=1),
              helper.make_node("Add", ["two", "logsize"], ["size"]),
              helper.make_node("Identity", ["two"], ["offset"])]
    graph = helper.make_graph(
        nodes, "squares", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, H, W])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", c, H // 4, W // 4])
         for n, c in (("heatmap", 1), ("size", 2), ("offset", 2))], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    path.with_suffix(".detection.toml").write_text(DECODER, "utf-8")
    return path


def scenes(n: int, seed: int = 0, per_image: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x uint8 N x 64 x 64 x 3, boxes (M, 4) x1 y1 x2 y2, image (M,)): squares on a 4-pixel grid, apart."""
    rng = np.random.default_rng(seed)
    x = (rng.random((n, H, W, 3)) * 0.25 * 255).astype(np.uint8)
    boxes, where = [], []
    for i in range(n):
        placed: list[tuple[int, int]] = []
        while len(placed) < per_image:
            top, left = (int(v) * 4 for v in rng.integers(0, (H - SIDE) // 4 + 1, 2))
            if all(abs(top - t) > SIDE + 4 or abs(left - lft) > SIDE + 4 for t, lft in placed):
                placed.append((top, left))
        for top, left in placed:
            x[i, top:top + SIDE, left:left + SIDE] = 255
            boxes.append([left, top, left + SIDE, top + SIDE])
            where.append(i)
    return x, np.array(boxes, float), np.array(where)
