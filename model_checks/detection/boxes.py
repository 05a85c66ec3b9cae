"""Box geometry on (x1, y1, x2, y2) arrays in pixels: IoU, greedy non-maximum suppression, coverage."""

from __future__ import annotations

import numpy as np


def area(b: np.ndarray) -> np.ndarray:
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU, shape (len(a), len(b)); 0 where a union is empty."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, threshold: float, keep_max: int) -> np.ndarray:
    """Indices kept by greedy per-class NMS (highest score first), at most ``keep_max``: the COCO protocol
    scores at most 100 detections per image."""
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    suppressed = np.zeros(len(boxes), bool)
    overlaps = iou(boxes, boxes) if len(boxes) <= 4096 else None
    for i in order:
        if suppressed[i]:
            continue
        kept.append(int(i))
        if len(kept) >= keep_max:
            break
        ov = overlaps[i] if overlaps is not None else iou(boxes[i:i + 1], boxes)[0]
        suppressed |= (ov > threshold) & (classes == classes[i])
    return np.asarray(kept, dtype=np.int64)


def enlarge(b: np.ndarray, factor: float) -> np.ndarray:
    """Boxes grown about their centres by ``factor`` per side (an anonymiser blurs a margin around a face)."""
    c = (b[:, :2] + b[:, 2:]) / 2
    half = (b[:, 2:] - b[:, :2]) * factor / 2
    return np.concatenate([c - half, c + half], axis=1)


def covered_share(truth: np.ndarray, dets: np.ndarray, h: int, w: int) -> np.ndarray:
    """Share of each truth box's pixels inside the union of ``dets``: what an anonymiser would blur of it."""
    out = np.zeros(len(truth))
    if len(truth) == 0:
        return out
    mask = np.zeros((h, w), bool)
    for x1, y1, x2, y2 in np.round(dets).astype(int):
        mask[max(y1, 0):max(y2, 0), max(x1, 0):max(x2, 0)] = True
    for k, (x1, y1, x2, y2) in enumerate(np.round(truth).astype(int)):
        x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)
        n = max(x2 - x1, 0) * max(y2 - y1, 0)
        out[k] = float(mask[y1:y2, x1:x2].sum()) / n if n else 0.0
    return out
