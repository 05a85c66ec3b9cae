"""numpy building blocks the vectorised readers share: fixed-width gathers, hex digits, searches."""

from __future__ import annotations

import numpy as np

PAD = 160  # zero bytes after every block, so fixed-width gathers near its end stay inside the buffer

HEX = np.full(256, 255, dtype=np.uint8)  # ASCII byte -> nibble value, 255 for a non-hex byte
for _i, _c in enumerate(b"0123456789abcdef"):
    HEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    HEX[_c] = 10 + _i


# Two ASCII hex digits read as one little-endian uint16 -> their byte value; 0xFFFF where either is not hex.
# One table lookup per byte instead of two nibble lookups, a shift and an or (the candump payload's hot path).
_hi, _lo = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")  # first char, second char
HEX_PAIR = np.where((HEX[_hi] != 255) & (HEX[_lo] != 255), (HEX[_hi].astype(np.uint16) << 4) | HEX[_lo], 0xFFFF)
HEX_PAIR = HEX_PAIR.T.ravel().astype(np.uint16)  # index = first char + 256 * second char (little-endian view)
del _hi, _lo


def first_after(positions: np.ndarray, starts: np.ndarray, none: int) -> np.ndarray:
    """For each start, the first position >= start (``none`` where there is none)."""
    idx = np.searchsorted(positions, starts)
    out = np.full(starts.shape, none, dtype=np.int64)
    ok = idx < positions.shape[0]
    out[ok] = positions[idx[ok]]
    return out


def gather(arr: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """Rows of ``width`` bytes starting at ``starts``; a window view avoids an index matrix."""
    return np.lib.stride_tricks.sliding_window_view(arr, width)[starts]


def hex_value(arr: np.ndarray, starts: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``width``-digit hex numbers at ``starts`` and whether every digit was hex."""
    nib = HEX[gather(arr, starts, width)].astype(np.uint64)
    ok = (nib != 255).all(axis=1)
    shifts = (np.uint64(4) * np.arange(width - 1, -1, -1, dtype=np.uint64))[None, :]
    return (np.where(nib == 255, 0, nib) << shifts).sum(axis=1, dtype=np.uint64), ok


def little_endian(arr: np.ndarray, pos: np.ndarray, dtype: str) -> np.ndarray:
    """The ``dtype`` values (e.g. ``"<u4"``) stored at byte positions ``pos``."""
    size = np.dtype(dtype).itemsize
    return gather(arr, pos, size).copy().view(dtype).ravel()
