"""Recall and false findings of the API probes on VAmPI (erev0s/VAmPI, MIT), a deliberately vulnerable REST API
that is not part of this repository: bring your own checkout and a Python environment with its requirements,
both on this machine; it is served on loopback only.

    git clone https://github.com/erev0s/VAmPI /tmp/vampi
    python -m venv /tmp/vampi-venv && /tmp/vampi-venv/bin/pip install -r /tmp/vampi/requirements.txt
    python benchmarks/probe_vampi.py /tmp/vampi /tmp/vampi-venv/bin/python OUT_DIR

Runs VAmPI vulnerable (1) and secure (0) with the profile below, written by hand from its README and OpenAPI
document, probes each with writes and discovery on, and prints as the last line JSON: per mode the in-scope
flaws found and every finding outside them. VAmPI's in-scope flaws (its README, vulnerable=1): weak JWT key,
user/password enumeration, BOLA on books, mass assignment on register, another user's password changed, data
exposure through /users/v1/_debug, no rate limit. SQL injection and ReDoS are out of the probes' scope (no
injection or denial of service is ever sent)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

IN_SCOPE = {"probes.jwt.weak_secret", "probes.auth.user_enumeration", "probes.bola", "probes.mass_assignment",
            "probes.bola.account_takeover", "probes.exposure", "probes.limits.rate_limit"}
PROFILE = Path(__file__).with_name("probe_vampi.toml")


def serve(vampi: Path, python: str, vuln: str, port: int, log: Path) -> subprocess.Popen:
    db = vampi / "database" / "database.db"
    if db.exists():
        db.unlink()
    main = (vampi / "app.py").read_text().replace("host='0.0.0.0', port=5000, debug=True", f"host='127.0.0.1', port={port}")
    (vampi / f"serve_{port}.py").write_text(main)  # the app's own entry point, on loopback, without debug
    env = {**os.environ, "vulnerable": vuln, "tokentimetolive": "600"}
    return subprocess.Popen([python, f"serve_{port}.py"], cwd=vampi, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def probe(vampi: Path, python: str, vuln: str, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    port = 5055 if vuln == "1" else 5056
    base = f"http://127.0.0.1:{port}"
    srv = serve(vampi, python, vuln, port, out / "server.log")
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/createdb", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        books = json.loads(urllib.request.urlopen(base + "/books/v1").read())["Books"]
        owns = {u: [b["book_title"] for b in books if b["user"] == u] for u in ("name1", "name2")}
        text = PROFILE.read_text().replace("{base}", base).replace("{books_name1}", json.dumps(owns["name1"])) \
            .replace("{books_name2}", json.dumps(owns["name2"]))
        (out / "target.toml").write_text(text)
        subprocess.run(["vehicle-ds", "probe", "--target", str(out / "target.toml"), "--out", str(out / "results.json"),
                        "--allow-unsafe", "--discover"], capture_output=True, text=True, timeout=900)
    finally:
        srv.terminate()
        srv.wait()
    doc = json.loads((out / "results.json").read_text())
    failed = {c["id"] for c in doc["checks"] if c["status"] == "fail"}
    return {"found": sorted(failed & IN_SCOPE), "missed": sorted(IN_SCOPE - failed) if vuln == "1" else [],
            "outside": sorted({f"{c['id']} {c.get('endpoint', '')}".strip() for c in doc["checks"]
                               if c["status"] == "fail" and c["id"] not in IN_SCOPE}),
            "findings": doc["summary"]["findings"], "requests": doc["summary"]["requests_sent"],
            "left_changed": len(doc["summary"]["left_changed"])}


def main(argv: list[str]) -> None:
    vampi, python, out = Path(argv[0]), argv[1], Path(argv[2])
    res = {f"vulnerable={v}": probe(vampi, python, v, out / f"v{v}") for v in ("1", "0")}
    v1 = res["vulnerable=1"]
    print(json.dumps({"name": "probe_vampi", "recall": round(len(v1["found"]) / len(IN_SCOPE), 2), **res}))


if __name__ == "__main__":
    main(sys.argv[1:])
