"""A detector as the checks see it: pixel-space images in, decoded detections per image out, every query
counted and every batch asked of the run's budget (the same ``Model`` the classifiers use, with all of the
model's outputs read and decoded)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vehicle_ds.errors import InputError

from ..adapters import INPUT_DTYPES, Model, Preprocess, input_layout, onnx_identity, onnx_session, sha256_file
from .decoders import Decoder
from .evaluate import Detections


@dataclass
class Detector(Model):
    decoder: Decoder | None = None

    def outputs(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """The raw outputs by name for pixel-space images (one query per image)."""
        parts = [{k: np.asarray(v)[:real] for k, v in out.items()} for out, real in self.raw_batches(images)]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}

    def __call__(self, images: np.ndarray) -> list[Detections]:  # type: ignore[override]
        assert self.decoder is not None
        hw = tuple(images.shape[1:3])
        return self.decoder(self.outputs(images), hw)  # type: ignore[arg-type]

    def predict(self, images: np.ndarray) -> list[Detections]:  # type: ignore[override]
        return self(images)


def load_detector(spec: str, preprocess: Preprocess, decoder: Decoder) -> Detector:
    """An ONNX detector (every output read) or ``package.module:function`` returning {name: array}."""
    if spec.endswith(".onnx"):
        return _onnx(Path(spec), preprocess, decoder)
    if ":" not in spec:
        raise InputError(f"a Python model is 'package.module:function', not {spec!r}")
    mod_name, fn_name = spec.split(":", 1)
    try:
        mod = importlib.import_module(mod_name)
        fn = getattr(mod, fn_name)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"cannot load {spec}: {exc}") from None
    if preprocess.size is None:
        raise InputError("a Python detector needs its input size: --size H,W", path=spec)
    layout = "NHWC" if preprocess.layout == "auto" else preprocess.layout
    src = Path(mod.__file__ or "")
    identity = {"format": "python", "callable": spec, "sha256": sha256_file(src) if src.is_file() else None,
                "layout": layout, "decoder": decoder.describe()}
    return Detector(spec, identity, "detection", preprocess, fn, layout, decoder=decoder)


def _onnx(p: Path, preprocess: Preprocess, decoder: Decoder) -> Detector:
    proto, sess = onnx_session(p)
    inp = sess.get_inputs()[0]
    shape = list(inp.shape)
    layout = input_layout(shape, preprocess)
    hw = shape[2:4] if layout == "NCHW" else shape[1:3]
    fixed_hw = tuple(int(d) for d in hw) if len(shape) == 4 and all(isinstance(d, int) for d in hw) else None
    redeclared: dict[str, Any] = {}
    if preprocess.size is None:
        if fixed_hw is None:
            raise InputError(f"the model's input {inp.name} {shape} has no fixed size: give --size H,W", path=str(p))
        preprocess.size = fixed_hw  # type: ignore[assignment]
    elif fixed_hw is not None and tuple(preprocess.size) != fixed_hw:
        proto, sess = onnx_session(p, free_dims=True)
        inp = sess.get_inputs()[0]
        redeclared = {"input_redeclared": {"declared": shape, "run_at": list(preprocess.size)}}
    names = [o.name for o in sess.get_outputs()]
    missing = [n for n in decoder.outputs_read() if n not in names]
    if missing:
        raise InputError(f"the decoder reads output(s) {', '.join(missing)}; the model's outputs are "
                         + ", ".join(f"{o.name} {list(o.shape)}" for o in sess.get_outputs()), path=str(p))
    dtype = INPUT_DTYPES.get(inp.type, np.float32)
    fixed = None if redeclared else (shape[0] if shape and isinstance(shape[0], int) and shape[0] > 0 else None)

    def fn(batch: np.ndarray) -> dict[str, np.ndarray]:
        return dict(zip(names, sess.run(names, {inp.name: batch.astype(dtype)}), strict=True))

    identity = {**onnx_identity(p, proto, sess, layout), "fixed_batch": fixed, "decoder": decoder.describe(),
                **redeclared}
    return Detector(p.name, identity, "detection", preprocess, fn, layout, fixed_batch=fixed, decoder=decoder)
