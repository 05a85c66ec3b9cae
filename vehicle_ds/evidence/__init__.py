"""Evidence that can be handed over: masking used by every component before it writes evidence."""

from __future__ import annotations

from .masking import Masker, default_masker, evidence_key_path

__all__ = ["Masker", "default_masker", "evidence_key_path"]
