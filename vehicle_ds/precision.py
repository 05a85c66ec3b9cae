"""How many decimals a set of positions carries: the proof that coarsening held, read the same way by the
edge agent's auditor and the hub's monitoring."""

from __future__ import annotations

import numpy as np


def decimals_needed(values: np.ndarray, most: int) -> int:
    """The fewest decimals (at most ``most``; ``most + 1`` when even that is not enough) that represent every
    value exactly, up to float64 rounding (a relative 1e-9: 1e-6 once called 39.90001 three decimals)."""
    for d in range(most + 1):
        scaled = values * 10.0 ** d
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return d
    return most + 1
