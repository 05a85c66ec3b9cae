"""The live agent: python-can buses (socketcan on rigs, udp_multicast/virtual in tests), micro-batches
through the same vectorised pipeline as replay, a durable spool and the uplink sender; SIGTERM/SIGINT
flush everything and exit cleanly."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
import time
from pathlib import Path

from vehicle_ds.catalog import vehicle_asset
from vehicle_ds.results import finish, new_results, write_json

from .config import EdgeConfig, load_config
from .frames import FrameChunk
from .run import AgentRun
from .setup import build_agent

log = logging.getLogger("vehicle_ds.edge")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"ts": round(record.created, 3), "level": record.levelname.lower(),
                           "logger": record.name, "msg": record.getMessage()})


def _logging(fmt: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("vehicle_ds")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


# interfaces whose bit rate is the operating system's or the peer's, never the opener's: python-can
# accepts and ignores ``bitrate`` there, so a configured rate would be a silent lie
BITRATE_ELSEWHERE = {
    "socketcan": "set it on the interface: ip link set {ch} type can bitrate {rate} (ExecStartPre in the unit)",
    "socketcand": "set it on the socketcand server's interface",
    "virtual": "a virtual bus has no bit rate", "udp_multicast": "a UDP multicast bus has no bit rate",
}


def refuse_ignored_bitrates(cfg: EdgeConfig) -> None:
    for b in cfg.buses:
        where = BITRATE_ELSEWHERE.get(b.interface)
        if where and (b.bitrate or b.data_bitrate):
            from vehicle_ds.errors import InputError

            raise InputError(f"bus {b.interface}:{b.channel}: bitrate is not applied by the agent on "
                             f"{b.interface}: {where.format(ch=b.channel, rate=b.bitrate or b.data_bitrate)}; "
                             "remove it from the [[bus]] table")


def open_buses(cfg: EdgeConfig) -> list:
    import can

    refuse_ignored_bitrates(cfg)
    buses = []
    for b in cfg.buses:
        kwargs = dict(b.extra)
        if b.bitrate:
            kwargs["bitrate"] = b.bitrate
        if b.fd:
            kwargs["fd"] = True
        if b.data_bitrate:
            kwargs["data_bitrate"] = b.data_bitrate
        try:
            buses.append(can.Bus(interface=b.interface, channel=b.channel, **kwargs))
        except Exception as exc:
            for open_bus in buses:
                open_bus.shutdown()
            from vehicle_ds.errors import InputError

            raise InputError(f"cannot open bus {b.interface}:{b.channel}: {exc}") from None
    return buses


def _drain_bus(bus, name: str, buffer: list, lock: threading.Lock, most: int = 1_000_000) -> None:
    """At shutdown, take what the interface already holds: a frame received before SIGTERM is counted."""
    for _ in range(most):
        try:
            msg = bus.recv(timeout=0)
        except Exception:  # a bus already failing at shutdown: what was taken is kept
            return
        if msg is None:
            return
        msg.channel = name
        with lock:
            buffer.append(msg)


def _start_sender(cfg: EdgeConfig, agent):
    """The uplink thread sending the spool's batches to the hub, when one is configured."""
    if not cfg.uplink_url:
        return None
    from .sender import Sender

    creds = cfg.token
    if cfg.device_credentials:
        from .hubauth import DeviceTokens

        creds = DeviceTokens(cfg.uplink_url.split("/api/")[0], cfg.device_credentials, cfg.tls_verify)
    sender = Sender(agent.spool, cfg.uplink_url, creds, verify=cfg.tls_verify)
    threading.Thread(target=sender.run, daemon=True, name="uplink").start()
    return sender


def _snapshot(cfg: EdgeConfig, agent, doc: dict) -> None:
    """results.json while running: the counts so far, marked as a snapshot (the checks judge what was seen so
    far; the file written at shutdown replaces it)."""
    summary = agent.summary() | {"snapshot": {"at": time.time(), "running": True}}
    write_json(cfg.results, finish(dict(doc, checks=agent.checks()), summary))


def run_live(config_path: str | Path, stop: threading.Event | None = None) -> dict:
    cfg = load_config(config_path)
    _logging(cfg.log_format)
    agent, dbs = build_agent(cfg.dbc_specs(), cfg.policy, cfg.spool_dir, consented=cfg.purposes,
                                   device=cfg.device_id, key_file=cfg.key_file, spool_max_mb=cfg.spool_max_mb,
                                   batch_records=10**9, geofence=cfg.geofence)
    doc = new_results("edge", {"mode": "live", "buses": [f"{b.interface}:{b.channel}" for b in cfg.buses],
                               "dbc": [db.source_entry() for db in dbs]},
                      {"consented_purposes": sorted(cfg.purposes), "device": cfg.device_id},
                      asset=vehicle_asset([p for _, p in cfg.dbc_specs()], cfg.vehicle))
    stop = stop or threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError):  # not the main thread (tests drive run_live from a thread)
            signal.signal(sig, lambda *_: stop.set())
    buses = open_buses(cfg)
    channels = [f"{b.interface}:{b.channel}" for b in cfg.buses]
    buffer: list = []
    lock = threading.Lock()

    def receive(bus, name: str) -> None:
        while not stop.is_set():
            try:
                msg = bus.recv(timeout=0.1)
            except Exception as exc:  # a bus going away must not kill the agent silently
                log.error("bus %s failed: %s", name, exc)
                stop.set()
                return
            if msg is not None:
                msg.channel = name
                with lock:
                    buffer.append(msg)
        _drain_bus(bus, name, buffer, lock)

    threads = [threading.Thread(target=receive, args=(b, n), daemon=True, name=f"rx-{n}")
               for b, n in zip(buses, channels, strict=True)]
    for t in threads:
        t.start()
    sender = _start_sender(cfg, agent)
    log.info("edge agent started on %s", ", ".join(channels))
    last_flush = time.monotonic()
    chunk_channels: list[str] = list(channels)

    def drain(run: AgentRun) -> None:
        with lock:
            msgs = buffer[:]
            buffer.clear()
        if msgs:
            run.feed([FrameChunk.from_messages(msgs, chunk_channels)])

    last_snapshot = time.monotonic()
    run = AgentRun(agent)
    try:
        with run:  # on exit: end of input, then flush, before the summary is read
            try:
                while not stop.is_set():
                    stop.wait(cfg.micro_batch_ms / 1000.0)
                    drain(run)
                    if time.monotonic() - last_flush >= cfg.batch_seconds:
                        agent.flush()
                        last_flush = time.monotonic()
                    if cfg.snapshot_seconds and time.monotonic() - last_snapshot >= cfg.snapshot_seconds:
                        _snapshot(cfg, agent, doc)  # a power cut loses at most this interval of the account
                        last_snapshot = time.monotonic()
            finally:
                for t in threads:
                    t.join(timeout=1.0)
                drain(run)  # what the buses held when the agent stopped
                for b in buses:
                    b.shutdown()
                if sender is not None:
                    sender.stop()
    finally:  # results.json even when the agent fails: nothing processed is lost
        summary = run.summary()
        doc["checks"] = run.checks()
        write_json(cfg.results, finish(doc, summary))
        log.info("edge agent stopped: %d frames, %d records out", summary["frames_total"],
                 summary["uplink"]["records"])
    return summary
