"""DeepTest's metamorphic transformations (Tian et al., ICSE 2018), with numpy arithmetic on all
channels (OpenCV's ``cv2.multiply(img, np.array([a]))`` idiom touches channel 0 only, model_checks.md §4).
Levels p = 1..10 follow the DeepTest code's grid, scaled to the image size where it is in pixels."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .corruptions import fog as ic_fog


def _affine(x: np.ndarray, matrix: np.ndarray, offset: np.ndarray) -> np.ndarray:
    return np.stack([np.stack([ndimage.affine_transform(im[..., k], matrix, offset=offset, order=1, mode="nearest")
                               for k in range(im.shape[-1])], -1) for im in x])


def brightness(x, p, rng):
    return np.clip(x + 10 * p / 255.0, 0, 1)


def contrast(x, p, rng):
    return np.clip(x * (1 + 0.2 * p), 0, 1)


def blur(x, p, rng):
    k = (3, 4, 5, 6, 3, 5, 7, 3, 5, 9)[p - 1]
    return ndimage.uniform_filter(x, size=(1, k, k, 1)) if p <= 4 else ndimage.gaussian_filter(x, (0, k / 3, k / 3, 0))


def translation(x, p, rng):
    s = min(x.shape[1:3]) / 224.0
    return _affine(x, np.eye(2), np.array([-10 * p * s, -10 * p * s]) * 0.3)


def rotation(x, p, rng):
    a = np.deg2rad(3 * p)
    m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    c = np.array(x.shape[1:3]) / 2
    return _affine(x, m, c - m @ c)


def scale(x, p, rng):
    f = 1 + 0.05 * p  # DeepTest's 1 + 0.5p zooms far past the frame on small images; a milder grid
    m = np.eye(2) / f
    c = np.array(x.shape[1:3]) / 2
    return _affine(x, m, c - m @ c)


def shear(x, p, rng):
    m = np.array([[1.0, 0.0], [-0.1 * p * 0.3, 1.0]])
    c = np.array(x.shape[1:3]) / 2
    return _affine(x, m, c - m @ c)


def rain(x, p, rng):
    out = x.copy()
    n, h, w, _ = x.shape
    for i in range(n):
        drops = rng.random((h, w)) < 0.004 * p
        streak = ndimage.convolve(drops.astype(float), np.eye(3)[::-1] / 3, mode="constant")
        out[i] = np.clip(out[i] * (1 - 0.15 * p / 10) + streak[..., None] * 0.8, 0, 1)
    return out


def fog(x, p, rng):
    return ic_fog(x, (0.3 * p, 2.0), rng)


TRANSFORMS = {"brightness": brightness, "contrast": contrast, "blur": blur, "translation": translation,
              "rotation": rotation, "scale": scale, "shear": shear, "rain": rain, "fog": fog}
