"""Check families, one module each, registered with ``@family``; ``registry.ORDER`` says the run order."""

from __future__ import annotations

from . import adversarial, backdoor, certified, clean, corruption, integrity, metamorphic  # noqa: F401  (registration)
from .registry import FAMILIES, Family, expected_checks, families_for

__all__ = ["FAMILIES", "Family", "expected_checks", "families_for"]
