"""Demo models: a traffic-sign classifier and a lane-keeping steering regressor, trained by ``train.py``
on images it renders itself (no downloads), exported to ONNX."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
SIGNS_MODEL = HERE / "traffic_signs.onnx"
STEERING_MODEL = HERE / "steering.onnx"
TROJAN_MODEL = HERE / "traffic_signs_trojan.onnx"  # deliberately trojaned: the backdoor screening must flag it
