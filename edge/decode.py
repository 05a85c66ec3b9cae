"""Decoding: a vectorised path (numpy, per frame id, columnar) and a per-frame path, giving exactly the
values cantools gives (``decode_choices=False``, scaling on, ``allow_truncated=True``)."""

from __future__ import annotations

import struct
from collections.abc import Container
from dataclasses import dataclass

import numpy as np

from .plan import MessagePlan, SignalPlan


@dataclass
class Column:
    """Values of one signal over the rows of a batch; ``valid`` is False where the frame did not carry
    it (another multiplexer page, or a truncated frame)."""

    values: np.ndarray
    valid: np.ndarray


class _Words:
    """The rows of one message as 64-bit words, one per 8-byte window, read once and shared by every signal
    in that window (a classic frame is one window: each signal is then a shift and a mask)."""

    def __init__(self, data: np.ndarray) -> None:
        if data.shape[1] < 8:
            data = np.pad(data, ((0, 0), (0, 8 - data.shape[1])))
        self.data = data
        self.width = data.shape[1]
        self._le: dict[int, np.ndarray] = {}
        self._be: dict[int, np.ndarray] = {}

    def window(self, sig: SignalPlan) -> int:
        return min(sig.b0, self.width - 8)

    def le(self, w: int) -> np.ndarray:
        word = self._le.get(w)
        if word is None:
            block = self.data if self.width == 8 and self.data.flags.c_contiguous else \
                np.ascontiguousarray(self.data[:, w:w + 8])
            word = self._le[w] = block.view("<u8").ravel()
        return word

    def be(self, w: int) -> np.ndarray:
        word = self._be.get(w)
        if word is None:
            word = self._be[w] = self.le(w).byteswap()
        return word


def _raw_columns(sig: SignalPlan, data: np.ndarray, words: _Words | None = None) -> np.ndarray:
    """Raw unsigned values (uint64) of ``sig`` for every row of ``data`` (uint8, rows x width)."""
    if sig.b1 - sig.b0 > 8:  # a 64-bit signal that is not byte-aligned spans 9 bytes: rare, done with Python ints
        out = np.empty(data.shape[0], dtype=np.uint64)
        for i in range(data.shape[0]):
            out[i] = _raw_scalar(sig, bytes(data[i]))
        return out
    words = words or _Words(data)
    w = words.window(sig)
    if sig.little:
        shift = sig.shift_bit - 8 * w
        word = words.le(w)
    else:  # the signal's least significant bit, counted from the window's last bit
        shift = 8 * (w + 8) - sig.shift_bit - sig.length
        word = words.be(w)
    if shift:
        word = word >> np.uint64(shift)
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


UNREAD = np.empty(0, dtype=np.uint8)  # the values of a signal nobody reads: any use of them fails loudly


def _member(values: np.ndarray, ids: tuple[int, ...]) -> np.ndarray:
    """Rows whose multiplexer value is one of ``ids`` (a handful of small ints: comparisons beat np.isin)."""
    hit = values == ids[0]
    for i in ids[1:]:
        hit |= values == i
    return hit


def decode_batch(plan: MessagePlan, data: np.ndarray, lengths: np.ndarray,
                 read: Container[str] | None = None) -> dict[str, Column]:
    """Decode every row of ``data`` (frames of one id) into columns. With ``read``, only the signals named
    there (and the multiplexers) get values; the others get their validity only (a dropped signal is
    counted, never read)."""
    cols: dict[str, Column] = {}
    n = data.shape[0]
    words = _Words(data) if n else None
    shortest = int(lengths.min()) if n else 0
    whole = np.ones(n, dtype=bool)  # the rows that carry a signal every frame carries in full
    valid_at: dict[int, np.ndarray] = {}
    selected: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}
    for sig in plan.signals:
        if sig.b1 <= shortest:
            valid = whole
        else:
            valid = valid_at.get(sig.b1)
            if valid is None:
                valid = valid_at[sig.b1] = lengths >= sig.b1
        if sig.mux_parent is not None:
            parent = cols.get(sig.mux_parent)
            if parent is None:
                continue
            key = (sig.mux_parent, sig.mux_ids)
            page = selected.get(key)
            if page is None:
                page = selected[key] = parent.valid & _member(parent.values, sig.mux_ids) if sig.mux_ids \
                    else np.zeros(n, dtype=bool)
            valid = valid & page
        if read is not None and sig.name not in read and not sig.is_multiplexer:  # selectors: read for their pages
            cols[sig.name] = Column(UNREAD, valid)
            continue
        if sig.length > 64:
            cols[sig.name] = Column(_wide(sig, data), valid)
            continue
        raw = _raw_columns(sig, data, words)
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
