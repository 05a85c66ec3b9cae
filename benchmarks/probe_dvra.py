"""Recall and false findings of the API probes on Damn Vulnerable RESTaurant (theowni/
Damn-Vulnerable-RESTaurant-API-Game, GPL-3.0), a deliberately vulnerable FastAPI service that is not part of
this repository: bring your own checkout and a Python environment with its dependencies; it is served on
loopback only, with its in-memory database (DB_BACKEND=memory).

    git clone https://github.com/theowni/Damn-Vulnerable-RESTaurant-API-Game /tmp/dvra
    python -m venv /tmp/dvra-venv && /tmp/dvra-venv/bin/pip install "fastapi<0.104" "uvicorn[standard]<0.24" \\
        "sqlalchemy<2.1" "python-jose<3.4" passlib "bcrypt<4.2" python-multipart requests psutil slowapi \\
        python-dotenv pillow "pydantic<2.6"
    python benchmarks/probe_dvra.py /tmp/dvra /tmp/dvra-venv/bin/python OUT_DIR

Registers two customer accounts (what a tester asks for), probes with writes and discovery on, and prints as
the last line JSON: every in-scope flaw found or missed, with the check that found it, and every finding
outside them (a false finding unless the note says why it is true). The flaws, from the game's source:
in scope are those the probes look for; SSRF (menu image_url), command injection (/admin/stats/disk), the
SQL injection through the delivery service's answer, the referral-coupon abuse, the unanchored CORS origin
pattern (needs the trusted domain, which the API does not publish) and the local-only chef-password reset
(a GET that changes state: discovery must never call it) are out of scope."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PROFILE = Path(__file__).with_name("probe_dvra.toml")
# flaw -> (check id, endpoint substring the finding must name; "" = the target as a whole)
IN_SCOPE = {
    "X-Powered-By names the framework and version": ("probes.config.header_disclosure", ""),
    "JWT signature never verified": ("probes.jwt.signature_not_verified", ""),
    "JWT HS256 key of six digits": ("probes.jwt.weak_secret", ""),
    "any customer deletes menu items": ("probes.bfla.write", "DELETE /menu/{item_id}"),
    "PUT /profile changes the account the body names": ("probes.bola.account_takeover", "PUT /profile"),
    "PATCH /profile stores any field, role included": ("probes.mass_assignment", "PATCH /profile"),
    "customers give themselves the Employee role": ("probes.mass_assignment", "PUT /users/update_role"),
    "any customer reads any order": ("probes.bola", "GET /orders/{order_id}"),
    "undocumented /debug answers": ("probes.inventory.undocumented", "/debug"),
    "/debug hands out the environment": ("probes.inventory.undocumented", "environment_dump"),
    "undocumented /delivery/orders lists every order": ("probes.inventory.undocumented", "/delivery/orders"),
    "no rate limit": ("probes.limits.rate_limit", ""),
    "reset answers tell which usernames exist": ("probes.auth.reset_enumeration", ""),
    "four-digit reset PIN, never throttled": ("probes.auth.reset_code", ""),
}

# findings outside that list that are the same flaws seen by another check (each verified by hand in the evidence)
SAME_FLAW = {"probes.enum.sequential_ids GET /orders/{order_id}": "any customer reads any order"}


def _post(url: str, body: dict) -> int:
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        return urllib.request.urlopen(req, timeout=5).status
    except urllib.error.HTTPError as exc:
        return exc.code


def main(argv: list[str]) -> None:
    repo, python, out = Path(argv[0]), argv[1], Path(argv[2])
    out.mkdir(parents=True, exist_ok=True)
    port = 8097
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DB_BACKEND": "memory", "ENV": "production"}
    srv = subprocess.Popen([python, "-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", str(port)],
                           cwd=repo / "app", env=env, stdout=(out / "server.log").open("w"), stderr=subprocess.STDOUT)
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/healthcheck", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        users = {k: f"probe{k[-1]}{secrets.token_hex(3)}" for k in ("cust_a", "cust_b")}
        for n, (k, user) in enumerate(users.items()):
            _post(base + "/register", {"username": user, "password": f"Probe-{k[-1]}-pw-{n + 1}",
                                       "phone_number": f"555-01{n}{secrets.token_hex(2)}", "first_name": "Probe"})
        text = PROFILE.read_text().replace("{base}", base)
        for k, user in users.items():
            text = text.replace("{" + k + "}", user)
        (out / "target.toml").write_text(text)
        t0 = time.monotonic()
        run = subprocess.run(["vehicle-ds", "probe", "--target", str(out / "target.toml"), "--out",
                              str(out / "results.json"), "--allow-unsafe", "--discover"],
                             capture_output=True, text=True, timeout=900)
        seconds = time.monotonic() - t0
    finally:
        srv.terminate()
        srv.wait()
    doc = json.loads((out / "results.json").read_text())
    fails = [c for c in doc["checks"] if c["status"] == "fail"]

    def found(check: str, where: str) -> dict | None:
        return next((c for c in fails if c["id"] == check and (where in c.get("endpoint", "") or where in
                                                                json.dumps(c.get("evidence", {})))), None)

    per_flaw = {flaw: bool(found(*spec)) for flaw, spec in IN_SCOPE.items()}
    explained = {(c["id"], c.get("endpoint", "")) for spec in IN_SCOPE.values() if (c := found(*spec))}
    outside = sorted(f"{c['id']} {c.get('endpoint', '')}".strip() for c in fails
                     if (c["id"], c.get("endpoint", "")) not in explained)
    roots = {c["id"] for c in fails}
    # a finding folded into a root cause the run also found is that flaw again; any other is a false finding
    same = {o: SAME_FLAW.get(o) or next((f"folded into {c['folded_into']}" for c in fails if o.startswith(c["id"])
                                          and c.get("folded_into") in roots), None) for o in outside}
    print(json.dumps({"name": "probe_dvra", "recall": round(sum(per_flaw.values()) / len(per_flaw), 2),
                      "found": sorted(f for f, ok in per_flaw.items() if ok),
                      "missed": sorted(f for f, ok in per_flaw.items() if not ok),
                      "same_flaw_again": {o: why for o, why in same.items() if why},
                      "false_findings": sorted(o for o, why in same.items() if not why),
                      "findings": doc["summary"]["findings"], "requests": doc["summary"]["requests_sent"],
                      "left_changed": len(doc["summary"]["left_changed"]), "probe_rc": run.returncode,
                      "seconds": round(seconds, 1)}))


if __name__ == "__main__":
    main(sys.argv[1:])
