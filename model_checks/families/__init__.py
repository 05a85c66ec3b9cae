"""Check families, one module each, registered with ``@family``; ``registry.ORDER`` says the run order."""

from __future__ import annotations

from . import (  # noqa: F401  (registration)
    adversarial,
    backdoor,
    certified,
    clean,
    corruption,
    detection,
    integrity,
    metamorphic,
)
from .registry import FAMILIES, Family, expected_checks, families_for

__all__ = ["FAMILIES", "Family", "expected_checks", "families_for"]
