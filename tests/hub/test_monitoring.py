"""Monitoring (监测预警) and incidents (应急处置) on a live hub: rules fire on documents, batches and the
clock; alerts are deduplicated and reach a webhook receiver on loopback, HMAC-signed and retried; an
incident goes open -> graded -> reported -> closed with computed deadlines and an audit trail."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vehicle_ds.hub.admin import add_user
from vehicle_ds.hub.app import create_app
from vehicle_ds.hub.incidents import LEVELS, deadlines, grade
from vehicle_ds.hub.monitor import MonitorSettings
from vehicle_ds.hub.serve import free_port, serve_in_thread
from vehicle_ds.results import Asset, Criterion, check, finish, new_results
from vehicle_ds.uplink_format import MAGIC, SCHEMA


class Receiver:
    """A webhook endpoint: fails the first ``fail`` deliveries, records the rest with their signature check."""

    def __init__(self, fail: int = 1) -> None:
        self.fail, self.got, self.secret = fail, [], ""
        me = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if me.fail > 0:
                    me.fail -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                stamp = self.headers["X-VDS-Timestamp"]
                want = "sha256=" + hmac.new(me.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
                me.got.append((json.loads(body), hmac.compare_digest(want, self.headers["X-VDS-Signature"])))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _wait(cond, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@contextlib.contextmanager
def _hub(tmp_path, **monitor):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    add_user(url, "org-a", "root", "root-password-123", "admin")
    app = create_app(url, monitor=MonitorSettings(**monitor))
    with serve_in_thread(app, free_port()) as base:
        tok = httpx.post(base + "/api/v1/auth/login", json={"username": "root", "password": "root-password-123"})
        yield base, {"Authorization": "Bearer " + tok.json()["access_token"], "Content-Type": "application/json"}


def _edge_doc(status: str, started: str, unknown: list[str]) -> bytes:
    doc = new_results("edge", {"mode": "replay"}, {}, asset=Asset("vehicle", "demo-car"))
    doc["started"] = started
    doc["checks"] = [check("edge.uplink.no_clear_vin", "No VIN leaves in clear", status, "high", ["GBT44464-A"], evidence={},
                           criterion=Criterion("no clear VIN", "clause", "GBT44464-A"), observed={"frames": 10})]
    return json.dumps(finish(doc, {"unknown_ids": [{"id": i, "extended": False, "frames": 3} for i in unknown]})).encode()


def _device(base: str, h: dict, device_id: str) -> dict[str, str]:
    code = httpx.post(base + "/api/v1/admin/enrollments", json={"vehicle_ref": "V1"}, headers=h).json()["code"]
    secret = httpx.post(base + "/api/v1/devices/enroll", json={"code": code, "device_id": device_id}).json()["device_secret"]
    tok = httpx.post(base + "/api/v1/devices/token", json={"device_id": device_id, "device_secret": secret})
    return {"Authorization": "Bearer " + tok.json()["access_token"], "Content-Type": "application/x-vehicle-ds-batch"}


def _batch(device: str, lat: np.ndarray, vin: str | None) -> bytes:
    n = lat.shape[0]
    sigs = {"Latitude": {"enc": "array", "dtype": "<f8", "data": lat.astype("<f8").tobytes()}}
    if vin:
        sigs["VIN"] = {"enc": "str", "data": [vin] * n}
    doc = {"schema": SCHEMA, "batch_id": f"b{int(time.time() * 1e6)}", "device": device, "messages": {
        "GNSS_Position": {"n": n, "t": np.arange(n, dtype="<f8").tobytes(), "signals": sigs}}}
    return MAGIC + zlib.compress(msgpack.packb(doc, use_bin_type=True), 1)


def test_rules_alerts_and_signed_webhooks(tmp_path):
    rx = Receiver(fail=1)
    # the test receiver is plain http on loopback: the operator's settings must say so explicitly
    with _hub(tmp_path, webhook_http=True, webhook_allow=("127.0.0.1",)) as (base, h):
        hook = httpx.post(base + "/api/v1/webhooks", json={"url": rx.url, "min_severity": "high"}, headers=h).json()
        rx.secret = hook["secret"]
        for started, unknown in (("2026-01-01T00:00:00Z", ["0x7A0"]), ("2026-01-02T00:00:00Z", ["0x7A0", "0x7B1"])):
            r = httpx.post(base + "/api/v1/documents", content=_edge_doc("fail", started, unknown), headers=h)
            assert r.status_code == 201, r.text
        dev = _device(base, h, "gw-m")
        precise = np.array([39.9042123, 39.9042456])
        assert httpx.post(base + "/api/v1/uplink", content=_batch("gw-m", precise, "LFV3A23C1N3012345"),
                          headers=dev).status_code == 201
        assert httpx.post(base + "/api/v1/uplink", content=_batch("gw-m", np.round(precise, 3), None),
                          headers=dev).status_code == 201
        alerts = httpx.get(base + "/api/v1/alerts", headers=h).json()["alerts"]
        by_rule = {}
        for a in alerts:
            by_rule.setdefault(a["rule"], []).append(a)
        assert [a["count"] for a in by_rule["uplink_check"]] == [2]  # one alert per asset and cause, counted twice
        assert sorted(a["details"]["id"] for a in by_rule["new_unknown_id"]) == ["0x7A0", "0x7B1"]  # once each
        assert by_rule["position_precision"][0]["severity"] == "critical"
        assert by_rule["position_precision"][0]["details"]["decimals"] == 7
        assert len(by_rule["position_precision"]) == 1  # the coarsened batch raised nothing
        assert by_rule["identifier_in_clear"][0]["asset"] == "device:gw-m"
        # high and critical alerts reach the webhook, signed, after one failed attempt was retried
        want = {a["id"] for a in alerts if a["severity"] in ("critical", "high")}
        assert _wait(lambda: {g[0]["id"] for g in rx.got} >= want), rx.got
        assert all(ok for _, ok in rx.got) and not any(g[0]["severity"] == "medium" for g in rx.got)
        rep = httpx.get(base + "/api/v1/reports/current", headers=h).json()
        assert rep["hub"]["alerts"]["by_severity"]["critical"] == 1


def test_an_incident_regraded_upwards_cannot_close_until_the_new_duties_are_met(tmp_path):
    """Users notified at a grade that owed only them; re-graded to 重大, the CAC and the regulator are due: the
    state goes back to graded and closing answers 409 naming the duties still owed."""
    with _hub(tmp_path) as (base, h):
        discovered = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
        inc = httpx.post(base + "/api/v1/incidents", json={"title": "positions leaked", "alert_ids": [],
                                                           "discovered_at": discovered.isoformat()}, headers=h).json()
        url = base + f"/api/v1/incidents/{inc['id']}"
        assert httpx.post(url + "/grade", headers=h, json={"data_class": "general", "persons_affected": 10}
                          ).json()["grade"]["level"] == "一般"
        assert httpx.post(url + "/notifications", json={"recipient": "users", "reference": "u-1"},
                          headers=h).json()["state"] == "reported"
        regraded = httpx.post(url + "/grade", headers=h, json={"data_class": "important", "threat": "serious",
                                                               "persons_affected": 10}).json()
        assert regraded["grade"]["level"] == "重大" and regraded["state"] == "graded"
        refused = httpx.post(url + "/close", json={"summary": "closing with duties owed"}, headers=h)
        assert refused.status_code == 409 and "cac" in refused.text and "regulator" in refused.text


def test_a_silent_vehicle_raises_an_alert(tmp_path):
    with _hub(tmp_path, silent_after=dt.timedelta(seconds=0.5), sweep_s=0.2) as (base, h):
        dev = _device(base, h, "gw-quiet")
        assert httpx.post(base + "/api/v1/uplink", content=_batch("gw-quiet", np.array([39.904]), None),
                          headers=dev).status_code == 201

        def silent():
            return [a for a in httpx.get(base + "/api/v1/alerts", headers=h).json()["alerts"]
                    if a["rule"] == "vehicle_silent"]
        assert _wait(lambda: bool(silent()))
        assert silent()[0]["asset"] == "device:gw-quiet"


def test_incident_lifecycle_with_deadlines_and_audit(tmp_path):
    with _hub(tmp_path) as (base, h):
        httpx.post(base + "/api/v1/documents", content=_edge_doc("fail", "2026-01-01T00:00:00Z", []), headers=h)
        alert = httpx.get(base + "/api/v1/alerts", headers=h).json()["alerts"][0]
        discovered = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
        inc = httpx.post(base + "/api/v1/incidents", json={"title": "VIN left a vehicle in clear",
                                                           "alert_ids": [alert["id"]],
                                                           "discovered_at": discovered.isoformat()}, headers=h).json()
        assert inc["state"] == "open"
        assert httpx.post(base + f"/api/v1/incidents/{inc['id']}/close", json={"summary": "too early to close"},
                          headers=h).status_code == 409
        graded = httpx.post(base + f"/api/v1/incidents/{inc['id']}/grade", headers=h, json={
            "data_class": "important", "threat": "serious", "persons_affected": 250_000}).json()
        assert graded["state"] == "graded" and graded["grade"]["level"] == "重大"
        assert graded["grade"]["verification"] == "verified"
        dl = {d["recipient"]: d for d in graded["deadlines"]}
        cac = dt.datetime.fromisoformat(dl["cac"]["due_at"])
        assert cac - discovered == dt.timedelta(hours=4) and not dl["cac"]["overdue"]
        assert dl["regulator"]["due_at"] is None and "immediately" in dl["regulator"]["text"]
        assert dl["summary_report"]["tag"] == "U" and "to be confirmed" in dl["summary_report"]["text"]
        for who in ("cac", "regulator", "users"):
            r = httpx.post(base + f"/api/v1/incidents/{inc['id']}/notifications", json={"recipient": who,
                                                                                        "reference": f"{who}-1"}, headers=h)
            assert r.status_code == 200
        assert r.json()["state"] == "reported"
        closed = httpx.post(base + f"/api/v1/incidents/{inc['id']}/close",
                            json={"summary": "Root cause: a policy override; fixed and re-verified."}, headers=h).json()
        assert closed["state"] == "closed"
        assert [e["action"] for e in closed["events"]] == ["opened", "graded", "notified", "notified", "notified", "closed"]
        assert {e["actor"] for e in closed["events"]} == {"root"}
        assert httpx.get(base + "/api/v1/alerts", headers=h).json()["alerts"][0]["state"] == "in_incident"
        rep = httpx.get(base + "/api/v1/reports/current", headers=h).json()
        assert rep["hub"]["incidents"][0]["state"] == "closed" and rep["hub"]["incidents"][0]["grade"] == "重大"
        served = httpx.get(base + "/api/v1/reports/current?format=html&lang=zh", headers=h)
        html = served.text
        assert "监测预警与应急处置" in html and "VIN left a vehicle in clear" in html
        # the hub signed what it served: check it with the public key it publishes
        import jwt

        jwk = httpx.get(base + "/.well-known/jwks.json").json()["keys"][0]
        key = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwk))
        claims = jwt.decode(served.headers["X-VDS-Report-Signature"], key, algorithms=["ES256"],
                            audience="vehicle-ds-hub:report")
        assert claims["sha256"] == hashlib.sha256(served.content).hexdigest()


@pytest.mark.parametrize(("facts", "level", "verified"), [
    ({"data_class": "general"}, "一般", False),
    ({"data_class": "general", "outage_hours": 8}, "较大", True),
    ({"data_class": "general", "outage_hours": 12}, "重大", True),
    ({"persons_affected": 9_999_999}, "较大", False),
    ({"persons_affected": 10_000_000}, "重大", True),
    ({"sensitive_persons_affected": 1_000_000}, "重大", True),
    ({"economic_loss_cny": 1e8}, "特别重大", True),  # the CAC annex lists ≥ CNY 100 m among 特别重大 [V]
    ({"economic_loss_cny": 9e7}, "较大", False),
    ({"persons_affected": 100_000_000}, "特别重大", True),  # CAC annex [V]
    ({"data_class": "general", "threat": "serious"}, "较大", True),  # never lower than "fairly serious"
    ({"data_class": "important", "threat": "particularly_serious"}, "特别重大", False),
    ({"data_class": "core"}, "特别重大", False),
])
def test_grading_follows_the_reference_and_flags_unverified_cells(facts, level, verified):
    g = grade(facts)
    assert g["level"] == level and (g["verification"] == "verified") == verified, g
    now = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    dl = {d["recipient"] for d in deadlines(facts, level, now, now)}
    assert ("cac" in dl) == (level != "一般")


FACTS = st.fixed_dictionaries({
    "data_class": st.sampled_from(["general", "important", "core"]),
    "threat": st.sampled_from(["", "fairly_serious", "serious", "particularly_serious"]),
    "persons_affected": st.integers(0, 200_000_000), "sensitive_persons_affected": st.integers(0, 20_000_000),
    "economic_loss_cny": st.floats(0, 2e9), "outage_hours": st.floats(0, 48)})
WORSE = {"data_class": ["general", "important", "core"],
         "threat": ["", "fairly_serious", "serious", "particularly_serious"]}


@settings(max_examples=300, deadline=None)
@given(FACTS, st.sampled_from(["data_class", "threat", "persons_affected", "sensitive_persons_affected",
                               "economic_loss_cny", "outage_hours"]), st.integers(1, 3))
def test_grading_never_goes_down_as_any_input_gets_worse(facts, key, steps):
    """A worse threat, a more sensitive data class, more persons, more loss or a longer outage never grades lower."""
    worse = dict(facts)
    if key in WORSE:
        order = WORSE[key]
        worse[key] = order[min(order.index(facts[key]) + steps, len(order) - 1)]
    else:
        worse[key] = facts[key] * (1 + steps) + steps
    assert LEVELS.index(grade(worse)["level"]) >= LEVELS.index(grade(facts)["level"]), (facts, worse)


def test_cac_deadline_by_operator_type():
    now = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    for op, hours in (("cii", 1), ("state_organ", 2), ("other", 4)):
        cac = next(d for d in deadlines({"operator_type": op}, "较大", now, now) if d["recipient"] == "cac")
        assert dt.datetime.fromisoformat(cac["due_at"]) - now == dt.timedelta(hours=hours)




def test_sensitive_area_hits_count_outbound_positions_and_are_unknown_while_one_vehicle_checked_no_geofence(tmp_path):
    """The platform's sensitive-area count sums the positions that left each vehicle (never those suppressed in
    it), over every vehicle's latest results; one vehicle whose results checked no geofence makes it unknown."""
    from sqlalchemy.orm import Session

    from vehicle_ds.hub.db import Document, Org, make_engine
    from vehicle_ds.hub.store import _outbound_area_hits

    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")

    def edge(n: int, geofence: dict | None, latest: bool = True) -> Document:
        return Document(id=f"d{n}", org_id=1, kind="edge", sha256=f"{n:064d}", uploaded_by="t", body={}, latest=latest,
                        summary={"summary": {"geofence": geofence} if geofence is not None else {}})

    with Session(engine) as s:
        s.add(Org(id=1, name="o"))
        s.add_all([edge(1, {"positions_inside": {"base": 9}, "positions_inside_outbound": {"base": 2}}),
                   edge(2, {"positions_inside": {"base": 5}, "positions_inside_outbound": {}}),
                   edge(3, {"positions_inside_outbound": {"base": 100}}, latest=False)])  # superseded results
        s.commit()
        assert _outbound_area_hits(s, 1) == 2  # 2 left vehicle 1; 12 decoded inside and suppressed do not count
        s.add(edge(4, None))  # a vehicle whose latest results checked no geofence
        s.commit()
        assert _outbound_area_hits(s, 1) is None


def test_incident_times_need_a_zone_lie_in_the_past_and_notifications_follow_the_discovery(tmp_path):
    with _hub(tmp_path) as (base, h):
        def open_at(at: str) -> httpx.Response:
            return httpx.post(base + "/api/v1/incidents", json={"title": "a leak", "alert_ids": [], "discovered_at": at},
                              headers=h)
        assert open_at("2026-12-01T09:00:00").status_code == 422  # no zone: refused, never taken as UTC
        for number in (0, 1764550800):  # a number would be seconds since 1970: refused, never 1970-01-01
            r = httpx.post(base + "/api/v1/incidents", json={"title": "a leak", "alert_ids": [], "discovered_at": number},
                           headers=h)
            assert r.status_code == 422 and "not a number" in r.text
        future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).isoformat()
        assert open_at(future).status_code == 422
        discovered = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) - dt.timedelta(hours=2)
        inc = open_at(discovered.isoformat()).json()
        url = base + f"/api/v1/incidents/{inc['id']}"
        httpx.post(url + "/grade", headers=h, json={"data_class": "general", "persons_affected": 10})
        early = (discovered - dt.timedelta(hours=1)).isoformat()
        r = httpx.post(url + "/notifications", json={"recipient": "users", "at": early}, headers=h)
        assert r.status_code == 422 and "precedes the discovery" in r.text
        assert httpx.post(url + "/notifications", json={"recipient": "users", "at": discovered.isoformat()},
                          headers=h).status_code == 200


@pytest.mark.parametrize("url", ["http://203.0.113.7/hook", "https://127.0.0.1/hook", "https://169.254.169.254/latest",
                                 "https://10.0.0.5/hook", "https://[::1]/hook", "https://localhost/hook"])
def test_a_webhook_cannot_be_aimed_inward_and_nothing_is_sent_there(tmp_path, url):
    """Plain http, loopback, link-local (cloud metadata), private and IPv6 loopback targets are refused with
    the reason, unless the operator's allow-list names them; a refused hook is never stored."""
    with _hub(tmp_path) as (base, h):
        r = httpx.post(base + "/api/v1/webhooks", json={"url": url}, headers=h)
        assert r.status_code == 422, r.text
        assert httpx.get(base + "/api/v1/webhooks", headers=h).json()["webhooks"] == []


def test_webhooks_are_listed_rotated_and_deleted_without_showing_secrets(tmp_path):
    rx = Receiver()
    with _hub(tmp_path, webhook_http=True, webhook_allow=("127.0.0.1",)) as (base, h):
        hook = httpx.post(base + "/api/v1/webhooks", json={"url": rx.url}, headers=h).json()
        listed = httpx.get(base + "/api/v1/webhooks", headers=h).json()["webhooks"]
        assert listed == [{"id": hook["id"], "url": rx.url, "min_severity": "low"}]  # no secret
        rotated = httpx.post(base + f"/api/v1/webhooks/{hook['id']}/rotate", headers=h).json()
        assert rotated["secret"] != hook["secret"]
        assert httpx.delete(base + f"/api/v1/webhooks/{hook['id']}", headers=h).status_code == 204
        assert httpx.get(base + "/api/v1/webhooks", headers=h).json()["webhooks"] == []


def test_a_silence_alert_resolves_when_the_vehicle_reports_and_a_cause_recurring_after_its_incident_closed_alerts_again(
        tmp_path):
    with _hub(tmp_path, silent_after=dt.timedelta(seconds=0.5), sweep_s=0.2) as (base, h):
        dev = _device(base, h, "gw-back")
        assert httpx.post(base + "/api/v1/uplink", content=_batch("gw-back", np.array([39.904]), None),
                          headers=dev).status_code == 201

        def alerts(rule):
            return [a for a in httpx.get(base + "/api/v1/alerts", headers=h).json()["alerts"] if a["rule"] == rule]
        assert _wait(lambda: any(a["state"] == "open" for a in alerts("vehicle_silent")))

        assert httpx.post(base + "/api/v1/uplink", content=_batch("gw-back", np.array([39.905]), None),
                          headers=dev).status_code == 201
        # it reported again: the next sweep resolves the alert (off the ingest path)
        assert _wait(lambda: any(a["state"] == "resolved" for a in alerts("vehicle_silent")))
        # a violation, its incident closed, then the same violation again: a new alert, not a silent count
        httpx.post(base + "/api/v1/documents", content=_edge_doc("fail", "2026-01-01T00:00:00Z", []), headers=h)
        [first] = alerts("uplink_check")
        inc = httpx.post(base + "/api/v1/incidents", json={"title": "VIN in clear", "alert_ids": [first["id"]]},
                         headers=h).json()
        url = base + f"/api/v1/incidents/{inc['id']}"
        httpx.post(url + "/grade", headers=h, json={"data_class": "general"})
        assert httpx.post(url + "/close", json={"summary": "fixed the override and re-verified"},
                          headers=h).status_code == 200
        httpx.post(base + "/api/v1/documents", content=_edge_doc("fail", "2026-01-02T00:00:00Z", []), headers=h)
        again = alerts("uplink_check")
        assert len(again) == 2 and {a["state"] for a in again} == {"in_incident", "open"}


def test_a_hanging_receiver_delays_no_other_target(tmp_path):
    """One webhook's receiver accepts the request and never answers; another target's alert is still
    delivered while that request hangs (each target has its own sender and queue). Judged by order, not by
    time: the hanging request is released only after the other delivery arrived."""
    import select
    import socket

    release, hung, gave_up = threading.Event(), threading.Event(), threading.Event()

    class Hang(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            hung.set()
            while not release.is_set():  # hold the request; notice if the hub's sender gives up on it
                if select.select([self.connection], [], [], 0.1)[0] and \
                        self.connection.recv(1, socket.MSG_PEEK) == b"":
                    gave_up.set()
                    return
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    slow = ThreadingHTTPServer(("127.0.0.1", 0), Hang)
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    rx = Receiver(fail=0)
    try:
        with _hub(tmp_path, webhook_http=True, webhook_allow=("127.0.0.1",), webhook_timeout_s=120.0) as (base, h):
            httpx.post(base + "/api/v1/webhooks", json={"url": f"http://127.0.0.1:{slow.server_address[1]}/hook",
                                                        "min_severity": "high"}, headers=h)
            rx.secret = httpx.post(base + "/api/v1/webhooks", json={"url": rx.url, "min_severity": "high"},
                                   headers=h).json()["secret"]
            r = httpx.post(base + "/api/v1/documents", content=_edge_doc("fail", "2026-01-01T00:00:00Z", []), headers=h)
            assert r.status_code == 201
            assert _wait(hung.is_set, 60)  # the slow target holds its request open
            assert _wait(lambda: len(rx.got) >= 1, 60), "the other target waited for the hanging one"
            # delivered and signed while the other request is still open: nobody waited for it to time out
            assert rx.got[0][1] and hung.is_set() and not gave_up.is_set()
    finally:
        release.set()
        slow.shutdown()


AREA = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "test-site"},
        "geometry": {"type": "Polygon", "coordinates": [[[116.39, 39.90], [116.41, 39.90], [116.41, 39.92],
                                                         [116.39, 39.92], [116.39, 39.90]]]}}]}


def _position_batch(device: str, lat: list[float], lon: list[float]) -> bytes:
    n = len(lat)
    sigs = {"Latitude": {"enc": "array", "dtype": "<f8", "data": np.array(lat, "<f8").tobytes()},
            "Longitude": {"enc": "array", "dtype": "<f8", "data": np.array(lon, "<f8").tobytes()}}
    doc = {"schema": SCHEMA, "batch_id": f"b{int(time.time() * 1e6)}", "device": device, "messages": {
        "GNSS_Position": {"n": n, "t": np.arange(n, dtype="<f8").tobytes(), "signals": sigs}}}
    return MAGIC + zlib.compress(msgpack.packb(doc, use_bin_type=True), 1)


def test_the_hub_checks_incoming_positions_against_the_organisations_sensitive_areas(tmp_path):
    """Whatever the vehicle did: positions inside an area the organisation uploaded raise a critical alert
    naming the area and the count; positions outside raise none; the areas are the admin's to change."""
    with _hub(tmp_path) as (base, h):
        bad = httpx.put(base + "/api/v1/sensitive-areas", content=b'{"type": "Point", "coordinates": [1, 2]}',
                        headers=h)
        assert bad.status_code == 422 and "Polygon" in bad.text
        up = httpx.put(base + "/api/v1/sensitive-areas", content=json.dumps(AREA), headers=h)
        assert up.status_code == 200 and up.json()["areas"] == [{"name": "test-site", "polygons": 1}]
        assert httpx.get(base + "/api/v1/sensitive-areas", headers=h).json()["areas"][0]["name"] == "test-site"
        dev = _device(base, h, "gw-area")
        outside = _position_batch("gw-area", [39.95, 39.96], [116.50, 116.51])
        assert httpx.post(base + "/api/v1/uplink", content=outside, headers=dev).status_code == 201
        assert not [a for a in httpx.get(base + "/api/v1/alerts", headers=h).json()["alerts"]
                    if a["rule"] == "sensitive_area"]
        inside = _position_batch("gw-area", [39.905, 39.95, 39.915], [116.395, 116.50, 116.405])
        assert httpx.post(base + "/api/v1/uplink", content=inside, headers=dev).status_code == 201
        [alert] = [a for a in httpx.get(base + "/api/v1/alerts", headers=h).json()["alerts"]
                   if a["rule"] == "sensitive_area"]
        assert alert["severity"] == "critical" and alert["asset"] == "device:gw-area"
        assert alert["details"]["positions"] == 2 and alert["details"]["area"] == "test-site"
        assert httpx.delete(base + "/api/v1/sensitive-areas", headers=h).status_code == 204
        assert httpx.get(base + "/api/v1/sensitive-areas", headers=h).json()["areas"] == []
