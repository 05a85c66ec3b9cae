"""From a detector's raw outputs to boxes, scores and classes per image, as the model's decoder file
declares (``<model>.detection.toml`` beside the model, or ``--decoder``)::

    [decoder]
    kind = "centernet"        # yolo | boxes_scores | centernet | python
    heatmap = "537"           # centernet: heatmap [B, C, h, w], size [B, 2, h, w], offset [B, 2, h, w]
    size = "538"
    offset = "539"
    stride = 4
    size_transform = "exp"    # exp: exp(v) * size_scale; linear: v * size_scale (size_scale default: stride)
    size_order = "hw"         # hw | wh
    offset_order = "yx"       # yx | xy
    centre_offset = 0.5       # added to the cell index before the stride (CenterFace: 0.5; CenterNet: 0)
    heatmap_activation = "none"   # none | sigmoid
    peaks = "all"             # all | maxpool (CenterNet's 3 x 3 peak extraction)
    # yolo: output = "output0", [B, N, 5 + C] (cx, cy, w, h, objectness, classes) or, with
    #       objectness = false, [B, 4 + C, N] (transposed = true) as YOLOv8 exports it; normalized = false
    # boxes_scores: boxes = "boxes" [B, N, 4], scores = "scores" [B, N] or [B, N, C], classes = "labels"
    #       (optional), box_format = "xyxy" | "yxyx" | "xywh" | "cxcywh", normalized = false
    # python: function = "package.module:decode" called with ({output name: array}, (H, W)) and returning,
    #       per image, (boxes x1,y1,x2,y2 in input pixels, scores, classes)

    [detection]
    score_threshold = 0.5     # the deployed threshold: recall, false positives and coverage are read at it
    nms_iou = 0.3             # 1.0 when the model applies its own NMS
    candidate_score = 0.05    # the lowest score kept for AP
    classes = ["face"]        # the model's classes in output order (the label map); matched by name to the data's
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vehicle_ds.errors import InputError

from .boxes import nms
from .evaluate import MAX_DETS, Detections

KINDS = ("yolo", "boxes_scores", "centernet", "python")
_DECODER_KEYS = {
    "kind", "heatmap", "size", "offset", "stride", "size_transform", "size_scale", "size_order", "offset_order",
    "centre_offset", "heatmap_activation", "peaks", "output", "objectness", "transposed", "normalized", "boxes",
    "scores", "classes", "box_format", "function"}
_DETECTION_KEYS = {"score_threshold", "nms_iou", "candidate_score", "classes"}
MAX_CANDIDATES = 3000  # per image before NMS: the highest scores


@dataclass
class Decoder:
    kind: str
    cfg: dict[str, Any]
    score_threshold: float
    nms_iou: float = 0.5
    candidate_score: float = 0.05
    classes: list[str] = field(default_factory=list)
    source: str = ""
    fn: Callable[..., Any] | None = None

    def outputs_read(self) -> list[str]:
        keys = {"centernet": ("heatmap", "size", "offset"), "yolo": ("output",),
                "boxes_scores": ("boxes", "scores", "classes")}.get(self.kind, ())
        return [str(self.cfg[k]) for k in keys if k in self.cfg]

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, **{k: v for k, v in self.cfg.items() if k != "kind"},
                "score_threshold": self.score_threshold, "nms_iou": self.nms_iou,
                "candidate_score": self.candidate_score, "classes": self.classes, "file": self.source}

    def __call__(self, out: dict[str, np.ndarray], hw: tuple[int, int]) -> list[Detections]:
        if self.kind == "python":
            raw = self.fn(out, hw)
            per = [Detections(np.asarray(b, float).reshape(-1, 4), np.asarray(s, float).reshape(-1),
                              np.asarray(c, np.int64).reshape(-1)) for b, s, c in raw]
        else:
            per = {"centernet": _centernet, "yolo": _yolo, "boxes_scores": _boxes_scores}[self.kind](out, self.cfg, hw)
        return [self._finish(d, hw) for d in per]

    def _finish(self, d: Detections, hw: tuple[int, int]) -> Detections:
        ok = np.isfinite(d.scores) & np.isfinite(d.boxes).all(1) & (d.scores >= self.candidate_score)
        d = Detections(d.boxes[ok], d.scores[ok], d.classes[ok])
        if len(d.scores) > MAX_CANDIDATES:
            k = np.argsort(-d.scores, kind="stable")[:MAX_CANDIDATES]
            d = Detections(d.boxes[k], d.scores[k], d.classes[k])
        h, w = hw
        boxes = np.clip(d.boxes, 0, [w, h, w, h])
        keep = nms(boxes, d.scores, d.classes, self.nms_iou, MAX_DETS) if self.nms_iou < 1.0 else \
            np.argsort(-d.scores, kind="stable")[:MAX_DETS]
        return Detections(boxes[keep], d.scores[keep], d.classes[keep])


def _get(out: dict[str, np.ndarray], cfg: dict[str, Any], key: str) -> np.ndarray:
    name = str(cfg[key])
    if name not in out:
        raise InputError(f"the decoder reads output {name!r} ({key}); the model's outputs are {', '.join(out)}")
    return np.asarray(out[name], dtype=np.float64)


def _centernet(out: dict[str, np.ndarray], cfg: dict[str, Any], hw: tuple[int, int]) -> list[Detections]:
    heat, size, off = _get(out, cfg, "heatmap"), _get(out, cfg, "size"), _get(out, cfg, "offset")
    if heat.ndim != 4 or size.shape[1] != 2 or off.shape[1] != 2 or size.shape[2:] != heat.shape[2:]:
        raise InputError(f"centernet decoder: heatmap {list(heat.shape)}, size {list(size.shape)}, offset "
                         f"{list(off.shape)} are not [B, C, h, w], [B, 2, h, w], [B, 2, h, w]")
    if cfg.get("heatmap_activation", "none") == "sigmoid":
        heat = 1.0 / (1.0 + np.exp(-heat))
    if cfg.get("peaks", "all") == "maxpool":
        from scipy import ndimage

        heat = np.where(heat == ndimage.maximum_filter(heat, size=(1, 1, 3, 3), mode="constant", cval=-np.inf),
                        heat, 0.0)
    stride = float(cfg.get("stride", 4))
    scale = float(cfg.get("size_scale", stride))
    shift = float(cfg.get("centre_offset", 0.0))
    s = np.exp(size) * scale if cfg.get("size_transform", "exp") == "exp" else size * scale
    sh, sw = (s[:, 0], s[:, 1]) if cfg.get("size_order", "hw") == "hw" else (s[:, 1], s[:, 0])
    oy, ox = (off[:, 0], off[:, 1]) if cfg.get("offset_order", "yx") == "yx" else (off[:, 1], off[:, 0])
    rows, cols = np.meshgrid(np.arange(heat.shape[2]), np.arange(heat.shape[3]), indexing="ij")
    cx = (cols[None] + ox + shift) * stride
    cy = (rows[None] + oy + shift) * stride
    dets = []
    for b in range(heat.shape[0]):
        c, i, j = np.nonzero(heat[b] >= 1e-3)  # a floor before the candidate score: most cells are empty
        boxes = np.stack([cx[b, i, j] - sw[b, i, j] / 2, cy[b, i, j] - sh[b, i, j] / 2,
                          cx[b, i, j] + sw[b, i, j] / 2, cy[b, i, j] + sh[b, i, j] / 2], axis=1)
        dets.append(Detections(boxes, heat[b, c, i, j], c.astype(np.int64)))
    return dets


def _to_xyxy(b: np.ndarray, fmt: str, normalized: bool, hw: tuple[int, int]) -> np.ndarray:
    if fmt == "yxyx":
        b = b[..., [1, 0, 3, 2]]
    elif fmt == "xywh":
        b = np.concatenate([b[..., :2], b[..., :2] + b[..., 2:]], axis=-1)
    elif fmt == "cxcywh":
        b = np.concatenate([b[..., :2] - b[..., 2:] / 2, b[..., :2] + b[..., 2:] / 2], axis=-1)
    if normalized:
        h, w = hw
        b = b * np.array([w, h, w, h])
    return b


def _yolo(out: dict[str, np.ndarray], cfg: dict[str, Any], hw: tuple[int, int]) -> list[Detections]:
    y = _get(out, cfg, "output")
    if y.ndim != 3:
        raise InputError(f"yolo decoder: output {cfg['output']} is {list(y.shape)}, not [B, N, 5 + C]")
    if cfg.get("transposed", y.shape[1] < y.shape[2]):
        y = np.transpose(y, (0, 2, 1))
    obj = bool(cfg.get("objectness", True))
    boxes = _to_xyxy(y[..., :4], "cxcywh", bool(cfg.get("normalized", False)), hw)
    cls = y[..., 5:] if obj else y[..., 4:]
    if cls.shape[-1] == 0:
        cls = np.ones(y.shape[:2] + (1,))
    best = cls.argmax(-1)
    score = np.take_along_axis(cls, best[..., None], -1)[..., 0] * (y[..., 4] if obj else 1.0)
    return [Detections(boxes[b], score[b], best[b].astype(np.int64)) for b in range(y.shape[0])]


def _boxes_scores(out: dict[str, np.ndarray], cfg: dict[str, Any], hw: tuple[int, int]) -> list[Detections]:
    boxes = _to_xyxy(_get(out, cfg, "boxes"), str(cfg.get("box_format", "xyxy")), bool(cfg.get("normalized", False)), hw)
    scores = _get(out, cfg, "scores")
    if scores.ndim == 3:
        cls, scores = scores.argmax(-1), scores.max(-1)
    else:
        cls = _get(out, cfg, "classes").astype(np.int64) if "classes" in cfg else np.zeros(scores.shape, np.int64)
    return [Detections(boxes[b].reshape(-1, 4), scores[b].reshape(-1), cls[b].reshape(-1)) for b in range(len(scores))]


def load_decoder(path: Path, threshold: float | None) -> Decoder:
    """The decoder file, checked before any work; ``threshold`` (--score-threshold) overrides the file's."""
    from vehicle_ds.tomlfile import read_toml

    raw = read_toml(path, "decoder file")
    dec, det = raw.get("decoder"), raw.get("detection", {})
    if not isinstance(dec, dict) or dec.get("kind") not in KINDS:
        raise InputError(f"[decoder] kind must be one of {', '.join(KINDS)}", path=str(path))
    for section, keys, known in (("decoder", dec, _DECODER_KEYS), ("detection", det, _DETECTION_KEYS)):
        unknown = sorted(set(keys) - known)
        if unknown:
            raise InputError(f"[{section}] has no setting {unknown[0]!r} (known: {', '.join(sorted(known))})", path=str(path))
    need = {"centernet": ("heatmap", "size", "offset"), "yolo": ("output",), "boxes_scores": ("boxes", "scores"),
            "python": ("function",)}[dec["kind"]]
    missing = [k for k in need if k not in dec]
    if missing:
        raise InputError(f"[decoder] kind = {dec['kind']!r} needs {', '.join(missing)}", path=str(path))
    thr = threshold if threshold is not None else det.get("score_threshold")
    if not isinstance(thr, (int, float)) or isinstance(thr, bool) or not 0 < thr <= 1:
        raise InputError("the deployed score threshold is not declared: recall and false positives are read at it "
                         "([detection] score_threshold in the decoder file, or --score-threshold)", path=str(path))
    fn = None
    if dec["kind"] == "python":
        spec = str(dec["function"])
        mod, _, name = spec.partition(":")
        try:
            fn = getattr(importlib.import_module(mod), name)
        except (ImportError, AttributeError, ValueError) as exc:
            raise InputError(f"cannot load decoder function {spec}: {exc}", path=str(path)) from None
    cand = float(det.get("candidate_score", min(0.05, float(thr))))
    return Decoder(dec["kind"], dec, float(thr), float(det.get("nms_iou", 0.5)), cand,
                   [str(c) for c in det.get("classes", [])], str(path), fn)
