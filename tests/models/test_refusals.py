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


def test_labels_by_name_need_the_label_map_and_labels_outside_the_model_are_refused(tmp_path):
    """String labels are read through the label map (one name per line, output order); a name it lacks, an
    index the model has no output for, or a map of the wrong length is one line and exit 2, before any work."""
    from model_checks.demo import SIGNS_MODEL
    from model_checks.demo.render import signs

    x, y = signs(12, 3)
    names = ["stop", "yield", "speed_30", "speed_60", "no_entry"]
    np.savez(tmp_path / "named.npz", x=x, y=np.array([names[int(v)] for v in y]))
    np.savez(tmp_path / "high.npz", x=x, y=np.where(np.arange(len(y)) == 4, 7, y))
    base = ["model-check", "--model", str(SIGNS_MODEL), "--task", "classification", "--out", str(tmp_path / "o.json"),
            "--query-budget", "30"]
    proc = run_cli(*base, "--data", str(tmp_path / "named.npz"))
    assert proc.returncode == 2 and "is a name: give the label map (--labels" in proc.stderr
    proc = run_cli(*base, "--data", str(tmp_path / "high.npz"))
    assert proc.returncode == 2 and "label 7 (item 4) is not one of the model's 5 class indices 0..4" in proc.stderr
    (tmp_path / "map.txt").write_text("\n".join(names[:4]) + "\n")
    proc = run_cli(*base, "--data", str(tmp_path / "named.npz"), "--labels", str(tmp_path / "map.txt"))
    assert proc.returncode == 2 and "names 4 classes; the model answers 5" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "o.json").exists()
    (tmp_path / "map.txt").write_text("\n".join(names) + "\n")
    proc = run_cli(*base, "--data", str(tmp_path / "named.npz"), "--labels", str(tmp_path / "map.txt"))
    assert proc.returncode in (0, 1), proc.stderr
    import json

    doc = json.loads((tmp_path / "o.json").read_text())
    assert doc["subject"]["data"]["classes"] == names
