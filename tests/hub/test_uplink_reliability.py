"""Nothing lost, nothing doubled: a retry after a lost response, and 50 concurrent devices."""

from __future__ import annotations

import os
import socket
import threading
import time

import httpx

from edge.hubauth import DeviceTokens, enroll
from edge.sender import Sender
from edge.spool import Spool
from tests.hub.conftest import hub
from vehicle_ds.hub.admin import add_enrollment, add_user
from vehicle_ds.hub.selfprobe import tiny_batch


class DropFirstResponse:
    """A loopback TCP proxy that forwards the first upload to the hub but closes the connection before
    the answer gets back (the network failed after the hub stored the batch)."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.dropped = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        """Copy both ways; on the connection that carries the first upload, swallow the hub's answer to it
        and close. Whole streams are copied (never one recv per request), so a busy machine that splits a
        response into several segments changes nothing."""
        upstream = socket.create_connection(("127.0.0.1", self.target))
        uplink_sent = threading.Event()

        def forward() -> None:
            try:
                while data := client.recv(65536):
                    if b"/api/v1/uplink" in data:
                        uplink_sent.set()
                    upstream.sendall(data)
            except OSError:
                pass

        threading.Thread(target=forward, daemon=True).start()
        try:
            while data := upstream.recv(65536):
                if uplink_sent.is_set() and self.dropped == 0:
                    self.dropped += 1  # the hub answered, so it stored the batch; the device never hears it
                    break
                client.sendall(data)
        except OSError:
            pass
        finally:
            client.close()
            upstream.close()

    def close(self) -> None:
        self.sock.close()


def test_upload_retried_after_network_failure_is_stored_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    add_user(url, "org-a", "root", "root-password-123", "admin")
    with hub(url, None) as base:
        code = add_enrollment(url, "org-a", "LFV-1")
        enroll(base, code, "gw-1", tmp_path / "cred.json")
        tokens = DeviceTokens(base, tmp_path / "cred.json")
        proxy = DropFirstResponse(int(base.rsplit(":", 1)[1]))
        spool = Spool(tmp_path / "spool")
        bid, body = tiny_batch("gw-1")
        spool.put(bid, body)
        sender = Sender(spool, f"http://127.0.0.1:{proxy.port}/api/v1/uplink", tokens, backoff_initial=0.05,
                        backoff_max=0.1)
        try:
            assert sender.drain(15.0)
        finally:
            sender.stop()
            proxy.close()
        assert proxy.dropped == 1 and sender.stats.failures >= 1 and sender.stats.attempts >= 2
        h = {"Authorization": "Bearer " + httpx.post(base + "/api/v1/auth/login", json={
            "username": "root", "password": "root-password-123"}).json()["access_token"]}
        listed = httpx.get(base + "/api/v1/uplink/batches", headers=h).json()
        assert listed["total"] == 1 and listed["batches"][0]["batch_id"] == bid
        assert spool.pending() == []


def test_fifty_devices_upload_concurrently_and_lose_nothing(tmp_path):
    """50 devices each upload a fixed number of batches (4 per soak second, one every 0.25 s when the machine
    keeps up): every batch is stored exactly once, whatever the speed."""
    seconds = float(os.environ.get("VEHICLE_DS_HUB_SOAK_SECONDS", "60" if os.environ.get("CI") else "8"))
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    add_user(url, "fleet", "root", "root-password-123", "admin")
    produced: dict[str, int] = {}
    errors: list[str] = []
    per_device = int(seconds * 4)
    with hub(url, None) as base:
        devices = []
        for i in range(50):
            d = f"gw-{i:02d}"
            enroll(base, add_enrollment(url, "fleet", f"veh-{i}"), d, tmp_path / f"{d}.json")
            devices.append(d)

        def device(name: str) -> None:
            spool = Spool(tmp_path / "spools" / name)
            sender = Sender(spool, base + "/api/v1/uplink", DeviceTokens(base, tmp_path / f"{name}.json"),
                            backoff_initial=0.05, backoff_max=0.5, timeout=30)
            n = 0
            try:
                for _ in range(per_device):  # a count, not a duration: the same work on a busy machine
                    bid, body = tiny_batch(name, rows=10)
                    spool.put(bid, body)
                    n += 1
                    sender.send_pending()
                    time.sleep(0.25)
                if not sender.drain(60):
                    errors.append(f"{name}: {len(spool.pending())} batches undelivered ({sender.stats.last_error})")
            finally:
                sender.stop()
                produced[name] = n

        threads = [threading.Thread(target=device, args=(d,)) for d in devices]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=seconds + 120)
        h = {"Authorization": "Bearer " + httpx.post(base + "/api/v1/auth/login", json={
            "username": "root", "password": "root-password-123"}).json()["access_token"]}
        total = httpx.get(base + "/api/v1/uplink/batches?limit=1", headers=h).json()["total"]
    assert not errors, errors[:5]
    assert sum(produced.values()) == 50 * per_device
    assert total == sum(produced.values()), (total, sum(produced.values()))
    assert all(not list((tmp_path / "spools" / d).glob("*.vdsb")) for d in produced)
    print(f"{len(produced)} devices, {total} batches in {seconds:.0f}s, none lost, none doubled")
