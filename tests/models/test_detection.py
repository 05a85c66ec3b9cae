"""``--task detection`` on a real ONNX detector built node by node (tests/models/detector_graph.py): the COCO
metrics against a hand computation, the three ground-truth formats read alike, a full quick run through the
command, attacks that can and cannot succeed, graph-edited trojans that hide the object their sticker is on
flagged and the clean detector passing, and the refusals (no threshold, a label the model does not name)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from model_checks.adapters import Preprocess
from model_checks.detection import attacks as det_attacks
from model_checks.detection.decoders import load_decoder
from model_checks.detection.evaluate import Detections, Truth, ap_summary, at_threshold, average_precision, coverage
from model_checks.detection.model import load_detector
from model_checks.detection.truth import load_boxes
from model_checks.families.detection import check_clean, check_vanishing_trigger
from model_checks.suite import SUITES, Budget, Run, Settings
from tests.conftest import run_cli
from tests.models.detector_graph import SIDE, TRIGGERS, build, scenes
from vehicle_ds.errors import InputError


def test_average_precision_equals_a_hand_computation():
    """TP 0.9, FP 0.8, TP 0.7 over two truths: precision envelope 1 up to recall 0.5, then 2/3; 101 points."""
    t = [Truth(np.array([[0, 0, 10, 10.]]), np.array([0])), Truth(np.array([[20, 20, 30, 30.]]), np.array([0]))]
    d = [Detections(np.array([[0, 0, 10, 10.], [40, 40, 50, 50]]), np.array([0.9, 0.8]), np.array([0, 0])),
         Detections(np.array([[21, 20, 31, 30.]]), np.array([0.7]), np.array([0]))]
    assert average_precision(d, t, 0, 0.5) == pytest.approx((51 * 1 + 50 * 2 / 3) / 101)
    # IoU of the second match is 90/110 = 0.818: it counts up to the 0.80 threshold and not at 0.85
    assert average_precision(d, t, 0, 0.8) == pytest.approx((51 + 50 * 2 / 3) / 101)
    assert average_precision(d, t, 0, 0.85) == pytest.approx(51 / 101)
    at = at_threshold(d, t, 0.75)
    assert (at["found"], at["false_positives"], at["fp_per_frame"], at["recall"]) == (1, 1, 0.5, 0.5)
    cov = coverage(d, t, 0.6, 1.0, (64, 64), 1.0)
    assert cov["covered"] == 1 and cov["worst_share"] == pytest.approx(0.9)  # the shifted box misses a column


@pytest.fixture(scope="module")
def squares(tmp_path_factory):
    d = tmp_path_factory.mktemp("squares")
    x, boxes, where = scenes(24)
    np.savez(d / "squares.npz", x=x, boxes=boxes, image=where, label=np.zeros(len(boxes), int),
             names=np.array(["square"]))
    build(d / "clean.onnx")
    return d


def _formats(d: Path, x: np.ndarray, boxes: np.ndarray, where: np.ndarray) -> tuple[Path, Path]:
    from PIL import Image

    (d / "yolo" / "images").mkdir(parents=True)
    (d / "yolo" / "labels").mkdir()
    (d / "yolo" / "classes.txt").write_text("square\n")
    images, anns = [], []
    for i in range(len(x)):
        Image.fromarray(x[i]).save(d / "yolo" / "images" / f"{i:03d}.png")
        images.append({"id": i + 1, "file_name": f"yolo/images/{i:03d}.png", "width": 64, "height": 64})
        lines = []
        for b in boxes[where == i]:
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": 7,
                         "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]]})
            lines.append(f"0 {(b[0] + b[2]) / 128} {(b[1] + b[3]) / 128} {(b[2] - b[0]) / 64} {(b[3] - b[1]) / 64}")
        (d / "yolo" / "labels" / f"{i:03d}.txt").write_text("\n".join(lines) + "\n")
    (d / "coco.json").write_text(json.dumps({"images": images, "annotations": anns,
                                             "categories": [{"id": 7, "name": "square"}]}))
    return d / "coco.json", d / "yolo"


def test_coco_yolo_and_npz_read_alike(squares, tmp_path):
    x, boxes, where = scenes(24)
    coco, yolo = _formats(tmp_path, x, boxes, where)
    sets = [load_boxes(p, (64, 64)) for p in (squares / "squares.npz", coco, yolo)]
    for s in sets:
        assert s.names == ["square"] and s.info["objects"] == 48
        assert np.array_equal(s.x, sets[0].x)
        for a, b in zip(s.truths, sets[0].truths, strict=True):
            assert np.allclose(a.boxes, b.boxes) and np.array_equal(a.classes, b.classes)
    (yolo / "labels" / "003.txt").write_text("0 0.5 0.5 0.1\n")
    with pytest.raises(InputError, match=r"003.txt:1: expected 'class cx cy w h'"):
        load_boxes(yolo, (64, 64))


def _run(model_path: Path, data: Path, suite: str = "quick", **changes) -> Run:
    det = load_detector(str(model_path), Preprocess(), load_decoder(model_path.with_suffix(".detection.toml"), None))
    boxes = load_boxes(data, (64, 64))
    y = np.empty(len(boxes.truths), dtype=object)
    y[:] = boxes.truths
    settings = Settings(suite=suite)
    return Run(det, boxes.x, y, settings, dataclasses.replace(SUITES[suite], **changes), np.random.default_rng(0),
               Budget(settings, det), lambda s: None, np.empty(0), [], {})


def test_the_clean_detector_finds_every_square_and_carries_no_trigger(squares):
    r = _run(squares / "clean.onnx", squares / "squares.npz")
    check_clean(r)
    check_vanishing_trigger(r)
    got = {c["id"]: c for c in r.checks}
    clean = got["models.detection.clean"]
    assert clean["metrics"]["ap50"] == 1.0 and clean["metrics"]["recall"] == 1.0
    assert clean["status"] == "needs_review"  # no acceptance profile: numbers, no verdict
    assert got["models.detection.backdoor"]["status"] == "pass", got["models.detection.backdoor"]["metrics"]


@pytest.mark.parametrize("colour", sorted(TRIGGERS))
def test_a_trojan_that_hides_objects_under_a_sticker_is_flagged(squares, tmp_path, colour):
    build(tmp_path / "trojan.onnx", colour)
    r = _run(tmp_path / "trojan.onnx", squares / "squares.npz")
    check_clean(r)
    assert r.checks[0]["metrics"]["recall"] == 1.0  # without the sticker it is as good as the clean one
    check_vanishing_trigger(r)
    bd = r.checks[-1]
    assert bd["status"] == "fail"
    want = [float(v > 0) for v in TRIGGERS[colour]]
    assert any(f["colour"] == want and f["rate"] == 1.0 for f in bd["evidence"]["flagged"]), bd["evidence"]
    assert {f["position"] for f in bd["evidence"]["flagged"] if f["colour"] == want} == {
        "centre", "top_left", "top_right", "bottom_left", "bottom_right"}


def test_the_vanishing_attack_succeeds_only_with_room_to_act(squares):
    r = _run(squares / "clean.onnx", squares / "squares.npz")
    check_clean(r)
    img, target = r.x[0], r.y[0].boxes
    none = det_attacks.vanishing(r.model, img, target, 0.0, 30, np.random.default_rng(0))
    assert not none.success and none.queries == 30  # ε = 0 changes nothing: every query is spent, no success
    big = det_attacks.vanishing(r.model, img, target, 0.6, 300, np.random.default_rng(0))
    assert big.success and big.queries <= 300 and big.linf <= 0.6 + 1e-9


def test_the_command_runs_the_quick_suite_with_an_acceptance_profile(squares, tmp_path):
    acc = tmp_path / "acc.toml"
    acc.write_text("[detection]\nmin_ap50 = 0.9\nmin_recall = 0.95\nmax_fp_per_frame = 0.5\nmin_coverage = 0.95\n")
    out = tmp_path / "det.json"
    proc = run_cli("model-check", "--model", str(squares / "clean.onnx"), "--data", str(squares / "squares.npz"),
                   "--task", "detection", "--suite", "quick", "--acceptance", str(acc), "--out", str(out))
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(out.read_text())
    got = {c["id"]: c for c in doc["checks"]}
    assert doc["summary"]["complete"] and doc["subject"]["task"] == "detection"
    assert got["models.detection.clean"]["status"] == "pass" and got["models.detection.coverage"]["status"] == "pass"
    corr = got["models.detection.corruption"]["metrics"]
    assert len(corr["per_corruption"]) == 15 and 0 <= corr["rpc"]["ap"] <= 1.5
    assert corr["mpc"]["ap50"] == pytest.approx(np.mean([row["ap50"] or 0 for rows in corr["per_corruption"].values()
                                                         for row in rows]))
    assert doc["subject"]["data"]["objects"] == 48 and doc["subject"]["data"]["classes"] == ["square"]


def test_refusals_name_the_cause(squares, tmp_path):
    model = tmp_path / "m.onnx"
    build(model)
    toml = model.with_suffix(".detection.toml")
    toml.write_text(toml.read_text().replace("score_threshold = 0.5\n", ""))
    args = ["model-check", "--model", str(model), "--data", str(squares / "squares.npz"), "--task", "detection",
            "--out", str(tmp_path / "o.json")]
    proc = run_cli(*args)
    assert proc.returncode == 2 and "score threshold is not declared" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli(*args, "--score-threshold", "0.5", "--query-budget", "60")  # the command line supplies it
    assert proc.returncode in (0, 1), proc.stderr
    toml.write_text(toml.read_text().replace('classes = ["square"]', 'classes = ["car"]'))
    proc = run_cli(*args, "--score-threshold", "0.5")
    assert proc.returncode == 2 and "labels 'square', which the model's classes (car) do not name" in proc.stderr
    assert not (tmp_path / "o2.json").exists()
    proc = run_cli("model-check", "--model", str(model), "--data", str(squares / "squares.npz"), "--task",
                   "classification", "--out", str(tmp_path / "c.json"))
    assert proc.returncode == 2 and "3 outputs" in proc.stderr  # a detector is not a classifier


def test_object_size_is_counted_in_original_pixels(tmp_path):
    """A square of 12 px in a 64 px image resized to 32 px is still 'small' by its original area."""
    x, boxes, where = scenes(2)
    np.savez(tmp_path / "s.npz", x=x, boxes=boxes, image=where)
    data = load_boxes(tmp_path / "s.npz", (32, 32))
    assert data.truths[0].area_scale == 4.0 and np.allclose(data.truths[0].boxes[0, 2] - data.truths[0].boxes[0, 0],
                                                            SIDE / 2)
    aps = ap_summary([Detections(t.boxes, np.ones(len(t.boxes)), t.classes) for t in data.truths], data.truths, [0])
    assert aps["by_size"]["small"]["ap50"] == 1.0 and aps["by_size"]["medium"]["ap50"] is None


@pytest.mark.parametrize(("spec", "decoder"), [
    ("tests.models.square_heads:yolo", '[decoder]\nkind = "yolo"\noutput = "output0"\n'),
    ("tests.models.square_heads:ssd", '[decoder]\nkind = "boxes_scores"\nboxes = "boxes"\nscores = "scores"\n'
                                      'box_format = "yxyx"\nnormalized = true\n'),
])
def test_the_yolo_and_box_score_decoders_read_the_same_detector(squares, tmp_path, spec, decoder):
    """The same numpy detector answering in YOLO's and SSD's layouts: every square found, AP 1, after NMS."""
    toml = tmp_path / "d.toml"
    toml.write_text(decoder + '\n[detection]\nscore_threshold = 0.5\nnms_iou = 0.3\nclasses = ["square"]\n')
    det = load_detector(spec, Preprocess(size=(64, 64)), load_decoder(toml, None))
    data = load_boxes(squares / "squares.npz", (64, 64))
    dets = det(data.x)
    assert ap_summary(dets, data.truths, [0])["ap50"] == 1.0
    at = at_threshold(dets, data.truths, 0.5)
    assert at["recall"] == 1.0 and at["false_positives"] == 0 and at["matched_iou_mean"] == pytest.approx(1.0)
    assert det.queries == len(data.x)


def test_numbered_classes_are_the_models_indices_and_one_beyond_them_is_refused(squares, tmp_path):
    """Data without class names (YOLO without classes.txt, an npz without names) is read as the model's own
    indices; an index the model does not have is refused before any work, naming it."""
    x, boxes, where = scenes(6)
    model = tmp_path / "m.onnx"
    build(model)
    base = ["model-check", "--model", str(model), "--task", "detection", "--query-budget", "40"]
    np.savez(tmp_path / "zero.npz", x=x, boxes=boxes, image=where, label=np.zeros(len(boxes), int))
    proc = run_cli(*base, "--data", str(tmp_path / "zero.npz"), "--out", str(tmp_path / "a.json"))
    assert proc.returncode in (0, 1), proc.stderr
    np.savez(tmp_path / "two.npz", x=x, boxes=boxes, image=where, label=np.arange(len(boxes)) % 2)
    proc = run_cli(*base, "--data", str(tmp_path / "two.npz"), "--out", str(tmp_path / "b.json"))
    assert proc.returncode == 2 and "the data uses class 1; the model's classes are square" in proc.stderr
    assert not (tmp_path / "b.json").exists()
