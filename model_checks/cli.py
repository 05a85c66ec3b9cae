"""``vehicle-ds model-check``: robustness and security checks of a driving model."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from vehicle_ds.errors import InputError
from vehicle_ds.results import shown_path

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def _preprocess(model: str, file: Path | None, size: str | None, mean: str | None, std: str | None,
                layout: str | None, scale: float | None, channels: str | None):
    """One precedence rule for every setting: the command line, then the sidecar TOML, then the default."""
    from .adapters import Preprocess

    cfg: dict = {}
    side = Path(model).with_suffix(".preprocess.toml")
    src = file or (side if side.is_file() else None)
    if src is not None:
        from vehicle_ds.tomlfile import read_toml

        cfg = read_toml(src, "preprocessing")

    def floats(v: str | None):
        return tuple(float(t) for t in v.split(",")) if v else None

    return Preprocess(
        size=tuple(int(t) for t in size.split(",")) if size else (tuple(cfg["size"]) if "size" in cfg else None),
        fit=cfg.get("fit", "resize"), scale=scale if scale is not None else cfg.get("scale", 1.0),
        mean=floats(mean) or (tuple(cfg["mean"]) if "mean" in cfg else None),
        std=floats(std) or (tuple(cfg["std"]) if "std" in cfg else None),
        channels=channels or cfg.get("channels", "RGB"), layout=layout or cfg.get("layout", "auto"))


@app.command()
def model_check(
    model: Annotated[str, typer.Option(help="An .onnx file or package.module:function.")],
    data: Annotated[Path, typer.Option(help=".npz (x, y) or an image folder with labels.csv; detection: COCO "
                                       ".json, a YOLO folder or .npz (x, boxes, image, label).")],
    task: Annotated[str, typer.Option(help="classification | regression | detection")],
    out: Annotated[Path, typer.Option(help="Results document to write.")],
    suite: Annotated[str, typer.Option(help="quick | standard | full")] = "standard",
    seed: Annotated[int, typer.Option(help="Seed: a run repeats exactly.")] = 0,
    preprocess: Annotated[Optional[Path], typer.Option(help="Preprocessing TOML (default: <model>.preprocess.toml).")] = None,  # noqa: UP045
    size: Annotated[Optional[str], typer.Option(help="H,W the model expects.")] = None,  # noqa: UP045
    mean: Annotated[Optional[str], typer.Option(help="Per-channel mean, e.g. 0.485,0.456,0.406")] = None,  # noqa: UP045
    std: Annotated[Optional[str], typer.Option(help="Per-channel std.")] = None,  # noqa: UP045
    layout: Annotated[Optional[str], typer.Option(help="NHWC | NCHW | auto (default auto)")] = None,  # noqa: UP045
    scale: Annotated[Optional[float], typer.Option(  # noqa: UP045
        help="Pixel scale: 1 for [0,1] inputs (default), 255 for 0..255.")] = None,
    channels: Annotated[Optional[str], typer.Option(help="RGB | BGR (default RGB)")] = None,  # noqa: UP045
    eps_linf: Annotated[float, typer.Option(help="L∞ budget in pixel units [0,1].")] = 8 / 255,
    eps_l2: Annotated[float, typer.Option(help="L2 budget in pixel units.")] = 1.0,
    sigma: Annotated[float, typer.Option(help="Smoothing noise in pixel units.")] = 0.25,
    tolerance: Annotated[float, typer.Option(help="Regression: error when |prediction - truth| exceeds this.")] = 5.0,
    time_budget: Annotated[float, typer.Option(
        help="Wall-clock safety limit in seconds: what it cuts is not_assessed (the query budget decides what runs).")] = 600.0,
    query_budget: Annotated[int, typer.Option(help="Model queries.")] = 5_000_000,
    expected_sha256: Annotated[Optional[str], typer.Option(help="Fail unless the model has this hash.")] = None,  # noqa: UP045
    signature: Annotated[Optional[Path], typer.Option(help="Ed25519 signature of the model file.")] = None,  # noqa: UP045
    public_key: Annotated[Optional[Path], typer.Option(help="PEM public key for --signature.")] = None,  # noqa: UP045
    reference_errors: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="JSON {clean, errors: {corruption: e}} of a reference model run by this harness on the same data.")] = None,
    imagenet_like: Annotated[bool, typer.Option(
        help="The task is ImageNet-like: AlexNet's ImageNet-C errors may serve as the mCE reference.")] = False,
    acceptance: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="Acceptance profile (TOML): the thresholds that turn numbers into pass/fail.")] = None,
    scale_corruptions: Annotated[bool, typer.Option(
        help="Scale ImageNet-C's pixel-length parameters (motion/glass blur, snow) to the image size.")] = False,
    output: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="The output to check, by name, when the model has several.")] = None,
    decoder: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="Detection: the decoder file (default: <model>.detection.toml).")] = None,
    score_threshold: Annotated[Optional[float], typer.Option(  # noqa: UP045
        help="Detection: the deployed score threshold (overrides the decoder file's).")] = None,
    labels: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="Label map: one class name per line in output order (default: <model>.labels.txt).")] = None,
    plan: Annotated[bool, typer.Option(help="Shrink sample sizes to fit --time-budget at the measured cost per "
                                            "query (a model fast enough for its suite is never planned).")] = True,
) -> None:
    """Corruptions, metamorphic relations, black-box attacks, certified robustness, integrity."""
    from rich.console import Console

    from vehicle_ds.results import write_json

    from .acceptance import load_acceptance
    from .runner import SUITES, Settings, run

    if suite not in SUITES:
        raise InputError(f"--suite must be one of {', '.join(SUITES)}")
    ref = _reference(reference_errors)
    acc = load_acceptance(acceptance)  # refused before any work when malformed
    pre = _preprocess(model, preprocess, size, mean, std, layout, scale, channels)
    if task == "detection":
        m, x, y, info = _detection_inputs(model, data, pre, decoder, score_threshold)
    else:
        m, x, y, info = _model_inputs(model, task, data, pre, output, labels)
    settings = Settings(suite=suite, seed=seed, eps_linf=eps_linf, eps_l2=eps_l2, sigma=sigma, tolerance=tolerance,
                        time_budget_s=time_budget, query_budget=query_budget, expected_sha256=expected_sha256,
                        signature=str(signature) if signature else None,
                        public_key=str(public_key) if public_key else None, reference_errors=ref,
                        imagenet_like=imagenet_like, acceptance=acc, scale_corruptions=scale_corruptions, plan=plan)
    console = Console(stderr=True)
    if sys.stderr.isatty():
        with console.status("model checks") as status:
            doc = run(m, x, y, settings, info, progress=lambda s: status.update(f"model checks: {s}"))
    else:
        doc = run(m, x, y, settings, info)
    write_json(out, doc)
    _said(console, m.name, doc, out)
    if any(c["status"] == "fail" for c in doc["checks"]):
        raise typer.Exit(1)


def _reference(path: Path | None):
    if path is None:
        return None
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"not a JSON reference: {exc}", path=str(path)) from None


def _detection_inputs(model: str, data: Path, pre, decoder: Path | None, threshold: float | None):
    """The detector, its images and truth boxes (mapped onto the model's classes by name), checked with one
    query before any work."""
    import numpy as np

    from .detection.decoders import load_decoder
    from .detection.model import load_detector
    from .detection.truth import load_boxes

    side = Path(model).with_suffix(".detection.toml")
    if decoder is None and not side.is_file():
        raise InputError(f"a detector needs its decoder file: --decoder, or {side.name} beside the model", path=model)
    dec = load_decoder(decoder or side, threshold)
    det = load_detector(model, pre, dec)
    boxes = load_boxes(data, det.preprocess.size)  # type: ignore[arg-type]
    if dec.classes and not boxes.named and len(boxes.names) > len(dec.classes):
        raise InputError(f"the data uses class {len(boxes.names) - 1}; the model's classes are "
                         f"{', '.join(dec.classes)} (indices 0..{len(dec.classes) - 1})", path=str(data))
    if dec.classes and boxes.named:  # the label map: the data's class names onto the model's output order
        unknown = sorted(set(boxes.names) - set(dec.classes))
        if unknown:
            raise InputError(f"the data labels {', '.join(map(repr, unknown[:5]))}, which the model's classes "
                             f"({', '.join(dec.classes)}) do not name", path=str(data))
        order = np.array([dec.classes.index(n) for n in boxes.names], np.int64)
        for t in boxes.truths:
            t.classes = order[t.classes]
    _first_query(det, boxes.x, model, "detection", None)
    y = np.empty(len(boxes.truths), dtype=object)
    y[:] = boxes.truths
    info = {"path": shown_path(data), "items": len(boxes.x), "shape": list(boxes.x.shape[1:]), **boxes.info,
            "classes": dec.classes or boxes.names}
    return det, boxes.x, y, info


def _model_inputs(model: str, task: str, data: Path, pre, output: str | None, labels: Path | None):
    """A classifier or regressor, its images and labels (through the label map), checked with one query."""
    from .adapters import load_model
    from .data import load_data

    m = load_model(model, task, pre, output)
    x, y = load_data(data, size=m.preprocess.size)  # a folder of mixed sizes is resized to the model's input
    width = _first_query(m, x, model, task, output)
    info = {"path": shown_path(data), "items": len(x), "shape": list(x.shape[1:])}
    y, names = _labels(y, task, width, model, labels, data)
    if names:
        info["classes"] = names
    return m, x, y, info


def _labels(y, task: str, width: int, model: str, labels: Path | None, data: Path):
    """Labels the checks can compare with the model's outputs, and the class names when a label map is given."""
    import numpy as np

    from .data import class_indices, read_label_map

    side = Path(model).with_suffix(".labels.txt")
    names = read_label_map(labels or side) if labels or side.is_file() else []
    if task == "classification":
        if names and len(names) != width:
            raise InputError(f"the label map names {len(names)} classes; the model answers {width}", path=str(labels or side))
        return class_indices(y, names, width, str(data)), names
    if y.dtype == object:
        bad = next(v for v in y if isinstance(v, str))
        raise InputError(f"label {bad!r} is not a number: a regression is judged against numbers", path=str(data))
    return np.asarray(y, dtype=np.float64), names


def _first_query(m, x, model: str, task: str, output: str | None) -> int:
    """One image through the model before any work: a model that cannot run, or answers a spatial map to a
    classification, is refused with one line."""
    import numpy as np

    from .adapters import refuse_spatial

    try:
        first = m(x[:1])
    except InputError:
        raise
    except Exception as exc:  # any failure of the model itself: one line naming it
        raise InputError(f"the model cannot run on these images: {' '.join(str(exc).split())[:200]}", path=model) from None
    if task == "detection":
        return 0
    refuse_spatial(np.shape(first), output or "the model's output", task, model)  # shapes a model declared wrongly
    return int(np.shape(first)[-1]) if np.ndim(first) > 1 else 1


def _said(console, name: str, doc: dict, out: Path) -> None:
    from vehicle_ds.results import verdict_line

    s = doc["summary"]
    console.print(f"{name}: {len(doc['checks'])} checks, {s['queries']:,} queries in {s['elapsed_s']}s -> {out}")
    p = s.get("plan")
    if p and p["factor"] < 1:  # said on the terminal: the samples are smaller than the suite's
        sizes = ", ".join(f"{k} {v}" for k, v in p["sizes"].items())
        console.print(f"PLANNED: {p['cost_ms_per_query']} ms per query; the suite needed ~{p['suite_queries']:,} more "
                      f"queries, the budget affords ~{p['affordable_queries']:,}: samples scaled by {p['factor']} "
                      f"({sizes})", markup=False)
    if s.get("cut"):  # said on the terminal, not only in the file: these verdicts were never earned
        console.print(f"INCOMPLETE: the budget stopped {len(s['cut'])} check(s): {', '.join(s['cut'])} "
                      "(raise --query-budget or --time-budget)", markup=False)
    console.print(verdict_line(doc["checks"], f"vehicle-ds report {out} --out report.html"))


PROG = "vehicle-ds model-check"


def main(args: list[str]) -> None:
    from vehicle_ds.subcommands import run_subapp

    run_subapp(app, args, PROG)
