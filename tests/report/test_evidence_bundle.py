"""Evidence that can be handed over: signed bundles that name any changed file, and run-to-run comparison."""

from __future__ import annotations

import copy
import json

import pytest

from tests.conftest import run_cli
from vehicle_ds.report.baseline import compare


@pytest.fixture()
def signed(tmp_path, real_outputs):
    key = tmp_path / "keys" / "signer.key"
    assert run_cli("keygen", "--out", str(key)).returncode == 0
    out = tmp_path / "bundle"
    proc = run_cli("bundle", str(real_outputs / "catalog.json"), str(real_outputs / "edge"), "--out", str(out),
                   "--key", str(key), "--operator", "QA engineer")
    assert proc.returncode == 0, proc.stderr
    return out, key


def test_a_bundle_verifies_and_names_any_changed_file(signed, tmp_path):
    out, key = signed
    ok = run_cli("verify", str(out), "--pubkey", str(key) + ".pub")
    assert ok.returncode == 0, ok.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["operator"] == "QA engineer" and manifest["tool"]["version"] and manifest["policy"]["sha256"]
    assert all(len(f["sha256"]) == 64 for f in manifest["files"]) and "PRIVATE KEY" not in json.dumps(manifest)
    for f in manifest["files"]:  # one byte changed in any file: verify fails and names it
        p = out / f["path"]
        data = bytearray(p.read_bytes())
        data[len(data) // 2] ^= 1
        p.write_bytes(bytes(data))
        bad = run_cli("verify", str(out))
        assert bad.returncode == 1 and f["path"] in bad.stderr, f["path"]
        data[len(data) // 2] ^= 1
        p.write_bytes(bytes(data))
    assert run_cli("verify", str(out)).returncode == 0
    (out / "files" / "extra.json").write_text("{}")
    assert "extra.json" in run_cli("verify", str(out)).stderr
    (out / "files" / "extra.json").unlink()
    m = (out / "manifest.json").read_bytes().replace(b"QA engineer", b"QA engineeR")
    (out / "manifest.json").write_bytes(m)
    assert "signature" in run_cli("verify", str(out)).stderr
    other = tmp_path / "other.key"
    run_cli("keygen", "--out", str(other))
    (out / "manifest.json").write_bytes(m.replace(b"QA engineeR", b"QA engineer"))
    assert "not signed with the given public key" in run_cli("verify", str(out), "--pubkey", str(other) + ".pub").stderr


def test_keys_never_go_into_a_bundle(tmp_path, signed):
    _, key = signed
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "results.json").write_text("{}")
    (tmp_path / "run" / "pseudonym.key").write_bytes(b"x" * 32)
    proc = run_cli("bundle", str(tmp_path / "run"), "--out", str(tmp_path / "b2"), "--key", str(key))
    assert proc.returncode == 2 and "pseudonym.key" in proc.stderr


def _rep(reqs, findings, important):
    return {"schema": "vehicle-ds/report@1", "generated": "t", "status": "fail",
            "requirements": [{"id": r, "status": s, "by_asset": [{"key": "vehicle:car", "status": s}]} for r, s in reqs],
            "checks": [{"id": i, "status": s, "asset_key": "vehicle:car", "evidence": {}} for i, s in findings],
            "inventory": [{"important": [{"message": "M", "signal": f"S{n}", "category": "exterior_perception"}
                                         for n in range(important)]}], "datasets": []}


def test_baseline_comparison_new_fixed_unchanged_and_refiling():
    before = _rep([("REQ-A", "fail"), ("REQ-B", "pass"), ("REQ-C", "needs_review")],
                  [("edge.x", "fail"), ("edge.y", "warn")], 10)
    after = _rep([("REQ-A", "pass"), ("REQ-B", "fail"), ("REQ-C", "needs_review")],
                 [("edge.y", "warn"), ("edge.z", "fail")], 13)
    c = compare(after, before)
    change = {r["requirement"]: r["change"] for r in c["requirements"]}
    assert change == {"REQ-A": "fixed", "REQ-B": "regressed", "REQ-C": "still_open"}
    assert [f["id"] for f in c["findings"]["fixed"]] == ["edge.x"]
    assert [f["id"] for f in c["findings"]["new"]] == ["edge.z"]
    assert [f["id"] for f in c["findings"]["still_open"]] == ["edge.y"]
    assert c["important_data"]["refile"] and c["important_data"]["scale_change"] == 0.3  # at 30 %: re-file
    small = compare(_rep([], [], 12), _rep([], [], 10))
    assert not small["important_data"]["refile"]  # 20 %
    same = copy.deepcopy(before)
    assert compare(same, before)["counts"]["fixed"] == 0


def test_report_cli_takes_a_baseline(tmp_path, real_outputs):
    first = tmp_path / "r1.json"
    run_cli("report", str(real_outputs), "--format", "json", "--out", str(first))
    second = tmp_path / "r2.html"
    proc = run_cli("report", str(real_outputs), "--baseline", str(first), "--out", str(second))
    assert proc.returncode in (0, 1), proc.stderr
    assert 'id="changes"' in second.read_text("utf-8")
    bad = run_cli("report", str(real_outputs), "--baseline", str(real_outputs / "catalog.json"), "--out", str(second))
    assert bad.returncode == 2 and "not a vehicle-ds report" in bad.stderr
