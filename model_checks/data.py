"""Evaluation data: ``.npz`` with ``x`` (N x H x W [x C], uint8 0..255 or float 0..1) and ``y``, or an
image folder with ``labels.csv`` (``filename,label``). Any size; non-square included."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from vehicle_ds.errors import InputError


def _as_float(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.dtype == np.uint8:
        return x.astype(np.float64) / 255.0
    x = x.astype(np.float64)
    if x.max(initial=0) > 1.0 + 1e-6:
        x = x / 255.0
    return np.clip(x, 0, 1)


def _label(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text  # a class name: mapped to an index by the label map


def class_indices(y: np.ndarray, names: list[str], classes: int, where: str) -> np.ndarray:
    """Labels as the model's class indices: names through the label map (``names[i]`` is output ``i``), numbers
    as they are; a name the map lacks, a fractional number or an index outside the model's ``classes`` outputs
    is refused naming the first such label, before any work."""
    out = np.empty(len(y), np.int64)
    for i, v in enumerate(y):
        if isinstance(v, (str, np.str_)):
            if not names:
                raise InputError(f"label {v!r} (item {i}) is a name: give the label map (--labels, one class name "
                                 "per line in output order)", path=where)
            if v not in names:
                raise InputError(f"label {v!r} (item {i}) is not in the label map ({', '.join(names[:8])}…)",
                                 path=where)
            out[i] = names.index(str(v))
            continue
        f = float(v)
        if f != int(f) or not 0 <= f < classes:
            raise InputError(f"label {v:g} (item {i}) is not one of the model's {classes} class indices 0..{classes - 1}",
                             path=where)
        out[i] = int(f)
    return out


def read_label_map(path: Path) -> list[str]:
    """One class name per line, in the model's output order (blank lines and # comments skipped)."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read the label map: {exc.strerror}", path=str(path)) from None
    names = [s.strip() for s in lines if s.strip() and not s.strip().startswith("#")]
    if len(set(names)) != len(names):
        raise InputError("a class name appears twice in the label map", path=str(path))
    return names


def load_data(path: str | Path, limit: int | None = None,
              size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels; images of an image folder that differ in size are resized to ``size`` (H, W)."""
    p = Path(path)
    if p.is_dir():
        labels = p / "labels.csv"
        if not labels.is_file():
            raise InputError("an image folder needs labels.csv (filename,label)", path=str(p))
        from PIL import Image, UnidentifiedImageError

        xs, ys = [], []
        with open(labels, newline="", encoding="utf-8") as f:
            for n, row in enumerate(csv.reader(f), start=1):
                if not row or row[0].startswith("#") or (n == 1 and row[0] == "filename"):
                    continue
                try:
                    img = Image.open(p / row[0]).convert("RGB")
                except (OSError, UnidentifiedImageError) as exc:
                    raise InputError(f"cannot read image {row[0]}: {exc}", path=str(labels), line=n) from None
                if len(row) < 2 or not row[1].strip():
                    raise InputError("expected filename,label", path=str(labels), line=n)
                xs.append(np.asarray(img))
                ys.append(_label(row[1].strip()))
                if limit and len(xs) >= limit:
                    break
        if not xs:
            raise InputError("no images listed", path=str(labels))
        shapes = {x.shape for x in xs}
        if len(shapes) > 1:
            if size is None:
                raise InputError(f"images differ in size ({sorted(shapes)[:3]}…): give --size H,W and they are "
                                 "resized to it", path=str(p))
            xs = [np.asarray(Image.fromarray(x).resize((size[1], size[0]), Image.BILINEAR)) for x in xs]
        return _as_float(np.stack(xs)), np.asarray(ys, dtype=object if any(isinstance(v, str) for v in ys) else float)
    try:
        with np.load(p) as z:
            x, y = z["x"], z["y"]
    except FileNotFoundError:
        raise InputError("no such data file", path=str(p)) from None
    except (KeyError, ValueError, OSError, EOFError) as exc:  # np.load of an empty file: EOFError
        raise InputError(f"not an .npz with arrays x and y: {exc}", path=str(p)) from None
    if limit:
        x, y = x[:limit], y[:limit]
    if len(x) != len(y) or len(x) == 0:
        raise InputError(f"x has {len(x)} items and y {len(y)}", path=str(p))
    return _as_float(x), np.asarray(y)
