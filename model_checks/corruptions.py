"""The 15 ImageNet-C corruptions and the 4 extras, at 5 severities, with exactly the parameters of
../shared/reference/imagenet_c_params.md (Hendrycks & Dietterich 2019).

Images are float arrays in [0, 1], shape (N, H, W, C), any size (non-square included); every function
takes a batch and a seeded ``numpy.random.Generator`` and returns a batch. Where the original used
ImageMagick (motion blur, snow) or photographs (frost), the same parameters drive a numpy/scipy
re-implementation. Size policy: parameters that are pixel lengths (motion blur, glass blur, snow) are used
as they are, whatever the image size, as the `imagecorruptions` package does, unless the caller asks to
scale them to the image's shorter side (``scale_to_size``); elastic transform is relative to its 244-px basis.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from scipy import ndimage

Images = np.ndarray

PARAMS: dict[str, tuple] = {
    "gaussian_noise": (.08, .12, .18, .26, .38),
    "shot_noise": (60, 25, 12, 5, 3),
    "impulse_noise": (.03, .06, .09, .17, .27),
    "defocus_blur": ((3, .1), (4, .5), (6, .5), (8, .5), (10, .5)),
    "glass_blur": ((.7, 1, 2), (.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)),
    "motion_blur": ((10, 3), (15, 5), (15, 8), (15, 12), (20, 15)),
    "zoom_blur": ((1.11, .01), (1.16, .01), (1.21, .02), (1.26, .02), (1.31, .03)),
    "snow": ((.1, .3, 3, .5, 10, 4, .8), (.2, .3, 2, .5, 12, 4, .7), (.55, .3, 4, .9, 12, 8, .7),
             (.55, .3, 4.5, .85, 12, 8, .65), (.55, .3, 2.5, .85, 12, 12, .55)),
    "frost": ((1, .4), (.8, .6), (.7, .7), (.65, .7), (.6, .75)),
    "fog": ((1.5, 2), (2, 2), (2.5, 1.7), (2.5, 1.5), (3, 1.4)),
    "brightness": (.1, .2, .3, .4, .5),
    "contrast": (.4, .3, .2, .1, .05),
    "elastic_transform": ((488, 170.8, 24.4), (488, 19.52, 48.8), (12.2, 2.44, 4.88), (17.08, 2.44, 4.88),
                          (29.28, 2.44, 4.88)),
    "pixelate": (.6, .5, .4, .3, .25),
    "jpeg_compression": (25, 18, 15, 10, 7),
    "speckle_noise": (.15, .2, .35, .45, .6),
    "gaussian_blur": (1, 2, 3, 4, 6),
    "spatter": ((.65, .3, 4, .69, .6, 0), (.65, .3, 3, .68, .6, 0), (.65, .3, 2, .68, .5, 0),
                (.65, .3, 1, .65, 1.5, 1), (.67, .4, 1, .65, 1.5, 1)),
    "saturate": ((.3, 0), (.1, 0), (2, 0), (5, .1), (20, .2)),
}
TEST_CORRUPTIONS = tuple(list(PARAMS)[:15])
EXTRA_CORRUPTIONS = tuple(list(PARAMS)[15:])
ALEXNET_ERRORS = dict(zip(TEST_CORRUPTIONS, (.886428, .894468, .922640, .819880, .826268, .785948, .798360, .866816,
                                             .826572, .819324, .564592, .853204, .646056, .717840, .606500),
                          strict=True))
ALEXNET_CLEAN_ERROR = 0.4345
# np.arange(1, end, step) as the original computed it (float round-off: 12, 16, 11, 13, 11 factors)
ZOOM_FACTORS = tuple(tuple(float(z) for z in np.arange(1, end, step)) for end, step in PARAMS["zoom_blur"])


def _clip(x: Images) -> Images:
    return np.clip(x, 0.0, 1.0)


def _per_image(fn: Callable[[np.ndarray], np.ndarray], x: Images) -> Images:
    return np.stack([fn(img) for img in x])


# --- noise ----------------------------------------------------------------------------------------------

def gaussian_noise(x: Images, c: float, rng: np.random.Generator) -> Images:
    return _clip(x + rng.normal(0.0, c, x.shape))


def shot_noise(x: Images, c: float, rng: np.random.Generator) -> Images:
    return _clip(rng.poisson(x * c) / c)


def impulse_noise(x: Images, c: float, rng: np.random.Generator) -> Images:
    """Salt and pepper on a fraction c of the values (skimage's ``s&p``, salt_vs_pepper 0.5)."""
    out = x.copy()
    hit = rng.random(x.shape) < c
    salt = rng.random(x.shape) < 0.5
    out[hit & salt] = 1.0
    out[hit & ~salt] = 0.0
    return out


def speckle_noise(x: Images, c: float, rng: np.random.Generator) -> Images:
    return _clip(x + x * rng.normal(0.0, c, x.shape))


# --- blur -----------------------------------------------------------------------------------------------

def gaussian_blur(x: Images, c: float, rng: np.random.Generator) -> Images:
    return _clip(ndimage.gaussian_filter(x, sigma=(0, c, c, 0), mode="reflect"))


def _disk(radius: float, alias_blur: float) -> np.ndarray:
    span = np.arange(-8, 9) if radius <= 8 else np.arange(-radius, radius + 1)
    xx, yy = np.meshgrid(span, span)
    disk = (xx ** 2 + yy ** 2 <= radius ** 2).astype(np.float64)
    disk /= disk.sum()
    # the original blurs the disk with a 3x3 (5x5 above radius 8) Gaussian of sigma alias_blur
    half = 1 if radius <= 8 else 2
    return ndimage.gaussian_filter(disk, sigma=alias_blur, truncate=half / max(alias_blur, 1e-6))


def _convolve_batch(x: Images, k: np.ndarray) -> Images:
    """Reflect-padded 2-D convolution of every image and channel at once, by FFT (large kernels)."""
    from scipy.signal import fftconvolve

    ph, pw = k.shape[0] // 2, k.shape[1] // 2
    mode = "reflect" if min(x.shape[1:3]) > max(ph, pw) else "edge"
    xp = np.pad(x, ((0, 0), (ph, k.shape[0] - 1 - ph), (pw, k.shape[1] - 1 - pw), (0, 0)), mode=mode)
    return fftconvolve(xp, k[::-1, ::-1][None, :, :, None], mode="valid", axes=(1, 2))


def defocus_blur(x: Images, c: tuple, rng: np.random.Generator) -> Images:
    return _clip(_convolve_batch(x, _disk(*c)))


def glass_blur(x: Images, c: tuple, rng: np.random.Generator, scale: float = 1.0) -> Images:
    """ImageNet-C's glass blur: Gaussian blur, then ``iterations`` passes of local pixel moves (``_glass_moves``),
    then Gaussian blur again. The move sequence is drawn once per batch and applied to every image of it (each
    image's corruption has ImageNet-C's distribution; images of one batch share it), so the Python loop runs
    H×W×iterations times per batch, not per image."""
    sigma, delta, iterations = c
    delta = max(1, round(delta * scale))
    out = ndimage.gaussian_filter(x, sigma=(0, sigma, sigma, 0))
    _, h, w, _ = x.shape
    for _ in range(iterations):
        _glass_moves(out, rng.integers(-delta, delta, size=(h - 2 * delta, w - 2 * delta, 2)), delta)  # randint's range
    return _clip(ndimage.gaussian_filter(out, sigma=(0, sigma, sigma, 0)))


def _glass_moves(out: Images, offsets: np.ndarray, delta: int) -> None:
    """In place, each pixel from the bottom-right inwards takes the value of a random neighbour within
    ``delta``. The reference writes this as a swap of two NumPy views (``x[h, w], x[h', w'] = x[h', w'],
    x[h, w]``), which copies the neighbour and leaves it as it was: a copy, not a swap, and that is what the
    published ImageNet-C numbers measured. A later move sees the result of the earlier ones."""
    _, h, w, _ = out.shape
    for i, r in enumerate(range(h - delta, delta, -1)):
        for j, col in enumerate(range(w - delta, delta, -1)):
            dy, dx = offsets[i, j]
            out[:, r, col] = out[:, r + dy, col + dx]


def _motion_kernel(radius: float, sigma: float, angle_deg: float, h: int, w: int) -> np.ndarray:
    """ImageMagick's motion blur as ImageNet-C applies it: ``2·radius + 1`` taps along a line at ``angle_deg``,
    Gaussian weights (σ) normalised over the taps, tap t taken ``t`` pixels back along the line (offsets
    rounded half down); taps that would leave an image of ``h``×``w`` pixels are dropped, as the original
    stops there. Returned as a correlation kernel centred on the pixel."""
    width = int(2 * round(radius) + 1)
    t = np.arange(width)
    weights = np.exp(-(t ** 2) / (2 * sigma ** 2))
    weights /= weights.sum()
    a = np.deg2rad(angle_deg)
    dy = -np.ceil(t * np.sin(a) - 0.5).astype(int)
    dx = -np.ceil(t * np.cos(a) - 0.5).astype(int)
    inside = (np.abs(dy) < h) & (np.abs(dx) < w)
    stop = int(np.argmin(inside)) if not inside.all() else width
    k = np.zeros((2 * width + 1, 2 * width + 1))
    np.add.at(k, (width - dy[:stop], width - dx[:stop]), weights[:stop])
    return k


def _correlate_edge(im: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Correlate an H×W×C image with a square kernel, edges replicated (the original shifts with edge fill)."""
    from scipy.signal import fftconvolve

    p = k.shape[0] // 2
    padded = np.pad(im, ((p, p), (p, p), (0, 0)), mode="edge")
    return fftconvolve(padded, k[::-1, ::-1, None], mode="valid", axes=(0, 1))


def motion_blur(x: Images, c: tuple, rng: np.random.Generator, scale: float = 1.0) -> Images:
    radius, sigma = c[0] * scale, c[1] * scale
    _, h, w, _ = x.shape
    return _clip(np.stack([_correlate_edge(im, _motion_kernel(radius, sigma, rng.uniform(-45, 45), h, w)) for im in x]))


def _clipped_zoom(img: np.ndarray, factor: float) -> np.ndarray:
    h, w = img.shape[:2]
    ch, cw = int(np.ceil(h / factor)), int(np.ceil(w / factor))
    top, left = (h - ch) // 2, (w - cw) // 2
    crop = img[top:top + ch, left:left + cw]
    zoomed = ndimage.zoom(crop, (h / ch, w / cw, 1) if img.ndim == 3 else (h / ch, w / cw), order=1)
    return zoomed[:h, :w]


def _resize_bilinear(x: Images, out_h: int, out_w: int) -> Images:
    """Bilinear resize of a whole batch, on ``ndimage.zoom``'s grid (corner pixels map to corners)."""
    _, h, w, _ = x.shape
    ys = np.linspace(0, h - 1, out_h) if out_h > 1 else np.zeros(1)
    xs = np.linspace(0, w - 1, out_w) if out_w > 1 else np.zeros(1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[None, :, None, None], (xs - x0)[None, None, :, None]
    rows = x[:, y0] * (1 - wy) + x[:, y1] * wy  # separable: rows first, then columns
    return rows[:, :, x0] * (1 - wx) + rows[:, :, x1] * wx


def zoom_blur(x: Images, c: tuple, rng: np.random.Generator, severity: int | None = None) -> Images:
    factors = ZOOM_FACTORS[severity - 1] if severity else tuple(np.arange(1, c[0], c[1]))
    _, h, w, _ = x.shape
    acc = x.copy()
    for z in factors:  # one zoom over the whole batch per factor
        ch, cw = int(np.ceil(h / z)), int(np.ceil(w / z))
        top, left = (h - ch) // 2, (w - cw) // 2
        acc += _resize_bilinear(x[:, top:top + ch, left:left + cw], h, w)
    return _clip(acc / (len(factors) + 1))


# --- weather --------------------------------------------------------------------------------------------

def _rgb_to_gray(x: Images) -> Images:
    return (x[..., :3] @ np.array([0.299, 0.587, 0.114]))[..., None]


def snow(x: Images, c: tuple, rng: np.random.Generator, scale: float = 1.0) -> Images:
    loc, spread, zoom, threshold, radius, sigma, blend = c
    out = []
    for im in x:
        h, w = im.shape[:2]
        layer = rng.normal(loc, spread, (h, w))
        layer = _clipped_zoom(layer, zoom)
        layer[layer < threshold] = 0
        k = _motion_kernel(radius * scale, sigma * scale, rng.uniform(-135, -45), h, w)
        layer = _correlate_edge(layer[..., None], k)
        base = blend * im + (1 - blend) * np.maximum(im, _rgb_to_gray(im[None])[0] * 1.5 + 0.5)
        out.append(base + layer + np.rot90(layer, k=2))
    return _clip(np.stack(out))


def _frost_texture(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A procedural frost texture (the original blends photographs that are not available here)."""
    base = ndimage.gaussian_filter(rng.random((h, w)), 1.0)
    crystals = np.zeros((h, w))
    for _ in range(max(4, h * w // 400)):
        r, col = rng.integers(0, h), rng.integers(0, w)
        length = rng.integers(3, max(4, min(h, w) // 3))
        angle = rng.uniform(0, np.pi)
        t = np.arange(length)
        rr = np.clip((r + t * np.sin(angle)).astype(int), 0, h - 1)
        cc = np.clip((col + t * np.cos(angle)).astype(int), 0, w - 1)
        crystals[rr, cc] = 1.0
    tex = 0.6 * base + 0.8 * ndimage.gaussian_filter(crystals, 0.7)
    return np.clip(tex / tex.max(), 0, 1)[..., None] * np.array([0.85, 0.9, 1.0])


def frost(x: Images, c: tuple, rng: np.random.Generator) -> Images:
    return _clip(np.stack([c[0] * im + c[1] * _frost_texture(*im.shape[:2], rng)[..., :im.shape[-1]] for im in x]))


def _plasma(size: int, wibble_decay: float, rng: np.random.Generator) -> np.ndarray:
    """Diamond-square plasma fractal on a size x size grid (size a power of two), as in ImageNet-C."""
    maparray = np.empty((size, size))
    step = size
    maparray[0, 0] = 0
    wibble = 100.0
    while step >= 2:
        half = step // 2
        wibble /= wibble_decay
        # squares
        corners = maparray[0:size:step, 0:size:step]
        sq = (corners + np.roll(corners, -1, 0) + np.roll(corners, -1, 1) + np.roll(np.roll(corners, -1, 0), -1, 1)) / 4
        maparray[half:size:step, half:size:step] = sq + rng.uniform(-wibble, wibble, sq.shape)
        # diamonds
        ul = maparray[0:size:step, 0:size:step]
        dr = maparray[half:size:step, half:size:step]
        ld = (ul + np.roll(ul, -1, 1) + dr + np.roll(dr, 1, 0)) / 4
        maparray[0:size:step, half:size:step] = ld + rng.uniform(-wibble, wibble, ld.shape)
        lt = (ul + np.roll(ul, -1, 0) + dr + np.roll(dr, 1, 1)) / 4
        maparray[half:size:step, 0:size:step] = lt + rng.uniform(-wibble, wibble, lt.shape)
        step = half
    maparray -= maparray.min()
    return maparray / maparray.max()


def fog(x: Images, c: tuple, rng: np.random.Generator) -> Images:
    _, h, w, _ = x.shape
    size = 1 << int(np.ceil(np.log2(max(h, w, 2))))
    out = []
    for im in x:
        mx = im.max()
        layer = c[0] * _plasma(size, c[1], rng)[:h, :w, None]
        out.append((im + layer) * mx / (mx + c[0]))
    return _clip(np.stack(out))


def _rgb_to_hsv(x: Images) -> Images:
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    mx, mn = x.max(-1), x.min(-1)
    d = mx - mn
    h = np.zeros_like(mx)
    nz = d > 0
    rc = np.where(nz, (mx - r) / np.where(nz, d, 1), 0)
    gc = np.where(nz, (mx - g) / np.where(nz, d, 1), 0)
    bc = np.where(nz, (mx - b) / np.where(nz, d, 1), 0)
    h = np.where(r == mx, bc - gc, np.where(g == mx, 2.0 + rc - bc, 4.0 + gc - rc))
    h = np.where(nz, (h / 6.0) % 1.0, 0.0)
    s = np.where(mx > 0, d / np.where(mx > 0, mx, 1), 0)
    return np.stack([h, s, mx], axis=-1)


def _hsv_to_rgb(x: Images) -> Images:
    h, s, v = x[..., 0], x[..., 1], x[..., 2]
    i = np.floor(h * 6.0).astype(int) % 6
    f = h * 6.0 - np.floor(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    choices = [np.stack(c, -1) for c in ((v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))]
    out = np.zeros(x.shape)
    for k in range(6):
        out = np.where((i == k)[..., None], choices[k], out)
    return out


def _hsv_op(x: Images, fn: Callable[[Images], Images]) -> Images:
    if x.shape[-1] < 3:
        return x
    hsv = fn(_rgb_to_hsv(x[..., :3]))
    return _clip(np.concatenate([_hsv_to_rgb(np.clip(hsv, 0, 1)), x[..., 3:]], axis=-1))


def brightness(x: Images, c: float, rng: np.random.Generator) -> Images:
    def op(hsv):
        hsv = hsv.copy()
        hsv[..., 2] += c
        return hsv
    return _hsv_op(x, op)


def saturate(x: Images, c: tuple, rng: np.random.Generator) -> Images:
    def op(hsv):
        hsv = hsv.copy()
        hsv[..., 1] = hsv[..., 1] * c[0] + c[1]
        return hsv
    return _hsv_op(x, op)


# --- digital --------------------------------------------------------------------------------------------

def contrast(x: Images, c: float, rng: np.random.Generator) -> Images:
    means = x.mean(axis=(1, 2), keepdims=True)
    return _clip((x - means) * c + means)


def elastic_transform(x: Images, c: tuple, rng: np.random.Generator) -> Images:
    out = []
    for im in x:
        h, w, ch = im.shape
        s = min(h, w) / 244.0
        alpha, sigma, affine = c[0] * s, c[1] * s, c[2] * s
        # random affine from three jittered points
        center = np.array([h / 2, w / 2])
        side = min(h, w) / 3
        src = np.array([center + [-side, -side], center + [-side, side], center + [side, -side]])
        dst = src + rng.uniform(-affine, affine, src.shape)
        a = np.linalg.lstsq(np.hstack([dst, np.ones((3, 1))]), src, rcond=None)[0]
        rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        coords = np.stack([rows.ravel(), cols.ravel(), np.ones(h * w)], 1) @ a
        dy = ndimage.gaussian_filter(rng.uniform(-1, 1, (h, w)), sigma, mode="reflect") * alpha
        dx = ndimage.gaussian_filter(rng.uniform(-1, 1, (h, w)), sigma, mode="reflect") * alpha
        r = coords[:, 0].reshape(h, w) + dy
        cc = coords[:, 1].reshape(h, w) + dx
        out.append(np.stack([ndimage.map_coordinates(im[..., k], [r, cc], order=1, mode="reflect") for k in range(ch)],
                            -1))
    return _clip(np.stack(out))


def pixelate(x: Images, c: float, rng: np.random.Generator) -> Images:
    from PIL import Image

    out = []
    for im in x:
        h, w = im.shape[:2]
        pil = Image.fromarray((im[..., :3] * 255).round().astype(np.uint8) if im.shape[-1] >= 3
                              else (im[..., 0] * 255).round().astype(np.uint8))
        small = pil.resize((max(1, int(w * c)), max(1, int(h * c))), Image.BOX)
        back = np.asarray(small.resize((w, h), Image.BOX), dtype=np.float64) / 255.0
        out.append(back if back.ndim == 3 else back[..., None])
    return np.stack(out)


def jpeg_compression(x: Images, c: int, rng: np.random.Generator) -> Images:
    from PIL import Image

    out = []
    for im in x:
        arr = (im * 255).round().astype(np.uint8)
        pil = Image.fromarray(arr if arr.shape[-1] == 3 else arr[..., 0])
        buf = io.BytesIO()
        pil.save(buf, "JPEG", quality=int(c))
        back = np.asarray(Image.open(io.BytesIO(buf.getvalue())), dtype=np.float64) / 255.0
        out.append(back if back.ndim == 3 else back[..., None])
    return np.stack(out)


def spatter(x: Images, c: tuple, rng: np.random.Generator) -> Images:
    loc, scale, sigma, threshold, intensity, mode = c
    out = []
    for im in x:
        h, w = im.shape[:2]
        liquid = ndimage.gaussian_filter(rng.normal(loc, scale, (h, w)), sigma)
        liquid[liquid < threshold] = 0
        if mode == 0:  # water: bright, bluish, blurred droplets
            m = np.where(liquid > threshold, 1.0, 0.0)
            m = ndimage.gaussian_filter(m, 1.0)[..., None] * intensity
            color = np.array([175 / 255, 238 / 255, 238 / 255])[: im.shape[-1]]
            out.append(im + m * color * 0.6 - m * im * 0.3)
        else:  # mud: dark brown patches
            m = (liquid >= threshold).astype(float)
            m = ndimage.gaussian_filter(m, intensity)[..., None]
            color = np.array([63 / 255, 42 / 255, 20 / 255])[: im.shape[-1]]
            out.append(im * (1 - m) + color * m)
    return _clip(np.stack(out))


FUNCTIONS: dict[str, Callable[..., Images]] = {
    "gaussian_noise": gaussian_noise, "shot_noise": shot_noise, "impulse_noise": impulse_noise,
    "defocus_blur": defocus_blur, "glass_blur": glass_blur, "motion_blur": motion_blur, "zoom_blur": zoom_blur,
    "snow": snow, "frost": frost, "fog": fog, "brightness": brightness, "contrast": contrast,
    "elastic_transform": elastic_transform, "pixelate": pixelate, "jpeg_compression": jpeg_compression,
    "speckle_noise": speckle_noise, "gaussian_blur": gaussian_blur, "spatter": spatter, "saturate": saturate,
}


# Corruptions whose parameters are lengths in pixels of ImageNet's 224-px images; by default they are used as
# they are (as the `imagecorruptions` package does for images of any size); scale_to_size scales them to the
# image's shorter side. Elastic transform is defined relative to its 244-px basis and always scales.
PIXEL_LENGTH_PARAMS = frozenset({"motion_blur", "glass_blur", "snow"})


def corrupt(x: Images, name: str, severity: int, rng: np.random.Generator, scale_to_size: bool = False) -> Images:
    """Corruption ``name`` at ``severity`` (1..5) of a float batch in [0, 1]."""
    if not 1 <= severity <= 5:
        raise ValueError("severity is 1..5")
    c = PARAMS[name][severity - 1]
    x = np.asarray(x, dtype=np.float64)
    if name == "zoom_blur":
        return zoom_blur(x, c, rng, severity)
    if name in PIXEL_LENGTH_PARAMS:
        return FUNCTIONS[name](x, c, rng, scale=min(x.shape[1:3]) / 224.0 if scale_to_size else 1.0)
    return FUNCTIONS[name](x, c, rng)
