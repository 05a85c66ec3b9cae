"""Hub ingestion at fleet rates: N concurrent devices, each sending valid 50-row uplink batches back to back,
against `vehicle-ds hub serve --workers W` on PostgreSQL (when `VEHICLE_DS_TEST_PG_URL` names one, as CI
sets it; SQLite otherwise), and in the same run against a no-op endpoint of the same app that authenticates
and reads the same bodies and stores nothing. Prints batches/s, frames/s (rows), p50/p99 latency for both
and the ratio (hub / no-op), both saturated (every device sends back to back: the client and the hub share
this machine's two cores, so latency there is concurrency / throughput). Then the hub again with every
device paced at one batch per second, 5x the agent's default cadence: the latency a fleet sees. Targets:
ratio >= 0.5 (saturated) and p99 <= 1 s (paced) at 100 devices.

    python benchmarks/hub_ingest.py [devices] [seconds] [workers]
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vehicle_ds.hub.admin import add_enrollment, add_user
from vehicle_ds.hub.selfprobe import tiny_batch
from vehicle_ds.hub.serve import free_port

DEVICES = int(sys.argv[1]) if len(sys.argv) > 1 else 100
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
WORKERS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
ROWS = 50
PACED_PERIOD = 1.0  # one batch per device per second: 5x the agent's default cadence (batch_seconds = 5)


def _db(tmp: Path) -> str:
    url = os.environ.get("VEHICLE_DS_TEST_PG_URL")
    if url:
        from sqlalchemy import create_engine

        from vehicle_ds.hub.db import Base

        Base.metadata.drop_all(create_engine(url))
        return url
    return f"sqlite:///{tmp / 'hub.db'}"


async def _device(client: httpx.AsyncClient, base: str, path: str, tok: str, dev: str, stop: float,
                  lat: list[float], period: float) -> int:
    sent = 0
    h = {"Authorization": f"Bearer {tok}", "Content-Type": "application/x-vehicle-ds-batch"}
    await asyncio.sleep(period * (hash(dev) % 1000) / 1000)  # paced devices do not all start at once
    while time.monotonic() < stop:
        due = time.monotonic() + period
        _, body = tiny_batch(dev, rows=ROWS, batch_id=uuid.uuid4().hex)
        t0 = time.monotonic()
        r = await client.post(base + path, content=body, headers=h)
        lat.append(time.monotonic() - t0)
        if r.status_code != 201:
            raise RuntimeError(f"{path}: HTTP {r.status_code} {r.text[:200]}")
        sent += 1
        if period:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
    return sent


async def _drive(base: str, path: str, tokens: list[tuple[str, str]], period: float = 0.0) -> dict[str, float]:
    lat: list[float] = []
    limits = httpx.Limits(max_connections=len(tokens) + 10, max_keepalive_connections=len(tokens) + 10)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        t0 = time.monotonic()
        sent = await asyncio.gather(*(_device(client, base, path, tok, dev, t0 + SECONDS, lat, period)
                                      for dev, tok in tokens))
        dt = time.monotonic() - t0
    lat.sort()
    n = sum(sent)
    return {"batches_per_s": round(n / dt, 1), "frames_per_s": round(n * ROWS / dt), "batches": n,
            "p50_ms": round(statistics.median(lat) * 1000, 1), "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 1)}


def main() -> dict:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        url = _db(tmp)
        add_user(url, "fleet", "admin", "admin-password-123", "admin")
        codes = [add_enrollment(url, "fleet", f"V{i}", 1) for i in range(DEVICES)]
        port = free_port()
        env = {**os.environ, "VEHICLE_DS_HUB_RATE_SCALE": "100", "VEHICLE_DS_HUB_BENCH_NOOP": "1",
               "VEHICLE_DS_HUB_KEY_FILE": str(tmp / "key.pem")}
        server = subprocess.Popen([sys.executable, "-m", "vehicle_ds.cli", "hub", "serve", "--db", url, "--port",
                                   str(port), "--workers", str(WORKERS)], env=env, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if httpx.get(base + "/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            tokens = []
            for i, code in enumerate(codes):
                dev = f"gw-{i:04d}"
                secret = httpx.post(base + "/api/v1/devices/enroll", json={"code": code, "device_id": dev}
                                    ).json()["device_secret"]
                tok = httpx.post(base + "/api/v1/devices/token", json={"device_id": dev, "device_secret": secret}
                                 ).json()["access_token"]
                tokens.append((dev, tok))
            noop = asyncio.run(_drive(base, "/bench/noop", tokens))
            hub = asyncio.run(_drive(base, "/api/v1/uplink", tokens))
            paced = asyncio.run(_drive(base, "/api/v1/uplink", tokens, PACED_PERIOD))
        finally:
            server.terminate()
            server.wait(timeout=30)
    out = {"name": "hub_ingest", "devices": DEVICES, "seconds": SECONDS, "workers": WORKERS, "rows_per_batch": ROWS,
           "database": url.split(":")[0], "hub": hub, "noop": noop, "paced": {**paced, "period_s": PACED_PERIOD},
           "ratio": round(hub["batches_per_s"] / noop["batches_per_s"], 2)}
    out["target_met"] = out["ratio"] >= 0.5 and paced["p99_ms"] <= 1000
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
