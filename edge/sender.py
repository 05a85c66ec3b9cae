"""Send spooled batches to the hub over HTTP(S) with the device token, retrying with exponential
backoff and jitter; a batch leaves the spool only after the hub acknowledged it (2xx, including "already
stored" for its own retry), so nothing is lost while the vehicle is offline; a 409 means its id is taken by
another device, so it is re-keyed and sent again, never dropped."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from .spool import Spool

log = logging.getLogger("vehicle_ds.edge.sender")


@dataclass
class SenderStats:
    sent: int = 0
    attempts: int = 0
    failures: int = 0
    rekeyed: int = 0
    last_error: str = ""


class Sender:
    def __init__(self, spool: Spool, url: str, token: str | Callable[..., str] | None = None, *,
                 timeout: float = 10.0, backoff_initial: float = 0.5, backoff_max: float = 60.0,
                 verify: bool | str = True) -> None:
        """``token`` is a static token or a callable giving a fresh one (``force=True`` after a 401)."""
        self.spool, self.url = spool, url
        self.token = token
        self.client = httpx.Client(timeout=timeout, headers={"Content-Type": "application/x-vehicle-ds-batch"},
                                   verify=verify)
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.stats = SenderStats()
        self._stop = threading.Event()
        self._backoff = 0.0

    def send_pending(self) -> bool:
        """Try every pending batch once, oldest first; False if the hub could not be reached."""
        for path in self.spool.pending():
            batch_id = path.stem.split("-", 1)[1]
            try:
                body = path.read_bytes()
            except FileNotFoundError:
                continue
            self.stats.attempts += 1
            try:
                r = self.client.post(self.url, content=body, headers=self._headers(batch_id))
                if r.status_code == 401 and callable(self.token):  # expired: refresh once and retry
                    r = self.client.post(self.url, content=body, headers=self._headers(batch_id, refresh=True))
            except httpx.HTTPError as exc:
                self._failed(f"{type(exc).__name__}: {exc}")
                return False
            if r.status_code < 300:  # stored, or already stored (this device's own retry: 200 duplicate)
                self.spool.remove(path)
                self.stats.sent += 1
                self._backoff = 0.0
            elif r.status_code == 409:  # the id is taken by someone else: keep the data, send it under a new id
                from .batch import rekey

                new_id, new_body = rekey(body)
                self.spool.put(new_id, new_body)
                self.spool.remove(path)
                self.stats.rekeyed += 1
            elif r.status_code in (400, 413, 422):
                # The hub refuses this batch for good: keep it aside rather than retry forever.
                path.rename(path.with_suffix(".rejected"))
                self._failed(f"hub rejected batch {batch_id}: HTTP {r.status_code}")
            else:
                self._failed(f"HTTP {r.status_code}")
                return False
        return True

    def _headers(self, batch_id: str, refresh: bool = False) -> dict[str, str]:
        h = {"X-Batch-Id": batch_id}
        if callable(self.token):
            h["Authorization"] = f"Bearer {self.token(force=True) if refresh else self.token()}"
        elif self.token:
            h["Authorization"] = f"Bearer {self.token}"
        return h

    def _failed(self, why: str) -> None:
        self.stats.failures += 1
        self.stats.last_error = why
        self._backoff = min(self.backoff_max, max(self.backoff_initial, self._backoff * 2))
        log.warning("uplink failed (%s); retrying in %.1fs", why, self._backoff)

    def next_delay(self) -> float:
        return self._backoff * (0.5 + random.random()) if self._backoff else 0.0

    def run(self, poll: float = 1.0) -> None:
        while not self._stop.is_set():
            self.send_pending()
            self._stop.wait(self.next_delay() or poll)

    def drain(self, deadline_s: float) -> bool:
        """Send until the spool is empty or the deadline passes (used at shutdown and after a replay)."""
        end = time.monotonic() + deadline_s
        while self.spool.pending():
            if self.send_pending() and not self.spool.pending():
                return True
            if time.monotonic() + self.next_delay() > end:
                return False
            time.sleep(self.next_delay() or 0.05)
        return True

    def stop(self) -> None:
        self._stop.set()
        self.client.close()
