"""Model integrity (hash, optional expected hash or Ed25519 signature) and abnormal-input probes."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np

from .adapters import Model


def verify_signature(model_path: str, signature_path: str, public_key_path: str) -> tuple[bool, str]:
    """Ed25519 signature over the model file's bytes (raw 64-byte signature or base64 of it)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    sig = Path(signature_path).read_bytes()
    if len(sig) != 64:
        sig = base64.b64decode(sig.strip())
    key = serialization.load_pem_public_key(Path(public_key_path).read_bytes())
    try:
        key.verify(sig, Path(model_path).read_bytes())
        return True, "signature verified"
    except InvalidSignature:
        return False, "signature does not match the model file"


def abnormal_inputs(model: Model, x: np.ndarray) -> dict[str, dict[str, Any]]:
    """Feed NaN, +/-Inf and out-of-range pixels; report, per probe, whether the harness survived, whether
    the model raised, and what it answered (NaN outputs, changed predictions). A detector's raw outputs are
    read, all of them: a NaN heatmap decodes to no detections and would otherwise look like an empty road."""
    raw_of = getattr(model, "outputs", None) or model
    base = model.predict(x) if model.task != "detection" else None  # the queries a run has always spent
    probes = {
        "nan_pixels": np.where(np.random.default_rng(0).random(x.shape) < 0.01, np.nan, x),
        "inf_pixels": np.where(np.random.default_rng(1).random(x.shape) < 0.01, np.inf, x),
        "negative_inf": np.full_like(x, -np.inf),
        "out_of_range_high": x * 10.0,
        "out_of_range_low": x - 5.0,
        "all_zero": np.zeros_like(x),
    }
    out = {}
    for name, batch in probes.items():
        try:
            raw = raw_of(batch)
            parts = list(raw.values()) if isinstance(raw, dict) else [raw]
            nan_rows = np.zeros(len(batch), bool)
            for part in parts:
                part = np.asarray(part, dtype=np.float64)
                nan_rows |= np.isnan(part).any(axis=tuple(range(1, part.ndim))) if part.ndim > 1 else np.isnan(part)
            nan_out = int(nan_rows.sum())
            changed = None
            if model.task == "classification" and not nan_rows.all():  # a NaN output has no prediction to compare
                changed = int((raw[~nan_rows].argmax(1) != base[~nan_rows]).sum())
            out[name] = {"raised": None, "nan_outputs": nan_out, "changed_predictions": changed,
                         "compared": int((~nan_rows).sum())}
        except Exception as exc:  # the harness survives whatever the model does
            out[name] = {"raised": f"{type(exc).__name__}: {str(exc)[:160]}"}
    return out
