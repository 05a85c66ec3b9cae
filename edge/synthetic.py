"""A frame as the simulators write it (``edge.simulate`` for DBC traffic, ``edge.simulate_transport`` for
multi-frame traffic): both import it from here, so neither imports the other back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Frame:
    t: float
    can_id: int
    extended: bool
    fd: bool
    data: bytes
    channel: str = "can0"
    kind: str = "data"  # data | error | remote
