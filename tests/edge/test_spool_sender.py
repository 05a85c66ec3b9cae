"""Durable spool and uplink: nothing acknowledged is lost, nothing is delivered twice."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from edge.sender import Sender
from edge.spool import Spool


class _Hub:
    """A real HTTP server on loopback that fails the first ``fail`` uploads with 503."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.received: list[str] = []
        self.tokens: set[str] = set()
        self.taken: set[str] = set()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hub.tokens.add(self.headers.get("Authorization", ""))
                if hub.fail > 0:
                    hub.fail -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                bid = self.headers["X-Batch-Id"]
                if bid in hub.taken:  # another device's id: the hub answers 409
                    self.send_response(409)
                    self.end_headers()
                    return
                status = 200 if bid in hub.received else 201  # 200: this device's own retry, already stored
                if status == 201:
                    hub.received.append(bid)
                assert body.startswith(b"VDSB1")
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/uplink"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def spool(tmp_path):
    s = Spool(tmp_path / "spool", max_bytes=10_000_000)
    for i in range(5):
        s.put(f"batch{i:02d}", b"VDSB1" + bytes([i]) * 100)
    return s


def test_offline_then_online_delivers_each_batch_once(spool):
    hub = _Hub(fail=3)
    sender = Sender(spool, hub.url, "device-token", backoff_initial=0.01, backoff_max=0.05)
    try:
        assert sender.drain(10.0)
    finally:
        sender.stop()
        hub.close()
    assert hub.received == [f"batch{i:02d}" for i in range(5)]
    assert spool.pending() == [] and sender.stats.failures == 3
    assert hub.tokens == {"Bearer device-token"}


def test_unreachable_hub_keeps_everything(spool):
    sender = Sender(spool, "http://127.0.0.1:9/api/v1/uplink", backoff_initial=0.01, backoff_max=0.02, timeout=0.5)
    try:
        assert not sender.drain(0.3)
    finally:
        sender.stop()
    assert len(spool.pending()) == 5 and "ConnectError" in sender.stats.last_error


def test_retry_after_lost_acknowledgement_is_not_doubled(spool):
    hub = _Hub()
    first = spool.pending()[0]
    hub.received.append(first.stem.split("-", 1)[1])  # the hub stored it, but the answer never arrived
    sender = Sender(spool, hub.url)
    try:
        assert sender.drain(5.0)
    finally:
        sender.stop()
        hub.close()
    assert sorted(hub.received) == sorted(set(hub.received)) and len(hub.received) == 5


def test_a_taken_batch_id_is_rekeyed_not_dropped(tmp_path):
    from vehicle_ds.hub.selfprobe import tiny_batch

    s = Spool(tmp_path / "spool")
    bid, body = tiny_batch("gw-1", rows=4)
    s.put(bid, body)
    hub = _Hub()
    hub.taken.add(bid)
    sender = Sender(s, hub.url)
    try:
        assert sender.drain(5.0)
    finally:
        sender.stop()
        hub.close()
    assert sender.stats.rekeyed == 1 and len(hub.received) == 1 and hub.received[0] != bid
    assert s.pending() == []


def test_size_bound_evicts_oldest_and_counts_it(tmp_path):
    s = Spool(tmp_path / "s", max_bytes=1000)
    for i in range(5):
        s.put(f"b{i}", bytes(300))
    assert len(s.pending()) == 3 and s.stats.evicted == 2
    assert [p.stem.split("-", 1)[1] for p in s.pending()] == ["b2", "b3", "b4"]


def test_interrupted_write_is_not_acknowledged(tmp_path):
    d = tmp_path / "s"
    s = Spool(d)
    s.put("ok", b"x" * 10)
    (d / "000000000009-half.tmp").write_bytes(b"partial")  # a write killed before fsync + rename
    s2 = Spool(d)
    assert [p.name for p in d.iterdir()] == [s2.pending()[0].name]
    assert s2.put("next", b"y").name.startswith("000000000001-")
