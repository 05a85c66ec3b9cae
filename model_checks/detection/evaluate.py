"""Detection metrics, as the COCO protocol defines them (Lin et al. 2014; the cocoapi evaluation):
greedy matching by score to the best-overlapping unmatched truth box, 101-point interpolated precision,
AP averaged over classes that have truth boxes, AP@[.5:.95] over ten IoU thresholds, at most 100
detections per image, areas in the original image's pixels (small < 32², medium < 96², large).
Recall (miss rate), false positives per frame and matched-box IoU are read at the deployed score threshold."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .boxes import area, covered_share, enlarge, iou

IOU_THRESHOLDS = tuple(np.round(np.linspace(0.5, 0.95, 10), 2))
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
AREA_RANGES = {"all": (0.0, 1e10), "small": (0.0, 32.0 ** 2), "medium": (32.0 ** 2, 96.0 ** 2),
               "large": (96.0 ** 2, 1e10)}
MAX_DETS = 100


@dataclass
class Detections:
    """One image's detections, in the model's input pixels."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray

    @staticmethod
    def empty() -> Detections:
        return Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64))

    def above(self, threshold: float) -> Detections:
        k = self.scores >= threshold
        return Detections(self.boxes[k], self.scores[k], self.classes[k])


@dataclass
class Truth:
    """One image's truth boxes, in the model's input pixels; ``area_scale`` turns their areas back into the
    original image's pixels (COCO's size ranges are in those)."""

    boxes: np.ndarray
    classes: np.ndarray
    area_scale: float = 1.0
    file: str = ""
    extra: dict = field(default_factory=dict)


def _match(d: Detections, t: Truth, cls: int, thr: float, rng: tuple[float, float]):
    """(scores, tp, ignored) of one image's class-``cls`` detections, and its count of non-ignored truths."""
    dk = np.flatnonzero(d.classes == cls)
    dk = dk[np.argsort(-d.scores[dk], kind="mergesort")]
    gk = np.flatnonzero(t.classes == cls)
    g_area = area(t.boxes[gk]) * t.area_scale
    g_ign = (g_area < rng[0]) | (g_area > rng[1])
    order = np.argsort(g_ign, kind="mergesort")  # truth boxes to ignore are matched last
    gk, g_ign = gk[order], g_ign[order]
    ov = iou(d.boxes[dk], t.boxes[gk])
    taken = np.zeros(len(gk), bool)
    tp = np.zeros(len(dk), bool)
    ign = np.zeros(len(dk), bool)
    floor = min(thr, 1 - 1e-10)
    for i in range(len(dk)):
        m = -1
        for pool in (~g_ign, g_ign):  # a real match beats any box that is ignored
            row = np.where(pool & ~taken & (ov[i] >= floor), ov[i], -1.0)
            if row.size and row.max() >= floor:
                m = len(row) - 1 - int(np.argmax(row[::-1]))  # the last of equal overlaps, as cocoapi keeps it
                break
        if m > -1:
            taken[m], tp[i], ign[i] = True, True, g_ign[m]
    d_area = area(d.boxes[dk]) * t.area_scale
    ign |= ~tp & ((d_area < rng[0]) | (d_area > rng[1]))
    return d.scores[dk], tp, ign, int((~g_ign).sum())


def average_precision(dets: list[Detections], truths: list[Truth], cls: int, thr: float,
                      size: str = "all") -> float | None:
    """AP of one class at one IoU threshold over a dataset; None when the class has no truth box there."""
    rng = AREA_RANGES[size]
    scores, tps, n_pos = [], [], 0
    for d, t in zip(dets, truths, strict=True):
        s, tp, ign, n = _match(_top(d), t, cls, thr, rng)
        scores.append(s[~ign])
        tps.append(tp[~ign])
        n_pos += n
    if n_pos == 0:
        return None
    s, tp = np.concatenate(scores), np.concatenate(tps)
    order = np.argsort(-s, kind="mergesort")
    tp = tp[order]
    ctp, cfp = np.cumsum(tp), np.cumsum(~tp)
    recall = ctp / n_pos
    precision = ctp / np.maximum(ctp + cfp, np.finfo(float).eps)
    precision = np.maximum.accumulate(precision[::-1])[::-1] if len(precision) else precision
    idx = np.searchsorted(recall, RECALL_POINTS, side="left")
    q = np.where(idx < len(precision), precision[np.minimum(idx, max(len(precision) - 1, 0))], 0.0) \
        if len(precision) else np.zeros_like(RECALL_POINTS)
    return float(np.mean(q))


def _top(d: Detections) -> Detections:
    if len(d.scores) <= MAX_DETS:
        return d
    k = np.argsort(-d.scores, kind="mergesort")[:MAX_DETS]
    return Detections(d.boxes[k], d.scores[k], d.classes[k])


def _mean(values: list[float | None]) -> float | None:
    v = [x for x in values if x is not None]
    return float(np.mean(v)) if v else None


def ap_summary(dets: list[Detections], truths: list[Truth], classes: list[int],
               sizes: bool = True) -> dict[str, object]:
    """AP@0.5, AP@0.75 and AP@[.5:.95] (means over classes with truth boxes), per class, and by object size."""
    per: dict[int, list[float | None]] = {c: [average_precision(dets, truths, c, t) for t in IOU_THRESHOLDS]
                                          for c in classes}
    out: dict[str, object] = {
        "ap50": _mean([per[c][0] for c in classes]), "ap75": _mean([per[c][5] for c in classes]),
        "ap": _mean([_mean(per[c]) for c in classes]),
        "per_class": {str(c): {"ap50": per[c][0], "ap": _mean(per[c])} for c in classes}}
    if sizes:
        out["by_size"] = {s: {"ap50": _mean([average_precision(dets, truths, c, 0.5, s) for c in classes])}
                          for s in ("small", "medium", "large")}
    return out


def at_threshold(dets: list[Detections], truths: list[Truth], threshold: float,
                 iou_min: float = 0.5) -> dict[str, object]:
    """What the deployed model does: truth boxes found (same class, IoU ≥ ``iou_min``) among detections
    scoring ≥ ``threshold``, false positives per frame, the matched boxes' IoU, and recall by object size."""
    found = total = fps = 0
    ious: list[float] = []
    by_size = {s: [0, 0] for s in ("small", "medium", "large")}
    for d, t in zip(dets, truths, strict=True):
        d = d.above(threshold)
        hit = _greedy(d, t, iou_min)
        tp_det = hit[hit >= 0]
        found += len(tp_det)
        total += len(t.boxes)
        fps += len(d.boxes) - len(tp_det)
        if len(tp_det):
            ious.extend(np.diag(iou(d.boxes[tp_det], t.boxes[np.flatnonzero(hit >= 0)])).tolist())
        g_area = area(t.boxes) * t.area_scale
        for s in by_size:
            lo, hi = AREA_RANGES[s]
            k = (g_area >= lo) & (g_area < hi)
            by_size[s][0] += int((hit[k] >= 0).sum())
            by_size[s][1] += int(k.sum())
    return {"threshold": threshold, "iou": iou_min, "found": found, "objects": total,
            "recall": found / total if total else None, "miss_rate": 1 - found / total if total else None,
            "false_positives": fps, "frames": len(truths), "fp_per_frame": fps / len(truths) if truths else None,
            "matched_iou_mean": float(np.mean(ious)) if ious else None,
            "recall_by_size": {s: {"found": f, "objects": n, "recall": f / n if n else None}
                               for s, (f, n) in by_size.items()}}


def _greedy(d: Detections, t: Truth, iou_min: float) -> np.ndarray:
    """For each truth box, the index of the detection matched to it (same class, highest score first), or -1."""
    hit = np.full(len(t.boxes), -1)
    if len(d.boxes) == 0 or len(t.boxes) == 0:
        return hit
    ov = iou(d.boxes, t.boxes)
    ov[d.classes[:, None] != t.classes[None, :]] = 0.0
    for i in np.argsort(-d.scores, kind="mergesort"):
        free = np.where(hit < 0, ov[i], -1.0)
        j = int(np.argmax(free))
        if free[j] >= iou_min:
            hit[j] = i
    return hit


def found_mask(d: Detections, t: Truth, threshold: float, iou_min: float = 0.5) -> np.ndarray:
    """Which truth boxes the deployed model finds in this image."""
    return _greedy(d.above(threshold), t, iou_min) >= 0


def coverage(dets: list[Detections], truths: list[Truth], threshold: float, factor: float,
             shape: tuple[int, int], min_share: float) -> dict[str, object]:
    """For an anonymiser: the share of each truth box inside the union of the (enlarged) detections at the
    threshold, whatever their class; a box counts as covered when that share reaches ``min_share``."""
    shares: list[float] = []
    for d, t in zip(dets, truths, strict=True):
        d = d.above(threshold)
        shares.extend(covered_share(t.boxes, enlarge(d.boxes, factor), *shape).tolist())
    arr = np.asarray(shares)
    n = len(arr)
    return {"enlarge": factor, "min_share": min_share, "objects": n,
            "covered": int((arr >= min_share).sum()), "covered_rate": float((arr >= min_share).mean()) if n else None,
            "mean_share": float(arr.mean()) if n else None, "worst_share": float(arr.min()) if n else None}
