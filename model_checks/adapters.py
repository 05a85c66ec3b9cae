"""Models as the checks see them: a function from pixel-space images (float, [0, 1], N x H x W x C) to
outputs. The declared preprocessing (resize or pad, scale, mean/std, channel order, layout, dtype) is
applied after every perturbation, so corruptions, attacks and epsilon act on pixels, never on
normalised tensors. Every call is counted (query budgets)."""

from __future__ import annotations

import hashlib
import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vehicle_ds.errors import InputError
from vehicle_ds.results import shown_path


@dataclass
class Preprocess:
    size: tuple[int, int] | None = None  # (H, W) the model expects
    fit: str = "resize"  # resize | pad
    scale: float = 1.0  # multiply pixel values in [0, 1] by this (255 for models trained on 0..255)
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    channels: str = "RGB"  # RGB | BGR
    layout: str = "auto"  # NHWC | NCHW | auto (from the model's input shape)

    def apply(self, x: np.ndarray, layout: str) -> np.ndarray:
        if self.size is not None and x.shape[1:3] != tuple(self.size):
            x = _resize_or_pad(x, self.size, self.fit)
        if self.channels.upper() == "BGR":
            x = x[..., ::-1]
        x = x * self.scale
        if self.mean is not None:
            x = x - np.asarray(self.mean)
        if self.std is not None:
            x = x / np.asarray(self.std)
        if layout == "NCHW":
            x = np.transpose(x, (0, 3, 1, 2))
        return x

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def _resize_or_pad(x: np.ndarray, size: tuple[int, int], fit: str) -> np.ndarray:
    h, w = size
    if fit == "pad":
        out = np.zeros((x.shape[0], h, w, x.shape[3]))
        hh, ww = min(h, x.shape[1]), min(w, x.shape[2])
        out[:, :hh, :ww] = x[:, :hh, :ww]
        return out
    from scipy import ndimage

    return ndimage.zoom(x, (1, h / x.shape[1], w / x.shape[2], 1), order=1)


@dataclass
class Model:
    """A counted, preprocessed model. ``identity`` records what was tested."""

    name: str
    identity: dict[str, Any]
    task: str
    preprocess: Preprocess
    _fn: Any = None
    _layout: str = "NHWC"
    batch: int = 64
    queries: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    fixed_batch: int | None = None  # the model's input has a fixed batch dimension: chunks are padded to it
    guard: Any = None  # called before every batch (the run's budget); may raise to stop
    seconds: float = 0.0  # time spent inside the model (the run's plan reads the cost per query from it)

    def raw_batches(self, images: np.ndarray):
        """The model's raw answer per batch and how many of its rows are real: the budget asked before each
        batch, a fixed batch padded with the last image, one query per real image, the time inside counted."""
        images = np.asarray(images, dtype=np.float64)
        step = self.fixed_batch or self.batch
        for i in range(0, images.shape[0], step):
            if self.guard is not None:
                self.guard()
            chunk = images[i:i + step]
            real = chunk.shape[0]
            if self.fixed_batch and real < self.fixed_batch:  # repeat the last image up to the fixed size
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], self.fixed_batch - real, axis=0)])
            part = self.preprocess.apply(chunk, self._layout)
            t0 = time.perf_counter()
            out = self._fn(part)
            self.seconds += time.perf_counter() - t0
            self.queries += real
            yield out, real

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Raw outputs for pixel-space images; one query per image (padding of a fixed batch is not counted)."""
        n = np.shape(images)[0]
        outs = [np.asarray(out, dtype=np.float64)[:real] for out, real in self.raw_batches(images)]
        out = np.concatenate(outs) if outs else np.empty((0,))
        return out.reshape(n, -1) if self.task == "classification" else out.reshape(n)

    def scores(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (softmax of logits when the outputs are not already probabilities)."""
        out = self(images)
        if np.all(out >= 0) and np.allclose(out.sum(1), 1.0, atol=1e-3):
            return out
        z = out - out.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)

    def predict(self, images: np.ndarray) -> np.ndarray:
        out = self(images)
        return out.argmax(1) if self.task == "classification" else out


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _pick_output(outputs: list, want: str | None, task: str, where: str) -> str:
    """The output the checks read: the one named, or the only one. A model with several outputs (a detector's
    heatmap, boxes and scores) is refused before any work unless one is named: silently taking the first
    would score a heatmap as class probabilities."""
    names = [o.name for o in outputs]
    shown = ", ".join(f"{o.name} {list(o.shape)}" for o in outputs)
    if want is not None:
        if want not in names:
            raise InputError(f"--output {want}: the model's outputs are {shown}", path=where)
        return want
    if len(outputs) > 1:
        raise InputError(f"the model has {len(outputs)} outputs ({shown}); a {task} check reads one: name it with "
                         "--output (a detector's several outputs are not class scores)", path=where)
    return names[0]


def onnx_session(p: Path, free_dims: bool = False):
    """(proto, session) of an ONNX file, or one line naming why it cannot be loaded. ``free_dims`` frees a
    model's fixed input size and batch: detectors are often exported at a placeholder size and run at
    another (the new dims are recorded in the model's identity)."""
    if not p.is_file():
        raise InputError("no such model file", path=str(p))
    try:
        import onnx
        import onnxruntime as ort

        proto = onnx.load(str(p))
        onnx.checker.check_model(proto)
        so = ort.SessionOptions()
        so.log_severity_level = 3  # declared output shapes are often wrong; runtime shapes are used
        so.intra_op_num_threads = 1
        if free_dims:
            proto = _free_dims(proto)
        sess = ort.InferenceSession(proto.SerializeToString() if free_dims else str(p), so,
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise InputError(f"not a loadable ONNX model: {' '.join(str(exc).split())[:200]}", path=str(p)) from None
    return proto, sess


def _free_dims(proto):
    """The model with its first input's batch and spatial dims and every output's dims made symbolic."""
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    inits = {i.name for i in proto.graph.initializer}
    ins = {}
    for k, i in enumerate(proto.graph.input):
        dims = [d.dim_value or d.dim_param for d in i.type.tensor_type.shape.dim]
        if k == 0 and i.name not in inits and len(dims) == 4:
            dims = ["N", dims[1], "H", "W"] if dims[1] in (1, 3, 4) else ["N", "H", "W", dims[3]]
        ins[i.name] = dims
    outs = {o.name: [f"{o.name}_{j}" for j in range(len(o.type.tensor_type.shape.dim))] for o in proto.graph.output}
    return update_inputs_outputs_dims(proto, ins, outs)


def onnx_identity(p: Path, proto, sess, layout: str) -> dict[str, Any]:
    return {"format": "onnx", "path": shown_path(p), "sha256": sha256_file(p),
            "opset": [{"domain": o.domain or "ai.onnx", "version": o.version} for o in proto.opset_import],
            "producer": proto.producer_name,
            "inputs": [{"name": i.name, "shape": i.shape, "type": i.type} for i in sess.get_inputs()],
            "outputs": [{"name": o.name, "shape": o.shape, "type": o.type} for o in sess.get_outputs()],
            "layout": layout}


def input_layout(shape: list, preprocess: Preprocess) -> str:
    """NCHW or NHWC: as declared, else from where the model's input keeps its 1, 3 or 4 channels."""
    if preprocess.layout != "auto":
        return preprocess.layout
    return "NCHW" if len(shape) == 4 and shape[1] in (1, 3, 4) and shape[3] not in (1, 3, 4) else "NHWC"


INPUT_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(uint8)": np.uint8,
                "tensor(float16)": np.float16}


def load_onnx(path: str | Path, task: str, preprocess: Preprocess, output: str | None = None) -> Model:
    p = Path(path)
    proto, sess = onnx_session(p)
    inp = sess.get_inputs()[0]
    shape = list(inp.shape)
    layout = input_layout(shape, preprocess)
    if preprocess.size is None and len(shape) == 4:
        hw = shape[2:4] if layout == "NCHW" else shape[1:3]
        if all(isinstance(d, int) for d in hw):
            preprocess.size = (int(hw[0]), int(hw[1]))
    dtype = INPUT_DTYPES.get(inp.type, np.float32)
    out_name = _pick_output(sess.get_outputs(), output, task, str(p))
    declared = next(o.shape for o in sess.get_outputs() if o.name == out_name)
    refuse_spatial(declared, out_name, task, str(p))
    fixed = shape[0] if shape and isinstance(shape[0], int) and shape[0] > 0 else None

    def fn(batch: np.ndarray) -> np.ndarray:
        return sess.run([out_name], {inp.name: batch.astype(dtype)})[0]

    identity = onnx_identity(p, proto, sess, layout)
    identity["fixed_batch"] = fixed
    return Model(p.name, identity, task, preprocess, fn, layout, fixed_batch=fixed)


def load_callable(spec: str, task: str, preprocess: Preprocess) -> Model:
    """``package.module:function`` taking a batch (after preprocessing) and returning outputs."""
    if ":" not in spec:
        raise InputError(f"a Python model is 'package.module:function', not {spec!r}")
    mod_name, fn_name = spec.split(":", 1)
    try:
        fn = getattr(importlib.import_module(mod_name), fn_name)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"cannot load {spec}: {exc}") from None
    layout = "NHWC" if preprocess.layout == "auto" else preprocess.layout
    src = Path(importlib.import_module(mod_name).__file__ or "")
    identity = {"format": "python", "callable": spec, "sha256": sha256_file(src) if src.is_file() else None,
                "layout": layout}
    return Model(spec, identity, task, preprocess, fn, layout)


def refuse_spatial(shape, name: str, task: str, where: str) -> None:
    """A classifier answers one score per class ([N, C], or [N, C, 1, 1]); a regressor one or a few numbers.
    An output with a spatial extent (a heatmap [N, 1, 24, 32], a segmentation mask) is refused: flattened,
    its pixels would be read as hundreds of classes."""
    dims = [d for d in list(shape)[1:] if not (isinstance(d, int) and d == 1)]
    spatial = len(dims) >= 2 and sum(isinstance(d, int) and d > 1 for d in dims) >= 2
    if spatial:
        raise InputError(f"output {name} has shape {list(shape)}: a spatial map, not {task} outputs; a detector "
                         "or segmenter cannot be checked as a classifier or regressor", path=where)


def load_model(spec: str, task: str, preprocess: Preprocess, output: str | None = None) -> Model:
    if task not in ("classification", "regression"):  # detection: detection.model.load_detector
        raise InputError(f"--task must be classification, regression or detection, not {task!r}")
    if spec.endswith(".onnx") or Path(spec).suffix == ".onnx":
        return load_onnx(spec, task, preprocess, output)
    return load_callable(spec, task, preprocess)
