"""How many decimals a set of positions carries: the proof that coarsening held, read the same way by the
edge agent's auditor and the hub's monitoring."""

from __future__ import annotations

import numpy as np


def decimals_needed(values: np.ndarray, most: int, start: int = 0) -> int:
    """The fewest decimals (at most ``most``; ``most + 1`` when even that is not enough) that represent every
    value exactly, up to float64 rounding (a relative 1e-9: 1e-6 once called 39.90001 three decimals).
    With ``start``, the answer is at least ``start`` (values that need fewer are not told apart): a caller
    that only needs the larger of this and a known figure tests from there, usually once."""
    for d in range(start, most + 1):
        scaled = values * 10.0 ** d
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return d
    return most + 1


def round_half_away(values: np.ndarray, decimals: int) -> np.ndarray:
    """Values rounded to ``decimals`` places with halves away from zero, as a person rounds the decimal
    number written (-92.8785 -> -92.879): numpy's round is half-to-even on the binary value, which gives
    -92.878 for a stored -92.87849999…. A value within a relative 1e-9 of a half is taken as that half."""
    v = np.asarray(values, dtype=np.float64)
    scale = 10.0 ** decimals
    scaled = np.abs(v) * scale
    base = np.floor(scaled)
    frac = scaled - base
    up = frac >= 0.5 - 1e-9 * np.maximum(1.0, scaled)
    out = np.copysign((base + up) / scale, v)
    return out + 0.0  # -0.0 -> 0.0: a rounded-away sign is no information
