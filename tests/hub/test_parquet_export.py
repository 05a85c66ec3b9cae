"""Analytics on what the hub holds: two vehicles replay real drives through the edge agent and upload to a real
hub; `vehicle-ds hub export --format parquet` writes one dataset per message partitioned by day and vehicle;
the README's DuckDB query (a per-vehicle precision audit of the positions that left the vehicles) gives
exactly what decoding the uplink batches directly gives."""

from __future__ import annotations

import shutil
from collections import defaultdict

import duckdb
import numpy as np
import pytest

from edge.hubauth import DeviceTokens, enroll
from edge.sender import Sender
from edge.simulate import write_log
from edge.spool import Spool
from tests.conftest import SAMPLE_DBC, run_cli
from tests.hub.conftest import hub
from vehicle_ds.hub.admin import add_enrollment, add_user
from vehicle_ds.precision import decimals_needed
from vehicle_ds.uplink_format import decode_batch_bytes, records

# The README's example: how many positions each vehicle sent, and at what precision (decimals).
PRECISION_AUDIT = """
SELECT vehicle, count(*) AS positions, max(decimals) AS max_decimals
FROM (SELECT vehicle, GNSS_Latitude AS lat, length(split_part(rtrim(printf('%.9f', GNSS_Latitude), '0'), '.', 2))
      AS decimals FROM read_parquet('{root}/GNSS_Position/*/*/*.parquet', hive_partitioning = true)
      WHERE GNSS_Latitude IS NOT NULL)
GROUP BY vehicle ORDER BY vehicle
"""


@pytest.fixture(scope="module")
def hub_with_two_vehicles(tmp_path_factory):
    d = tmp_path_factory.mktemp("export")
    url = f"sqlite:///{d / 'hub.db'}"
    add_user(url, "fleet", "root", "root-password-123", "admin")
    expected: dict[str, list[float]] = defaultdict(list)
    with hub(url, None) as base:
        for i, vehicle in enumerate(("LSV-A", "LSV-B")):
            enroll(base, add_enrollment(url, "fleet", vehicle), f"gw-{i}", d / f"gw-{i}.json")
            log = d / f"drive-{i}.log"
            write_log([SAMPLE_DBC], log, 20_000, seed=10 + i)
            proc = run_cli("edge", "replay", str(log), "--dbc", str(SAMPLE_DBC), "--out", str(d / f"edge-{i}"),
                           "--key-file", str(d / "k.key"), "--purpose", "navigation", "--device", f"gw-{i}")
            assert proc.returncode in (0, 1), proc.stderr[-2000:]
            for batch in sorted((d / f"edge-{i}" / "batches").glob("*")):
                for r in records(decode_batch_bytes(batch.read_bytes())):
                    if r["message"] == "GNSS_Position" and "GNSS_Latitude" in r["signals"]:
                        expected[vehicle].append(r["signals"]["GNSS_Latitude"])
            # the gateway uploads a copy of its spool (an acknowledged batch leaves the spool)
            shutil.copytree(d / f"edge-{i}" / "batches", d / f"spool-{i}")
            sender = Sender(Spool(d / f"spool-{i}"), base + "/api/v1/uplink", DeviceTokens(base, d / f"gw-{i}.json"))
            try:
                assert sender.drain(120.0), sender.stats.last_error
            finally:
                sender.stop()
    return d, url, expected


def test_export_partitions_by_day_and_vehicle_and_the_duckdb_audit_matches_the_batches(hub_with_two_vehicles):
    d, url, expected = hub_with_two_vehicles
    out = d / "parquet"
    proc = run_cli("hub", "export", "--db", url, "--format", "parquet", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    parts = sorted(p.relative_to(out).parts[:3] for p in out.rglob("*.parquet"))
    assert {p[2] for p in parts if p[0] == "GNSS_Position"} == {"vehicle=LSV-A", "vehicle=LSV-B"}
    assert all(p[1].startswith("day=") for p in parts)
    got = duckdb.sql(PRECISION_AUDIT.format(root=out)).fetchall()
    want = [(v, len(lats), decimals_needed(np.array(lats), 9)) for v, lats in sorted(expected.items())]
    assert got == want and all(n > 0 for _, n, _ in got)
    assert all(dec <= 3 for _, _, dec in got)  # the navigation purpose's precision: nothing finer left


def test_absent_values_are_nulls_and_every_uplinked_row_is_exported(hub_with_two_vehicles):
    d, url, _ = hub_with_two_vehicles
    out = d / "parquet-rows"
    assert run_cli("hub", "export", "--db", url, "--out", str(out)).returncode == 0
    rows: dict[str, int] = defaultdict(int)
    absent: dict[tuple[str, str], int] = defaultdict(int)  # values the batch marks absent, per column
    for i in (0, 1):
        for batch in (d / f"edge-{i}" / "batches").glob("*"):
            for name, m in decode_batch_bytes(batch.read_bytes())["messages"].items():
                rows[name] += m["n"]
                for sig, col in m["signals"].items():
                    if "valid" in col:
                        bits = np.unpackbits(np.frombuffer(col["valid"], dtype=np.uint8))[:m["n"]]
                        absent[(name, sig)] += int(m["n"] - bits.sum())
                    elif col["enc"] == "str":
                        absent[(name, sig)] += sum(v is None for v in col["data"])
    assert any(absent.values())  # the drive has messages whose signals are not all present
    for name, n in rows.items():
        src = f"read_parquet('{out}/{name}/*/*/*.parquet', hive_partitioning = true)"
        assert duckdb.sql(f"SELECT count(*) FROM {src}").fetchall()[0][0] == n, name
    for (name, sig), n in absent.items():
        src = f"read_parquet('{out}/{name}/*/*/*.parquet', hive_partitioning = true)"
        assert duckdb.sql(f'SELECT count(*) FROM {src} WHERE "{sig}" IS NULL').fetchall()[0][0] == n, (name, sig)
    assert run_cli("hub", "export", "--db", url, "--out", str(out)).returncode == 2  # never into an older export
    assert run_cli("hub", "export", "--db", f"sqlite:///{d / 'nothing.db'}", "--out", str(d / "x")).returncode == 2


def test_colliding_and_hostile_names_keep_every_row_inside_the_export_folder(tmp_path):
    """Vehicles LSV:C and LSV_C, messages "GNSS Position", GNSS_Position and "..": each lands in its own,
    reversibly escaped folder inside --out, every row reads back through DuckDB, files are 0600."""
    import stat
    import time as _time
    import uuid
    import zlib

    import httpx
    import msgpack

    from vehicle_ds.hub.export import unescape
    from vehicle_ds.uplink_format import MAGIC, SCHEMA

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    add_user(url, "fleet", "root", "root-password-123", "admin")
    sent: dict[tuple[str, str], int] = defaultdict(int)
    with hub(url, None) as base:
        for i, vehicle in enumerate(("LSV:C", "LSV_C")):
            enroll(base, add_enrollment(url, "fleet", vehicle), f"gw-{i}", tmp_path / f"gw-{i}.json")
            tokens = DeviceTokens(base, tmp_path / f"gw-{i}.json")
            for n, message in ((3, "GNSS Position"), (4, "GNSS_Position"), (5, "..")):
                doc = {"schema": SCHEMA, "batch_id": uuid.uuid4().hex, "device": f"gw-{i}", "seq": 0,
                       "created": _time.time(), "policy_sha256": "0" * 64, "key_id": "t", "aggregates": {},
                       "dropped": {}, "messages": {message: {"n": n, "t": np.arange(n, dtype="<f8").tobytes(),
                                                             "signals": {"x": {"enc": "array", "dtype": "<f8",
                                                                               "data": np.ones(n, "<f8").tobytes()}}}}}
                r = httpx.post(base + "/api/v1/uplink", content=MAGIC + zlib.compress(msgpack.packb(doc), 1),
                               headers={"Authorization": f"Bearer {tokens()}",
                                        "Content-Type": "application/x-vehicle-ds-batch"})
                assert r.status_code == 201, r.text
                sent[(message, vehicle)] += n
    out = tmp_path / "out"
    proc = run_cli("hub", "export", "--db", url, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    files = list(out.rglob("*.parquet"))
    assert all(f.resolve().is_relative_to(out.resolve()) for f in files) and not (tmp_path / "day=").exists()
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    got: dict[tuple[str, str], int] = defaultdict(int)
    for f in files:
        message, _day, vehicle = f.relative_to(out).parts[:3]
        got[(unescape(message), unescape(vehicle.removeprefix("vehicle=")))] += duckdb.sql(
            f"SELECT count(*) FROM read_parquet('{f}')").fetchall()[0][0]
    assert dict(got) == dict(sent)
