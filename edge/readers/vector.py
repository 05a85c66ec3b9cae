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


_ZEROS = np.uint64(0x3030303030303030)
_HIGH = np.uint64(0x8080808080808080)
_OVER_NINE = np.uint64(0x7676767676767676)  # a byte b <= 9 stays below 0x80 after adding 0x76
_LOW_NIBBLES = np.uint64(0x0F0F0F0F0F0F0F0F)


def decimal_words(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of 16 ASCII decimal digits (uint8, C-contiguous) as uint64 numbers, and whether every byte was a
    digit. Eight digits at a time in one 64-bit word (the SWAR conversion: pairs, then quads, then the
    eight, each a multiply and a shift), instead of one float per digit and a dot product."""
    w = digits.view("<u8")  # (rows, 2): digits 0-7 and 8-15, the first digit in the lowest byte
    d = w - _ZEROS  # no borrow between bytes where every byte is a digit; rows where one is not fail below
    good = (((d + _OVER_NINE) | d) & _HIGH == 0).all(axis=1)
    d = d & _LOW_NIBBLES
    d = (d * np.uint64(10) + (d >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    d = (d * np.uint64(100) + (d >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    d = (d * np.uint64(10000) + (d >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    return d[:, 0] * np.uint64(100_000_000) + d[:, 1], good


def little_endian(arr: np.ndarray, pos: np.ndarray, dtype: str) -> np.ndarray:
    """The ``dtype`` values (e.g. ``"<u4"``) stored at byte positions ``pos``."""
    size = np.dtype(dtype).itemsize
    return gather(arr, pos, size).view(dtype).ravel()  # a gather is a fresh C-ordered array: no copy needed
