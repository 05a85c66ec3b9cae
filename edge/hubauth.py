"""Device credentials for the hub: enrol once with a one-time code (the device secret is stored 0600
and never leaves the device), then exchange it for short-lived access tokens, refreshed before expiry."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import httpx

from vehicle_ds.errors import InputError


def _post(url: str, body: dict, verify: bool | str, attempts: int = 20) -> httpx.Response:
    """POST, honouring the hub's rate limit (429 + Retry-After) a bounded number of times."""
    for _ in range(attempts):
        r = httpx.post(url, json=body, timeout=15, verify=verify)
        if r.status_code != 429:
            return r
        time.sleep(min(5.0, float(r.headers.get("retry-after", "1") or 1)))
    return r


def enroll(hub: str, code: str, device_id: str, secret_file: Path, verify: bool | str = True) -> str:
    r = _post(hub.rstrip("/") + "/api/v1/devices/enroll", {"code": code, "device_id": device_id}, verify)
    if r.status_code != 201:
        raise InputError(f"enrollment refused: HTTP {r.status_code} {r.text[:200]}")
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"device_id": device_id, "device_secret": r.json()["device_secret"]}, f)
    return device_id


class DeviceTokens:
    """A callable giving a valid access token; thread-safe, refreshes 60 s before expiry."""

    def __init__(self, hub: str, secret_file: Path, verify: bool | str = True) -> None:
        try:
            cred = json.loads(Path(secret_file).read_text())
            self.device_id, self._secret = cred["device_id"], cred["device_secret"]
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"cannot read device credentials: {exc}", path=str(secret_file)) from None
        self.url = hub.rstrip("/") + "/api/v1/devices/token"
        self.verify = verify
        self._token, self._until = "", 0.0
        self._lock = threading.Lock()

    def __call__(self, force: bool = False) -> str:
        with self._lock:
            if force or time.monotonic() > self._until:
                r = _post(self.url, {"device_id": self.device_id, "device_secret": self._secret}, self.verify)
                r.raise_for_status()
                body = r.json()
                self._token = body["access_token"]
                self._until = time.monotonic() + float(body.get("expires_in", 300)) - 60
            return self._token
