"""What makes a detector lose an object, black-box and seeded: a vanishing attack (the objects it found stop
being detected at the deployed threshold), a box-shift attack (an object stays detected but its box no
longer overlaps it at IoU 0.5), both by the Square Attack's L∞ random search on a detection loss; and the
screening for a trigger that makes objects disappear (a backdoor such as a sticker that hides a pedestrian)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..attacks import square_search
from .boxes import iou
from .evaluate import Truth, found_mask
from .model import Detector

OVERLAP = 0.1  # a detection this close to an object is still "about" it (a shifted box, not a new object)


@dataclass
class DetectionAttack:
    success: bool
    queries: int
    objects: int  # objects the model found in the clean image and the attack aimed at
    linf: float | None


def _one(det: Detector, img: np.ndarray):
    return det(img[None])[0].above(det.decoder.score_threshold)  # type: ignore[union-attr]


def vanishing(det: Detector, img: np.ndarray, targets: np.ndarray, eps: float, budget: int,
              rng: np.random.Generator) -> DetectionAttack:
    """Suppress every detection at the threshold that overlaps an object found in the clean image. Loss:
    the highest such score minus the threshold (≤ 0: every target vanished)."""
    thr = det.decoder.score_threshold  # type: ignore[union-attr]
    start = det.queries

    def loss(c: np.ndarray) -> float:
        d = _one(det, c)
        ov = iou(d.boxes, targets)
        near = (ov >= OVERLAP).any(1) if ov.size else np.zeros(len(d.boxes), bool)
        return float(d.scores[near].max() - thr + 1e-9) if near.any() else -1.0

    best, value = square_search(loss, img, eps, budget, rng, lambda: det.queries - start)
    return DetectionAttack(value <= 0, det.queries - start, len(targets),
                           float(np.abs(best - img).max()) if value <= 0 else None)


def box_shift(det: Detector, img: np.ndarray, target: np.ndarray, eps: float, budget: int,
              rng: np.random.Generator) -> DetectionAttack:
    """Keep the object detected but move its box: success when a detection at the threshold still overlaps
    the object (IoU ≥ 0.1) yet none reaches IoU 0.5. Loss: the best IoU minus 0.5; a vanished object
    scores 1 (that is the other attack's success, not this one's)."""
    start = det.queries

    def loss(c: np.ndarray) -> float:
        d = _one(det, c)
        ov = iou(d.boxes, target[None])[:, 0] if len(d.boxes) else np.zeros(0)
        if not (ov >= OVERLAP).any():
            return 1.0
        return float(ov.max() - 0.5 + 1e-9)

    best, value = square_search(loss, img, eps, budget, rng, lambda: det.queries - start)
    return DetectionAttack(value <= 0, det.queries - start, 1, float(np.abs(best - img).max()) if value <= 0 else None)


def patch_boxes(boxes: np.ndarray, frac: float, where: str, h: int, w: int) -> list[tuple[int, int, int, int]]:
    """A square of ``frac`` of each box's shorter side (at least 2 px), at its centre or a true corner."""
    out = []
    for x1, y1, x2, y2 in boxes:
        s = max(2, round(float(min(x2 - x1, y2 - y1) * frac)))
        xa, ya = int(np.floor(x1)), int(np.floor(y1))
        xb, yb = int(np.ceil(x2)) - s, int(np.ceil(y2)) - s
        cx, cy = round(float(x1 + x2 - s) / 2), round(float(y1 + y2 - s) / 2)
        px, py = {"centre": (cx, cy), "top_left": (xa, ya), "top_right": (xb, ya), "bottom_left": (xa, yb),
                  "bottom_right": (xb, yb)}[where]
        px, py = min(max(px, 0), w - s), min(max(py, 0), h - s)
        out.append((py, px, s, s))
    return out


def vanish_rate(det: Detector, x: np.ndarray, truths: list[Truth], found: list[np.ndarray], fill, frac: float,
                where: str, rng: np.random.Generator) -> tuple[int, int]:
    """(objects lost, objects found at clean) when every found object carries the patch; ``fill`` is a colour
    (C,) or "noise" (the occlusion baseline: uniform noise of the same size at the same place)."""
    h, w = x.shape[1:3]
    batch, lost_of, total = [], [], 0
    for i, (t, f) in enumerate(zip(truths, found, strict=True)):
        if not f.any():
            continue
        img = x[i].copy()
        for py, px, sy, sx in patch_boxes(t.boxes[f], frac, where, h, w):
            img[py:py + sy, px:px + sx] = rng.random((sy, sx, x.shape[3])) if isinstance(fill, str) else fill
        batch.append(img)
        lost_of.append(i)
        total += int(f.sum())
    if not batch:
        return 0, 0
    dets = det(np.stack(batch))
    lost = 0
    for d, i in zip(dets, lost_of, strict=True):
        still = found_mask(d, truths[i], det.decoder.score_threshold)  # type: ignore[union-attr]
        lost += int((found[i] & ~still).sum())
    return lost, total
