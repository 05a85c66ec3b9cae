"""Procedural scenes: traffic signs (5 classes, 32 x 48) and roads with a curvature (32 x 64)."""

from __future__ import annotations

import numpy as np

SIGN_CLASSES = ("stop", "yield", "speed_limit", "no_entry", "mandatory")
SIGN_SHAPE = (32, 48)
ROAD_SHAPE = (32, 64)

RED, WHITE, BLUE, BLACK = (np.array(c, dtype=np.float64) for c in ((0.8, 0.1, 0.1), (0.95, 0.95, 0.95),
                                                                   (0.1, 0.3, 0.8), (0.1, 0.1, 0.1)))


def _background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    top, bottom = rng.uniform(0.3, 0.9, 3), rng.uniform(0.1, 0.6, 3)
    t = np.linspace(0, 1, h)[:, None, None]
    img = top * (1 - t) + bottom * t
    return np.broadcast_to(img, (h, w, 3)).copy() + rng.normal(0, 0.03, (h, w, 3))


def render_sign(cls: int, rng: np.random.Generator) -> np.ndarray:
    h, w = SIGN_SHAPE
    img = _background(h, w, rng)
    cy, cx = h / 2 + rng.uniform(-3, 3), w / 2 + rng.uniform(-8, 8)
    r = rng.uniform(9, 13)
    yy, xx = np.mgrid[0:h, 0:w]
    dy, dx = yy - cy, xx - cx
    dist = np.hypot(dy, dx)
    if cls == 0:  # stop: red octagon, white bar
        oct_d = np.maximum(np.maximum(abs(dx), abs(dy)), (abs(dx) + abs(dy)) / np.sqrt(2))
        img[oct_d < r] = RED
        img[(abs(dy) < r * 0.18) & (abs(dx) < r * 0.6)] = WHITE
    elif cls == 1:  # yield: downward triangle, red border, white inside
        inside = (dy > -r * 0.6) & (dy < r * 0.9) & (abs(dx) < (r * 0.9 - dy) * 0.65)
        inner = (dy > -r * 0.35) & (dy < r * 0.6) & (abs(dx) < (r * 0.6 - dy) * 0.5)
        img[inside] = RED
        img[inner] = WHITE
    elif cls == 2:  # speed limit: white disc, red ring, black digits-ish bars
        img[dist < r] = RED
        img[dist < r * 0.75] = WHITE
        img[(abs(dx + r * 0.22) < r * 0.1) & (abs(dy) < r * 0.4)] = BLACK
        img[(abs(dx - r * 0.22) < r * 0.14) & (abs(dy) < r * 0.4)] = BLACK
    elif cls == 3:  # no entry: red disc, white horizontal bar
        img[dist < r] = RED
        img[(abs(dy) < r * 0.2) & (abs(dx) < r * 0.7)] = WHITE
    else:  # mandatory: blue disc, white arrow
        img[dist < r] = BLUE
        img[(abs(dx) < r * 0.12) & (dy > -r * 0.5) & (dy < r * 0.6)] = WHITE
        img[(dy > -r * 0.6) & (dy < -r * 0.2) & (abs(dx) < (dy + r * 0.6) * 0.9)] = WHITE
    img = img * rng.uniform(0.75, 1.2) + rng.normal(0, 0.02, img.shape)
    return np.clip(img, 0, 1)


def render_road(curvature: float, rng: np.random.Generator) -> np.ndarray:
    h, w = ROAD_SHAPE
    img = _background(h, w, rng)
    horizon = int(h * 0.35)
    ys = np.arange(horizon, h)
    depth = (ys - horizon) / (h - horizon)  # 0 at the horizon, 1 at the bottom
    center = w / 2 + curvature * 22 * (1 - depth) ** 2 + rng.uniform(-2, 2)
    half = 3 + depth * w * 0.42
    xx = np.arange(w)[None, :]
    road = np.abs(xx - center[:, None]) < half[:, None]
    grey = rng.uniform(0.3, 0.45)
    img[horizon:][road] = grey
    for side in (-1, 1):
        line = np.abs(xx - (center + side * half * 0.9)[:, None]) < (0.6 + depth * 1.2)[:, None]
        img[horizon:][line] = WHITE * 0.95
    img = img * rng.uniform(0.8, 1.15) + rng.normal(0, 0.02, img.shape)
    return np.clip(img, 0, 1)


def signs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(SIGN_CLASSES), n)
    x = np.stack([render_sign(int(c), rng) for c in y])
    return (x * 255).round().astype(np.uint8), y.astype(np.int64)


def roads(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = rng.uniform(-1, 1, n)
    x = np.stack([render_road(float(c), rng) for c in k])
    return (x * 255).round().astype(np.uint8), (25.0 * k).astype(np.float64)  # steering angle in degrees
