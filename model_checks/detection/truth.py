"""Box-labelled evaluation data: COCO JSON, a YOLO folder (``images/``, ``labels/``, ``classes.txt``) or an
``.npz`` (``x``; ``boxes`` (M, 4) x1,y1,x2,y2 in pixels; ``image`` (M,) the image each box is in; optional
``label`` (M,) and ``names``). Every image is resized to the model's input size and its boxes with it, so
corruptions and attacks act on what the model sees; each box keeps its original area for COCO's size ranges."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vehicle_ds.errors import InputError

from .evaluate import Truth

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@dataclass
class BoxData:
    x: np.ndarray  # N x H x W x C, float [0, 1], at the model's input size
    truths: list[Truth]
    names: list[str]  # class index -> name, as the data labels them
    info: dict
    named: bool = True  # False: the data gives class numbers only (they are the model's indices)


def _image(path: Path, where: str):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.convert("RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise InputError(f"cannot read image {path.name}: {exc}", path=where) from None


def _fit(img, boxes: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, float]:
    """The image resized to (H, W), its boxes scaled with it, and the factor back to original areas."""
    from PIL import Image

    w, h = img.size
    H, W = size
    arr = np.asarray(img.resize((W, H), Image.BILINEAR), dtype=np.float64) / 255.0
    scaled = boxes * np.array([W / w, H / h, W / w, H / h]) if len(boxes) else np.zeros((0, 4))
    return arr, scaled, (w * h) / (W * H)


def _coco(path: Path, size: tuple[int, int]) -> BoxData:
    try:
        doc = json.loads(path.read_text("utf-8"))
        images, anns, cats = doc["images"], doc.get("annotations", []), doc.get("categories", [])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"not COCO JSON (images, annotations, categories): {exc}", path=str(path)) from None
    cat_ids = sorted(int(c["id"]) for c in cats) or sorted({int(a["category_id"]) for a in anns})
    index = {cid: k for k, cid in enumerate(cat_ids)}
    names = {int(c["id"]): str(c.get("name", c["id"])) for c in cats}
    by_image: dict[int, list[dict]] = {}
    crowd = 0
    for n, a in enumerate(anns):
        try:
            x, y, w, h = (float(v) for v in a["bbox"])
            cid = int(a["category_id"])
        except (KeyError, TypeError, ValueError):
            raise InputError(f"annotation {n} has no usable bbox/category_id", path=str(path)) from None
        if cid not in index:
            raise InputError(f"annotation {n}: category_id {cid} is not among the categories", path=str(path))
        if w <= 0 or h <= 0 or not np.isfinite([x, y, w, h]).all():
            raise InputError(f"annotation {n}: bbox {a['bbox']} has no area", path=str(path))
        if a.get("iscrowd"):
            crowd += 1  # a crowd region is neither a miss nor a hit; not scored (stated in the results)
            continue
        by_image.setdefault(int(a["image_id"]), []).append({"box": [x, y, x + w, y + h], "cls": index[cid]})
    xs, truths = [], []
    for im in images:
        p = path.parent / str(im["file_name"])
        if not p.is_file() and (path.parent / "images" / str(im["file_name"])).is_file():
            p = path.parent / "images" / str(im["file_name"])
        if not p.is_file():
            raise InputError(f"image {im['file_name']} not found beside the annotations", path=str(path))
        rows = by_image.get(int(im["id"]), [])
        arr, boxes, k = _fit(_image(p, str(path)), np.array([r["box"] for r in rows], float).reshape(-1, 4), size)
        xs.append(arr)
        truths.append(Truth(boxes, np.array([r["cls"] for r in rows], np.int64), k, str(im["file_name"])))
    return _done(xs, truths, [names.get(c, str(c)) for c in cat_ids], path, "coco", crowd_regions_not_scored=crowd)


def _yolo(path: Path, size: tuple[int, int]) -> BoxData:
    img_dir, lab_dir = path / "images", path / "labels"
    if not img_dir.is_dir() or not lab_dir.is_dir():
        raise InputError("a YOLO folder holds images/ and labels/ (one .txt per image)", path=str(path))
    names: list[str] = []
    if (path / "classes.txt").is_file():
        names = [s.strip() for s in (path / "classes.txt").read_text("utf-8").splitlines() if s.strip()]
    xs, truths = [], []
    top = -1
    for p in sorted(q for q in img_dir.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES):
        img = _image(p, str(img_dir))
        w, h = img.size
        rows: list[tuple[int, list[float]]] = []
        lab = lab_dir / f"{p.stem}.txt"
        if lab.is_file():  # no label file: an image without objects, as YOLO defines it
            for n, line in enumerate(lab.read_text("utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    c, cx, cy, bw, bh = (float(v) for v in line.split()[:5])
                except ValueError:
                    raise InputError("expected 'class cx cy w h' (normalised)", path=str(lab), line=n) from None
                if c < 0 or c != int(c) or not (0 <= cx <= 1 and 0 <= cy <= 1 and 0 < bw <= 1 and 0 < bh <= 1):
                    raise InputError(f"class {c:g} or box outside [0, 1]", path=str(lab), line=n)
                rows.append((int(c), [(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h]))
                top = max(top, int(c))
        arr, boxes, k = _fit(img, np.array([b for _, b in rows], float).reshape(-1, 4), size)
        xs.append(arr)
        truths.append(Truth(boxes, np.array([c for c, _ in rows], np.int64), k, p.name))
    if names and top >= len(names):
        raise InputError(f"class {top} is used but classes.txt names only {len(names)}", path=str(path))
    return _done(xs, truths, names or [str(c) for c in range(top + 1)], path, "yolo", named=bool(names))


def _npz(path: Path, size: tuple[int, int]) -> BoxData:
    from PIL import Image

    try:
        with np.load(path) as z:
            x, boxes, where = z["x"], z["boxes"].astype(float), z["image"].astype(np.int64)
            label = z["label"].astype(np.int64) if "label" in z else np.zeros(len(boxes), np.int64)
            names = [str(s) for s in z["names"]] if "names" in z else []
    except FileNotFoundError:
        raise InputError("no such data file", path=str(path)) from None
    except (KeyError, ValueError, OSError, EOFError) as exc:
        raise InputError(f"not an .npz with x, boxes and image: {exc}", path=str(path)) from None
    if boxes.ndim != 2 or boxes.shape[1] != 4 or len(where) != len(boxes) or len(label) != len(boxes):
        raise InputError("boxes must be (M, 4) with image and label of length M", path=str(path))
    if len(boxes) and (where.min() < 0 or where.max() >= len(x)):
        raise InputError(f"a box names image {int(where.max())} of {len(x)}", path=str(path))
    if len(boxes) and np.any(boxes[:, 2:] <= boxes[:, :2]):
        raise InputError("a box has x2 ≤ x1 or y2 ≤ y1", path=str(path))
    x = np.asarray(x)
    x = x[..., None] if x.ndim == 3 else x
    u8 = x if x.dtype == np.uint8 else np.clip(np.round(x * (255.0 if x.max(initial=0) <= 1 else 1.0)), 0, 255).astype(np.uint8)
    xs, truths = [], []
    for i in range(len(x)):
        img = Image.fromarray(u8[i][..., 0] if u8.shape[-1] == 1 else u8[i]).convert("RGB")
        k = where == i
        arr, b, sc = _fit(img, boxes[k], size)
        xs.append(arr)
        truths.append(Truth(b, label[k], sc, f"#{i}"))
    top = int(label.max()) if len(label) else -1
    return _done(xs, truths, names or [str(c) for c in range(top + 1)], path, "npz", named=bool(names))


def _done(xs: list, truths: list[Truth], names: list[str], path: Path, fmt: str, named: bool = True,
          **extra: int) -> BoxData:
    if not xs:
        raise InputError("no images", path=str(path))
    objects = sum(len(t.boxes) for t in truths)
    if objects == 0:
        raise InputError("no truth boxes: a detector cannot be judged without objects", path=str(path))
    return BoxData(np.stack(xs), truths, names, {"format": fmt, "images": len(xs), "objects": objects, **extra}, named)


def load_boxes(path: str | Path, size: tuple[int, int]) -> BoxData:
    p = Path(path)
    if p.is_dir():
        return _yolo(p, size)
    if p.suffix.lower() == ".json":
        if not p.is_file():
            raise InputError("no such annotations file", path=str(p))
        return _coco(p, size)
    return _npz(p, size)
