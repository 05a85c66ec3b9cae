"""Monitoring (监测预警): rules evaluated on every ingested document and batch, and on a clock for vehicles
that fall silent. A rule firing makes an alert, deduplicated per (asset, cause): a repeat only raises its
count. New alerts go to the structured log and to the organisation's webhooks (HMAC-signed, retried with
exponential backoff by :class:`Deliverer`).

Each rule is a plain function with a stable id; its docstring says what firing means. The categories follow
the risk-information categories of filings.md §7.2 (非法访问, 数据泄露/违规传输, 数据滥用, 流量异常, ...)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..evidence.detectors import BY_ID
from ..precision import decimals_needed
from ..vocabulary import SEVERITY_RANK, asset_key
from .db import Alert, Delivery, Device, KnownId, Webhook, now

log = logging.getLogger("vehicle_ds.hub.alerts")
logging.getLogger("vehicle_ds.hub").addHandler(logging.NullHandler())  # `hub serve` decides where logs go
VIN = BY_ID["vin"]  # the one registry of personal-data detectors


@dataclass
class Finding:
    """What a rule found: becomes (or repeats) an alert."""

    rule: str
    severity: str
    asset: str
    cause: str  # with the asset, the deduplication key
    title: str
    details: dict[str, Any] = field(default_factory=dict)
    category: str = ""  # filings.md §7.2 risk-information category


@dataclass(frozen=True)
class MonitorSettings:
    location_decimals: int = 3  # the policy's coarsest consented precision (engineering default)
    silent_after: dt.timedelta = dt.timedelta(hours=24)
    sweep_s: float = 60.0  # how often silent vehicles are looked for
    # webhook targets: https to public addresses only, unless the operator names a host or network here
    webhook_allow: tuple[str, ...] = ()  # e.g. ("10.20.0.0/16", "alerts.internal")
    webhook_http: bool = False  # plain http (a test receiver on loopback): an explicit operator setting
    webhook_timeout_s: float = 5.0  # one delivery's whole budget (connect, send, answer)
    webhook_queue: int = 64  # deliveries waiting per target; beyond it they stay pending for the next round


def webhook_refusal(url: str, settings: MonitorSettings) -> str | None:
    """Why a webhook may not be sent to ``url``, or None. https only (http when the operator allows it); the
    host must resolve, and every address it resolves to must be public: loopback, private, link-local (cloud
    metadata at 169.254.169.254), multicast and reserved ranges are refused unless the operator's allow-list
    names the host or a network holding the address. Checked when the hook is added and before every send
    (a name that later resolves inward is refused then)."""
    import ipaddress
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and settings.webhook_http):
        return "webhooks are sent over https only"
    host = parts.hostname or ""
    if not host:
        return "no host in the URL"
    if host in settings.webhook_allow:
        return None
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return f"{host} does not resolve"
    nets = []
    for a in settings.webhook_allow:
        try:
            nets.append(ipaddress.ip_network(a, strict=False))
        except ValueError:
            continue
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not ip.is_global and not any(ip in n for n in nets if n.version == ip.version):
            return f"{host} resolves to {ip}, an address that is not public (allow it with the hub's webhook allow-list)"
    return None


# -- rules on results documents ---------------------------------------------------------------------------------

def _asset(doc: dict[str, Any]) -> str:
    return asset_key(doc.get("subject", {}).get("asset", {}))


def rule_uplink_checks(doc: dict[str, Any]) -> Iterator[Finding]:
    """An edge uplink check failed (something left the vehicle that must not) or could not be assessed."""
    if doc.get("component") != "edge":
        return
    for c in doc.get("checks", []):
        if c["id"].startswith("edge.uplink.") and c["status"] in ("fail", "not_assessed"):
            sev = c["severity"] if c["status"] == "fail" else "medium"
            yield Finding("uplink_check", sev, _asset(doc), f"{c['id']}:{c['status']}",
                          f"{c['id']} {c['status']}", {"check": c["id"], "status": c["status"],
                                                       "reason": c.get("reason", "")}, "违规传输")


def rule_probe_findings(doc: dict[str, Any]) -> Iterator[Finding]:
    """A critical or high probe finding on a platform interface (非法访问)."""
    if doc.get("component") != "probes":
        return
    for c in doc.get("checks", []):
        if c["status"] == "fail" and c["severity"] in ("critical", "high"):
            yield Finding("probe_finding", c["severity"], _asset(doc), c["id"], c.get("title", c["id"])[:300],
                          {"check": c["id"]}, "非法访问")


def rule_model_acceptance(doc: dict[str, Any]) -> Iterator[Finding]:
    """A model check fell below its acceptance criterion."""
    if doc.get("component") != "models":
        return
    for c in doc.get("checks", []):
        if c["status"] == "fail":
            yield Finding("model_below_acceptance", c["severity"], _asset(doc), c["id"], c.get("title", c["id"])[:300],
                          {"check": c["id"], "criterion": c.get("criterion", {})}, "其他")


def rule_sensitive_area(doc: dict[str, Any]) -> Iterator[Finding]:
    """Positions inside a sensitive area (a user-provided polygon) left a vehicle: important data leaked. What
    the vehicle decoded inside an area and suppressed is the handler doing its job, not an alert."""
    if doc.get("component") != "edge":
        return
    hits = ((doc.get("summary") or {}).get("geofence") or {}).get("positions_inside_outbound", {})
    for area, n in hits.items():
        if n:
            yield Finding("sensitive_area", "high", _asset(doc), str(area)[:100],
                          f"{n:,} positions inside sensitive area {area}", {"area": area, "positions": n}, "数据泄露")


DOCUMENT_RULES: list[Callable[[dict[str, Any]], Iterator[Finding]]] = [
    rule_uplink_checks, rule_probe_findings, rule_model_acceptance, rule_sensitive_area]


def rule_new_unknown_ids(s: Session, org_id: int, doc: dict[str, Any]) -> Iterator[Finding]:
    """A frame id no DBC describes appears in the fleet for the first time (data nobody classified)."""
    if doc.get("component") != "edge":
        return
    for u in doc.get("summary", {}).get("unknown_ids", []):
        fid = str(u.get("id", ""))[:16]
        if not fid or s.get(KnownId, (org_id, fid)) is not None:
            continue
        s.add(KnownId(org_id=org_id, frame_id=fid))
        try:
            s.flush()
        except IntegrityError:  # another worker saw it at the same moment
            s.rollback()
            continue
        yield Finding("new_unknown_id", "medium", "fleet", fid, f"frame id {fid} new to the fleet",
                      {"id": fid, "first_reported_by": _asset(doc), "frames": u.get("frames")}, "流量异常")


# -- rules on uplink batches ------------------------------------------------------------------------------------

def batch_findings(doc: dict[str, Any], device: str, settings: MonitorSettings,
                   classify: Callable[[str, str], Any], areas=()) -> Iterator[Finding]:
    """Positions more precise than the purpose allows, positions inside the organisation's sensitive areas,
    and identifiers in clear, in what a vehicle sent."""
    for name, m in doc["messages"].items():
        coords: dict[str, np.ndarray] = {}
        for sig, col in m["signals"].items():
            cls = classify(name, sig)
            if cls.role in ("latitude", "longitude") and col.get("enc") == "array":
                try:
                    values = np.frombuffer(col["data"], dtype=np.dtype(col["dtype"])).astype(np.float64)
                except (TypeError, ValueError, KeyError):
                    continue
                coords.setdefault(cls.role, values)
                values = values[np.isfinite(values)]
                d = decimals_needed(values[:10_000], 9) if values.shape[0] else 0
                if d > settings.location_decimals:
                    yield Finding("position_precision", "critical", f"device:{device}", f"{name}.{sig}",
                                  f"{name}.{sig} left the vehicle with {d} decimals",
                                  {"decimals": d, "allowed": settings.location_decimals}, "数据滥用")
            if col.get("enc") == "str" and isinstance(col.get("data"), list) and any(
                    isinstance(v, str) and VIN.fullmatch(v) for v in col["data"][:10_000]):
                yield Finding("identifier_in_clear", "high", f"device:{device}", f"{name}.{sig}",
                                  f"a VIN in clear in {name}.{sig}", {"signal": f"{name}.{sig}"}, "数据泄露")
        lat, lon = coords.get("latitude"), coords.get("longitude")
        if areas and lat is not None and lon is not None and lat.shape == lon.shape:
            ok = np.isfinite(lat) & np.isfinite(lon)
            for area in areas:
                n = int((ok & area.contains(lat, lon)).sum())
                if n:  # the vehicle should have suppressed these: important data reached the platform
                    yield Finding("sensitive_area", "critical", f"device:{device}", f"{area.name}"[:100],
                                  f"{n:,} positions inside sensitive area {area.name} arrived from {device}",
                                  {"area": area.name, "positions": n, "message": name, "seen_by": "hub"}, "数据泄露")


def sweep_silent(sessions, settings: MonitorSettings) -> int:
    """Resolve the silence alerts of vehicles that reported again, raise (or repeat) those of the silent ones;
    returns how many vehicles are silent. Done here, off the ingest path: an upload costs no alert query."""
    n = 0
    with sessions() as s:
        resolve_reported(s, now() - settings.silent_after)
        for org_id, f in list(silent_vehicles(s, settings)):
            record(s, org_id, f)
            n += 1
        s.commit()
    return n


def silent_vehicles(s: Session, settings: MonitorSettings) -> Iterator[tuple[int, Finding]]:
    """A vehicle that uploaded before has been silent longer than expected (a broken agent, or tampering)."""
    cutoff = now() - settings.silent_after
    for d in s.scalars(select(Device).where(Device.last_seen.is_not(None), Device.last_seen < cutoff,
                                            Device.revoked_at.is_(None))):
        seen = d.last_seen if d.last_seen.tzinfo else d.last_seen.replace(tzinfo=dt.timezone.utc)
        yield d.org_id, Finding("vehicle_silent", "medium", f"device:{d.device_id}", "silent",
                                f"{d.device_id} ({d.vehicle_ref}) silent since {seen.isoformat(timespec='seconds')}",
                                {"last_seen": seen.isoformat(), "silent_after_s": settings.silent_after.total_seconds()},
                                "流量异常")


# -- alerts ----------------------------------------------------------------------------------------------------

def record(s: Session, org_id: int, f: Finding) -> Alert | None:
    """Store ``f`` as an alert, or count a repeat of an open one; returns the alert when it is new."""
    key = hashlib.sha256(f"{f.rule}\x00{f.asset}\x00{f.cause}".encode()).hexdigest()
    existing = s.scalar(select(Alert).where(Alert.org_id == org_id, Alert.dedup_key == key))
    if existing is not None and _finished(s, existing):
        _retire(existing)  # the cause came back after its incident closed: a new alert, not a silent count
        s.flush()
        existing = None
    if existing is not None:
        existing.count += 1
        existing.last_seen = now()
        return None
    a = Alert(org_id=org_id, dedup_key=key, rule=f.rule, severity=f.severity, asset=f.asset[:200], title=f.title[:400],
              details={**f.details, "category": f.category})
    s.add(a)
    try:
        with s.begin_nested():
            s.flush()
    except IntegrityError:  # raised by another worker a moment ago: a repeat
        return None
    log.warning(json.dumps({"event": "alert", "org": org_id, "id": a.id, "rule": f.rule, "severity": f.severity,
                            "asset": f.asset, "title": f.title}, ensure_ascii=False))
    for hook in s.scalars(select(Webhook).where(Webhook.org_id == org_id)):
        if SEVERITY_RANK[f.severity] <= SEVERITY_RANK.get(hook.min_severity, 3):
            s.add(Delivery(webhook_id=hook.id, alert_id=a.id, body=json.dumps(alert_json(a), ensure_ascii=False)))
    return a


def _finished(s: Session, a: Alert) -> bool:
    """An alert whose incident is closed (or that was resolved) speaks for the past only."""
    if a.state == "resolved":
        return True
    if a.state != "in_incident" or a.incident_id is None:
        return False
    from .db import Incident

    inc = s.get(Incident, a.incident_id)
    return inc is not None and inc.state == "closed"


def _retire(a: Alert) -> None:
    """Free the alert's dedup key (kept unique per organisation) so the same cause can raise a new alert."""
    a.dedup_key = hashlib.sha256(f"{a.dedup_key}\x00retired\x00{a.id}".encode()).hexdigest()


def resolve_reported(s: Session, cutoff: dt.datetime) -> None:
    """A vehicle that reported again (after ``cutoff``) is no longer silent: its open silence alert is resolved
    (a later silence raises a new one)."""
    alerts = s.scalars(select(Alert).where(Alert.rule == "vehicle_silent", Alert.state == "open")).all()
    if not alerts:
        return
    # one query for every silent vehicle that reported since, not one per alert (a fleet may have thousands)
    back = set(s.execute(select(Device.org_id, Device.device_id).where(
        Device.device_id.in_({a.asset.removeprefix("device:") for a in alerts}), Device.last_seen >= cutoff)).all())
    for a in alerts:
        if (a.org_id, a.asset.removeprefix("device:")) in back:
            a.state = "resolved"
            a.details = {**a.details, "resolved_at": now().isoformat()}
            _retire(a)


def alert_json(a: Alert) -> dict[str, Any]:
    return {"id": a.id, "rule": a.rule, "severity": a.severity, "asset": a.asset, "title": a.title,
            "details": a.details, "count": a.count, "state": a.state, "incident_id": a.incident_id,
            "first_seen": a.first_seen.isoformat(), "last_seen": a.last_seen.isoformat()}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``X-VDS-Signature``: HMAC-SHA256 over ``timestamp + "." + body`` (the receiver rejects stale times)."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class Deliverer:
    """Sends pending deliveries in the background (and runs the silent-vehicle sweep); with several hub
    workers a delivery is claimed by a conditional update, so each is sent by one worker. Each target (scheme,
    host and port of the webhook URL) has its own sender thread and bounded queue: a receiver that hangs uses
    up its own timeout and queue, never another's. Backoff 1, 2, 4 ... s, given up after ``attempts``."""

    def __init__(self, sessions, settings: MonitorSettings | None = None, attempts: int = 8, lease_s: float = 30.0,
                 poll_s: float = 0.25) -> None:
        self.sessions, self.attempts, self.lease_s, self.poll_s = sessions, attempts, lease_s, poll_s
        self.settings = settings or MonitorSettings()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._targets: dict[str, queue.Queue] = {}
        # a claim outlives the wait behind a full queue and the send itself: no other worker (or this one, at
        # the next round) claims a delivery still queued here, so none is sent twice; a worker that dies holding
        # claims delays them by this long
        self._lease_s = max(lease_s, self.settings.webhook_timeout_s * (self.settings.webhook_queue + 2))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True, name="webhooks")
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        next_sweep = time.monotonic() + self.settings.sweep_s
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_sweep:  # the clock rule runs here too: one background thread
                    sweep_silent(self.sessions, self.settings)
                    next_sweep = time.monotonic() + self.settings.sweep_s
                sent = self.dispatch_due()
            except Exception as exc:  # a database hiccup must not end the deliverer
                log.error(json.dumps({"event": "webhook_loop_error", "error": str(exc)[:200]}))
                sent = 0
            if not sent:
                self._stop.wait(self.poll_s)

    def _queue(self, url: str) -> queue.Queue:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.hostname}:{parts.port or ''}"
        q = self._targets.get(key)
        if q is None:
            q = self._targets[key] = queue.Queue(maxsize=self.settings.webhook_queue)
            threading.Thread(target=self._sender, args=(q,), daemon=True, name=f"webhook {key}").start()
        return q

    def _sender(self, q: queue.Queue) -> None:
        import httpx

        with httpx.Client(timeout=self.settings.webhook_timeout_s, follow_redirects=False) as client:
            while not self._stop.is_set():
                try:
                    delivery_id = q.get(timeout=0.5)
                except queue.Empty:
                    continue
                try:
                    self.send(client, delivery_id)
                except Exception as exc:  # one delivery's failure never ends its target's sender
                    log.error(json.dumps({"event": "webhook_send_error", "error": str(exc)[:200]}))

    def dispatch_due(self) -> int:
        """Claim due deliveries and hand each to its target's sender; a full queue leaves it claimed until
        the lease runs out, then it is due again."""
        handed = 0
        with self.sessions() as s:
            due = s.scalars(select(Delivery).where(Delivery.state == "pending", Delivery.next_at <= now())
                            .limit(50)).all()
            for d in due:
                claimed = s.execute(update(Delivery).where(Delivery.id == d.id, Delivery.next_at == d.next_at,
                                                           Delivery.state == "pending")
                                    .values(next_at=now() + dt.timedelta(seconds=self._lease_s)))
                s.commit()
                if claimed.rowcount != 1:
                    continue
                hook = s.get(Webhook, d.webhook_id)
                try:
                    self._queue(hook.url if hook is not None else "deleted:").put_nowait(d.id)
                    handed += 1
                except queue.Full:
                    continue
        return handed

    def send(self, client, delivery_id: int) -> int:
        """Send one claimed delivery and record the outcome."""
        with self.sessions() as s:
            d = s.get(Delivery, delivery_id)
            if d is None or d.state != "pending":
                return 0
            hook = s.get(Webhook, d.webhook_id)
            body = d.body.encode()
            stamp = str(int(time.time()))
            refused = webhook_refusal(hook.url, self.settings) if hook is not None else "webhook deleted"
            if refused:  # checked again at send time: a name may resolve inward since it was added
                d.state, d.last_error = "failed", refused[:300]
                s.commit()
                return 0
            try:
                r = client.post(hook.url, content=body, headers={
                    "Content-Type": "application/json", "X-VDS-Timestamp": stamp,
                    "X-VDS-Signature": sign(hook.secret, stamp, body), "X-VDS-Delivery": str(d.id)})
                ok, err = r.status_code < 300, f"HTTP {r.status_code}"
            except Exception as exc:
                ok, err = False, f"{type(exc).__name__}: {exc}"[:300]
            d.attempts += 1
            if ok:
                d.state = "delivered"
            else:
                d.last_error = err
                d.state = "failed" if d.attempts >= self.attempts else "pending"
                d.next_at = now() + dt.timedelta(seconds=min(2 ** (d.attempts - 1), 300))
            s.commit()
            return 1
