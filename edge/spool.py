"""The durable on-disk spool: a batch is acknowledged only once it is fsynced and renamed into place,
so ``kill -9`` loses nothing acknowledged. The spool has a size bound; when it is full the oldest
unsent batches are evicted and counted (reported, never hidden)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SUFFIX = ".vdsb"


@dataclass
class SpoolStats:
    written: int = 0
    bytes_written: int = 0
    evicted: int = 0
    bytes_evicted: int = 0


class Spool:
    def __init__(self, directory: str | Path, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.stats = SpoolStats()
        for stale in self.dir.glob("*.tmp"):  # a write interrupted before its fsync was never acknowledged
            stale.unlink(missing_ok=True)
        existing = self.pending()
        self._seq = int(existing[-1].name.split("-")[0]) + 1 if existing else 0

    def pending(self) -> list[Path]:
        return sorted(self.dir.glob(f"*{SUFFIX}"))

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.pending())

    def put(self, batch_id: str, body: bytes) -> Path:
        """Write durably; returns the path once the batch is acknowledged."""
        self._make_room(len(body))
        final = self.dir / f"{self._seq:012d}-{batch_id}{SUFFIX}"
        tmp = final.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(body)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        dfd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        self._seq += 1
        self.stats.written += 1
        self.stats.bytes_written += len(body)
        return final

    def _make_room(self, incoming: int) -> None:
        files = self.pending()
        total = sum(p.stat().st_size for p in files)
        while files and total + incoming > self.max_bytes:
            victim = files.pop(0)
            size = victim.stat().st_size
            victim.unlink(missing_ok=True)
            total -= size
            self.stats.evicted += 1
            self.stats.bytes_evicted += size

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)
