"""A model the task cannot read is refused before any work, with one line naming its outputs: a detector's
heatmap is never scored as class probabilities."""

from __future__ import annotations

import numpy as np

from tests.conftest import run_cli


def _heatmap_model(path, outputs: int):
    """A CenterNet-like head: a [1, 1, 8, 12] heatmap and, with ``outputs`` > 1, box sizes and offsets."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, outs, inits = [], [], []
    for k in range(outputs):
        w = numpy_helper.from_array(np.full((1, 3, 1, 1), 0.1 * (k + 1), np.float32), f"w{k}")
        inits.append(w)
        nodes.append(helper.make_node("Conv", ["x", f"w{k}"], [f"o{k}"], strides=[4, 4]))
        outs.append(helper.make_tensor_value_info(f"o{k}", TensorProto.FLOAT, [1, 1, 8, 12]))
    graph = helper.make_graph(nodes, "det", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 48])],
                              outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def test_a_detector_is_refused_as_a_classifier_naming_its_outputs(tmp_path):
    images = tmp_path / "x.npz"
    np.savez(images, x=np.random.default_rng(0).random((4, 32, 48, 3)).astype(np.float32), y=np.zeros(4, int))
    _heatmap_model(tmp_path / "det.onnx", 3)
    proc = run_cli("model-check", "--model", str(tmp_path / "det.onnx"), "--data", str(images), "--task",
                   "classification", "--out", str(tmp_path / "o.json"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and not (tmp_path / "o.json").exists()
    line = proc.stderr.strip().splitlines()[-1]
    assert "3 outputs" in line and "o0 [1, 1, 8, 12]" in line and "--output" in line
    # naming one output does not make a heatmap class scores
    proc = run_cli("model-check", "--model", str(tmp_path / "det.onnx"), "--data", str(images), "--task",
                   "classification", "--output", "o1", "--out", str(tmp_path / "o.json"))
    assert proc.returncode == 2 and "spatial map" in proc.stderr and "o1" in proc.stderr
    _heatmap_model(tmp_path / "one.onnx", 1)  # a single heatmap output: refused for its shape alone
    proc = run_cli("model-check", "--model", str(tmp_path / "one.onnx"), "--data", str(images), "--task",
                   "classification", "--out", str(tmp_path / "o.json"))
    assert proc.returncode == 2 and "spatial map" in proc.stderr


def test_an_unknown_output_name_lists_the_real_ones(tmp_path):
    images = tmp_path / "x.npz"
    np.savez(images, x=np.random.default_rng(0).random((4, 32, 48, 3)).astype(np.float32), y=np.zeros(4, int))
    _heatmap_model(tmp_path / "det.onnx", 2)
    proc = run_cli("model-check", "--model", str(tmp_path / "det.onnx"), "--data", str(images), "--task",
                   "classification", "--output", "scores", "--out", str(tmp_path / "o.json"))
    assert proc.returncode == 2 and "--output scores: the model's outputs are o0" in proc.stderr
