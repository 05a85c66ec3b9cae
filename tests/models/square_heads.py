"""The square detector of detector_graph.py written in numpy, answering in the two other output layouts the
built-in decoders read: YOLO-style [B, N, 5 + C] and SSD-style boxes (normalised y1, x1, y2, x2) plus scores.
Used as ``tests.models.square_heads:yolo`` / ``:ssd`` Python models (NHWC batches in [0, 1])."""

from __future__ import annotations

import numpy as np

SIDE, STRIDE, PAD = 12, 4, 4


def _cells(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(score per cell, centre x, centre y) on the 16 x 16 grid, as the ONNX graph computes them."""
    gray = np.pad(np.asarray(batch, float).mean(-1), ((0, 0), (PAD, PAD), (PAD, PAD)))
    integral = np.pad(gray.cumsum(1).cumsum(2), ((0, 0), (1, 0), (1, 0)))
    n = (batch.shape[1] + 2 * PAD - SIDE) // STRIDE + 1
    top = np.arange(n) * STRIDE
    a, b = top[:, None], top[None, :]
    total = (integral[:, a + SIDE, b + SIDE] - integral[:, a, b + SIDE] - integral[:, a + SIDE, b]
             + integral[:, a, b])
    score = 1 / (1 + np.exp(-20 * (total / SIDE**2 - 0.75)))
    cx = np.broadcast_to((np.arange(n)[None, :] + 0.5) * STRIDE, (n, n))
    return score.reshape(len(batch), -1), cx.reshape(-1), cx.T.reshape(-1)


def yolo(batch: np.ndarray) -> dict[str, np.ndarray]:
    score, cx, cy = _cells(batch)
    b = len(batch)
    out = np.stack([np.broadcast_to(cx, score.shape), np.broadcast_to(cy, score.shape),
                    np.full(score.shape, SIDE), np.full(score.shape, SIDE), score, np.ones(score.shape)], -1)
    return {"output0": out.reshape(b, -1, 6)}


def ssd(batch: np.ndarray) -> dict[str, np.ndarray]:
    score, cx, cy = _cells(batch)
    h, w = batch.shape[1:3]
    boxes = np.stack([(cy - SIDE / 2) / h, (cx - SIDE / 2) / w, (cy + SIDE / 2) / h, (cx + SIDE / 2) / w], -1)
    return {"boxes": np.broadcast_to(boxes, score.shape + (4,)).copy(), "scores": score[..., None]}
