"""Pseudonymisation keys: a device master secret that never leaves the device, and a derived key per
rotation period. Only a key *id* (a hash of the derived key) goes into uplink batches and results, so a
hub can tell periods apart without being able to recompute a pseudonym."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


class KeyRing:
    def __init__(self, master: bytes, rotation_days: float = 30.0) -> None:
        if len(master) < 16:
            raise ValueError("pseudonymisation master key must be at least 16 bytes")
        self._master = master
        self.rotation_s = rotation_days * 86400.0
        self._cache: dict[int, bytes] = {}

    @classmethod
    def from_file(cls, path: str | Path, rotation_days: float = 30.0) -> KeyRing:
        """Load the master secret, creating it (mode 0600) on first use."""
        p = Path(path)
        if not p.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
        return cls(p.read_bytes(), rotation_days)

    def period(self, t: float) -> int:
        return int(t // self.rotation_s) if self.rotation_s > 0 else 0

    def key(self, period: int) -> bytes:
        k = self._cache.get(period)
        if k is None:
            k = hmac.new(self._master, f"vehicle-ds/pseudonym/{period}".encode(), hashlib.sha256).digest()
            self._cache[period] = k
        return k

    def key_id(self, period: int) -> str:
        return hashlib.sha256(b"key-id:" + self.key(period)).hexdigest()[:16]

    def pseudonym(self, period: int, label: str, value: str) -> str:
        return hmac.new(self.key(period), f"{label}\x00{value}".encode(), hashlib.sha256).hexdigest()[:24]
