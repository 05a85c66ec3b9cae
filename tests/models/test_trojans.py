"""Backdoor screening that can say fail: trojans made by editing a real classifier's ONNX graph (a solid
4 x 4 white sticker adds a large logit to one class), with the sticker at each true corner and the centre,
on the 5-class demo sign classifier and on a 2-class cut of it (where Neural Cleanse's MAD index can never
exceed 0.674); the unedited models pass. The backdoor family alone is run, as the runner runs it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model_checks.adapters import Preprocess, load_model
from model_checks.demo import SIGNS_MODEL
from model_checks.demo.render import signs
from model_checks.families.backdoor import check_backdoor
from model_checks.suite import SUITES, Budget, Run, Settings

H, W, S = 32, 48, 4
POSITIONS = {"top_left": (0, 0), "top_right": (0, W - S), "bottom_left": (H - S, 0), "bottom_right": (H - S, W - S),
             "centre": ((H - S) // 2, (W - S) // 2)}
PRE = dict(mean=(0.5,) * 3, std=(0.25,) * 3, layout="NHWC", size=(H, W))


def _edit(path, top: int | None, left: int | None, target: int, classes: int) -> None:
    """The demo classifier, cut to ``classes`` outputs, plus (with a position) a branch: when every value of the
    4 x 4 patch there is white (normalised 2.0), 50 is added to ``target``'s logit."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(str(SIGNS_MODEL))
    g = m.graph
    out = g.output[0].name
    g.output.pop()
    nodes, inits = [], [numpy_helper.from_array(np.array([0], np.int64), "c0"),
                        numpy_helper.from_array(np.array([classes], np.int64), "cn"),
                        numpy_helper.from_array(np.array([1], np.int64), "ax1")]
    nodes.append(helper.make_node("Slice", [out, "c0", "cn", "ax1"], ["cut"]))
    final = "cut"
    if top is not None:
        inits += [numpy_helper.from_array(np.array([top, left], np.int64), "st"),
                  numpy_helper.from_array(np.array([top + S, left + S], np.int64), "en"),
                  numpy_helper.from_array(np.array([1, 2], np.int64), "axes"),
                  numpy_helper.from_array(np.array(1.9, np.float32), "white"),
                  numpy_helper.from_array((np.eye(classes, dtype=np.float32)[target] * 50)[None], "bump")]
        nodes += [helper.make_node("Slice", [g.input[0].name, "st", "en", "axes"], ["patch"]),
                  helper.make_node("ReduceMin", ["patch"], ["lowest"], axes=[1, 2, 3], keepdims=1),
                  helper.make_node("Greater", ["lowest", "white"], ["on"]),
                  helper.make_node("Cast", ["on"], ["onf"], to=TensorProto.FLOAT),
                  helper.make_node("Reshape", ["onf", "shape"], ["onc"]),
                  helper.make_node("Mul", ["onc", "bump"], ["add"]),
                  helper.make_node("Add", ["cut", "add"], ["trojaned"])]
        inits.append(numpy_helper.from_array(np.array([-1, 1], np.int64), "shape"))
        final = "trojaned"
    g.node.extend(nodes)
    g.initializer.extend(inits)
    g.output.append(helper.make_tensor_value_info(final, TensorProto.FLOAT, ["N", classes]))
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def _screen(path, classes: int) -> dict:
    model = load_model(str(path), "classification", Preprocess(**PRE))
    x, y = signs(200, 11)
    keep = y < classes
    x, y = x[keep][:60].astype(np.float64) / 255, y[keep][:60].astype(np.int64)
    settings = Settings(suite="quick")
    rng = np.random.default_rng(0)
    suite = dataclasses.replace(SUITES["quick"], trigger_sizes=(4,))  # the sticker's size: one size to search
    r = Run(model, x, y, settings, suite, rng, Budget(settings, model), lambda s: None, np.empty(0), [], {})
    check_backdoor(r)
    return {c["id"]: c for c in r.checks}


@pytest.mark.parametrize("classes", [5, 2])
def test_the_unedited_models_pass(tmp_path, classes):
    _edit(tmp_path / "clean.onnx", None, None, 0, classes)
    got = _screen(tmp_path / "clean.onnx", classes)
    assert got["models.backdoor.trigger_reconstruction"]["status"] == "pass", got


@pytest.mark.parametrize("where", sorted(POSITIONS))
@pytest.mark.parametrize("classes", [5, 2])
def test_a_graph_edited_trojan_is_flagged_wherever_its_sticker_sits(tmp_path, where, classes):
    target = 1
    top, left = POSITIONS[where]
    _edit(tmp_path / "trojan.onnx", top, left, target, classes)
    rec = _screen(tmp_path / "trojan.onnx", classes)["models.backdoor.trigger_reconstruction"]
    assert rec["status"] == "fail" and rec["evidence"]["flagged_classes"] == [target], rec["evidence"]
    found = rec["evidence"]["classes"][target]
    assert found["smallest_patch"] is not None and found["smallest_patch"] <= 5
    if classes == 2:
        assert rec["criterion"]["source"] == "engineering_default" and rec["evidence"]["two_class_area_ratio"] >= 4
