"""The probes, one family per module, registered in import order: the order they run in (the burst of the
rate-limit probe comes last, so its 429s never disturb another probe)."""

# ruff: noqa: I001
from __future__ import annotations

# importing registers the probes; the order is deliberate
from . import auth, jwt, authz, writes, reset, session, exposure, inventory, transport  # noqa: F401
from .writes import mass_assignment
from .registry import REGISTRY, Probe, result, run_probe
from .transport import rate_limit

__all__ = ["REGISTRY", "Probe", "mass_assignment", "rate_limit", "result", "run_probe"]
