"""Decoding: a vectorised path (numpy, per frame id, columnar) and a per-frame path, giving exactly the
values cantools gives (``decode_choices=False``, scaling on, ``allow_truncated=True``)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from .plan import MessagePlan, SignalPlan


@dataclass
class Column:
    """Values of one signal over the rows of a batch; ``valid`` is False where the frame did not carry
    it (another multiplexer page, or a truncated frame)."""

    values: np.ndarray
    valid: np.ndarray


def _raw_columns(sig: SignalPlan, data: np.ndarray) -> np.ndarray:
    """Raw unsigned values (uint64) of ``sig`` for every row of ``data`` (uint8, rows x width)."""
    span = sig.b1 - sig.b0
    n = data.shape[0]
    if span > 8:  # a 64-bit signal that is not byte-aligned spans 9 bytes: rare, done with Python ints
        out = np.empty(n, dtype=np.uint64)
        for i in range(n):
            out[i] = _raw_scalar(sig, bytes(data[i]))
        return out
    buf = np.zeros((n, 8), dtype=np.uint8)
    if sig.little:
        buf[:, :span] = data[:, sig.b0:sig.b1]
        word = buf.view("<u8").ravel()
        word = word >> np.uint64(sig.shift_bit - 8 * sig.b0)
    else:
        buf[:, 8 - span:] = data[:, sig.b0:sig.b1]
        word = buf.view(">u8").ravel().astype(np.uint64)
        word = word >> np.uint64(8 * sig.b1 - sig.shift_bit - sig.length)
    if sig.length < 64:
        word = word & np.uint64((1 << sig.length) - 1)
    return word


def _raw_scalar(sig: SignalPlan, data: bytes) -> int:
    chunk = data[sig.b0:sig.b1]
    if sig.little:
        word = int.from_bytes(chunk, "little") >> (sig.shift_bit - 8 * sig.b0)
    else:
        word = int.from_bytes(chunk, "big") >> (8 * sig.b1 - sig.shift_bit - sig.length)
    return word & ((1 << sig.length) - 1)


def _physical(sig: SignalPlan, raw: np.ndarray) -> np.ndarray:
    if sig.is_float:
        vals = raw.astype(np.uint32).view(np.float32).astype(np.float64) if sig.length == 32 \
            else raw.view(np.float64)
        return vals * sig.scale + sig.offset
    if sig.signed:
        if sig.length == 64:
            vals = raw.view(np.int64)
        else:
            vals = raw.astype(np.int64)
            vals = np.where(vals >= (1 << (sig.length - 1)), vals - (1 << sig.length), vals)
    else:
        vals = raw
    if sig.integer:
        if sig.scale == 1 and sig.offset == 0:
            return vals
        return vals.astype(np.int64) * int(sig.scale) + int(sig.offset)
    return vals.astype(np.float64) * float(sig.scale) + float(sig.offset)


def decode_batch(plan: MessagePlan, data: np.ndarray, lengths: np.ndarray) -> dict[str, Column]:
    """Decode every row of ``data`` (frames of one id) into columns."""
    cols: dict[str, Column] = {}
    for sig in plan.signals:
        valid = lengths >= sig.b1
        if sig.mux_parent is not None:
            parent = cols.get(sig.mux_parent)
            if parent is None:
                continue
            valid = valid & parent.valid & np.isin(parent.values, sig.mux_ids)
        if sig.length > 64:
            cols[sig.name] = Column(_wide(sig, data), valid)
            continue
        raw = _raw_columns(sig, data)
        cols[sig.name] = Column(_physical(sig, raw), valid)
    return cols


def _wide(sig: SignalPlan, data: np.ndarray) -> np.ndarray:
    """A signal wider than 64 bits (a camera tile, a certificate) as its raw bits in hex, one string per row:
    no number type holds it. A signal every rule drops is never read (its values never leave; the frames
    are still counted), so a log full of them costs nothing per row."""
    n = data.shape[0]
    if sig.handling == "drop":
        return np.zeros(n, dtype=np.uint8)
    width = (sig.length + 3) // 4
    rows = data[:, sig.b0:sig.b1].tobytes()
    span = sig.b1 - sig.b0
    return np.array([format(_raw_scalar(sig, b"\0" * sig.b0 + rows[i * span:(i + 1) * span]), f"0{width}x")
                     for i in range(n)], dtype=object)


def decode_frame(plan: MessagePlan, data: bytes) -> dict[str, int | float]:
    """The per-frame path: the same values as :func:`decode_batch`, for one frame."""
    out: dict[str, int | float] = {}
    n = len(data)
    for sig in plan.signals:
        if n < sig.b1:
            continue
        if sig.mux_parent is not None:
            sel = out.get(sig.mux_parent)
            if sel is None or sel not in sig.mux_ids:
                continue
        raw = _raw_scalar(sig, data)
        if sig.length > 64:  # as the batch path gives it: the raw bits in hex (dropped ones are never read)
            if sig.handling != "drop":
                out[sig.name] = format(raw, f"0{(sig.length + 3) // 4}x")  # type: ignore[assignment]
            continue
        if sig.is_float:
            v = struct.unpack("<f" if sig.length == 32 else "<d",
                              raw.to_bytes(sig.length // 8, "little"))[0]
            out[sig.name] = v * sig.scale + sig.offset
            continue
        if sig.signed and raw >= 1 << (sig.length - 1):
            raw -= 1 << sig.length
        out[sig.name] = raw * sig.scale + sig.offset if not (sig.integer and sig.scale == 1 and sig.offset == 0) else raw
    return out
