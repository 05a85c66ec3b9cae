"""Safety rules of the client, and the RFC 7515/7519 vectors and derived attack tokens reproduced exactly."""

from __future__ import annotations

import pytest

from api_probes import forge
from api_probes.client import SafeClient, SafetyError, mask
from api_probes.detectors import cn_id_valid, findings, vin_valid
from api_probes.profile import Endpoint, Identity, Profile
from tests.conftest import run_cli

# RFC 7515 A.1 / RFC 7519 §3.1 (as given in ../shared/reference/api_probes.md §6.1)
A1_KEY = forge.b64u_decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
A1 = ("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmN"
      "vbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
RFC7519_UNSECURED = ("eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9p"
                     "c19yb290Ijp0cnVlfQ.")


def test_rfc7515_a1_hs256_known_answer():
    h, p, _ = A1.split(".")
    assert forge.hs_resign_segments(h, p, A1_KEY) == A1


def test_rfc7519_unsecured_jwt_and_alg_none_spellings():
    _, _, _, p, _ = forge.split(A1)
    assert forge.unsigned({"alg": "none"}, p) == RFC7519_UNSECURED
    tokens = forge.alg_none_tokens(A1)
    assert tokens[0] == "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0." + p + "."
    assert [forge.split(t)[0]["alg"] for t in tokens] == ["none", "None", "NONE", "nOnE", ""]
    assert all(t.endswith(".") for t in tokens)


def test_derived_attack_tokens_are_deterministic():
    h, p, _s = A1.split(".")
    assert forge.stripped(A1) == f"{h}.{p}."
    psychic = forge.psychic_es256(A1)
    assert psychic.split(".")[2] == "A" * 86 and forge.split(psychic)[0]["alg"] == "ES256"
    kid = dict(forge.kid_tokens(A1))
    assert forge.split(kid["/dev/null"])[0]["kid"] == "/dev/null"
    # blank-key HS256 over the re-serialised header and payload: same bytes twice
    assert kid["/dev/null"] == forge.kid_tokens(A1)[1][1]
    import jwt

    with pytest.raises(jwt.InvalidAlgorithmError):  # the correct verifier behaviour (§6.3)
        jwt.decode(forge.alg_none_tokens(A1)[0], A1_KEY, algorithms=["HS256"])


def test_key_confusion_encodings():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    enc = forge.public_key_encodings(pem)
    assert set(enc) == {"spki_pem", "spki_pem_no_newline", "spki_der_base64", "pkcs1_pem", "pkcs1_der_base64"}
    assert enc["spki_pem"] == pem and enc["spki_pem_no_newline"] == pem.rstrip(b"\n")
    toks = forge.key_confusion_tokens(A1, pem)
    h, p, _s = toks["spki_pem"].split(".")
    assert forge.hs_resign_segments(h, p, pem) == toks["spki_pem"]


def test_offline_crack_finds_weak_secrets_and_says_when_it_was_cut():
    from api_probes.secrets import candidates, public_list

    assert len(public_list()) > 100_000
    for secret in ("changeme", "elephant", "4711", "031337"):  # built-in, a common word of the public list, digits
        res = forge.crack_hs(forge.hs_sign({"typ": "JWT"}, {"sub": "x"}, secret.encode()), candidates())
        assert res.secret == secret and res.complete and res.tried >= 1
    strong = forge.hs_sign({}, {"sub": "x"}, b"k3Jq-9vX!long-random-secret")
    res = forge.crack_hs(strong, candidates(digits_up_to=2))
    assert res.secret is None and res.complete and res.tried > 100_000
    cut = forge.crack_hs(strong, candidates(), time_budget_s=0)
    assert cut.secret is None and not cut.complete  # a stopped search proves nothing


def test_profile_and_derived_candidates(tmp_path):
    from api_probes.secrets import candidates

    words = tmp_path / "words.txt"
    words.write_text("first-guess\nhorsebattery\n")
    prof = Profile(name="Acme Telematics", base_url="https://api.acme.test", allow_hosts=["api.acme.test"],
                   identities=[], endpoints=[], extra_secrets=["team-secret"], secrets_file=str(words))
    for secret in ("team-secret", "horsebattery", "acme_secret", "Telematics123", "jwtacme"):
        res = forge.crack_hs(forge.hs_sign({}, {"sub": "x"}, secret.encode()), candidates(prof, digits_up_to=0))
        assert res.secret == secret, secret


def test_exposure_findings_name_each_kind_of_personal_data_and_nothing_in_a_technical_body():
    assert vin_valid("LFV3A23C0N0001001") and not vin_valid("LFV3A23C5N0001001") and vin_valid("1M8GDM9AXKP042788")
    assert cn_id_valid("11010519491231002X") and not cn_id_valid("110105194912310021")
    body = {"owner_phone": "13812345678", "id_no": "11010519491231002X", "vin": "1M8GDM9AXKP042788",
            "home": {"lat": 39.9087243, "lng": 116.3974771}, "plate": "京A·12345", "model": "EV-S"}
    kinds = {f["kind"] for f in findings(body)}
    assert {"mobile", "cn_resident_id", "vin", "plate", "precise_coordinate"} <= kinds
    assert not findings({"model": "EV-S", "count": 3, "ok": True})


def _profile() -> Profile:
    return Profile(name="t", base_url="https://127.0.0.1:9", allow_hosts=["127.0.0.1"],
                   identities=[Identity("a", "owner", token="t")],
                   endpoints=[Endpoint("GET", "/api/v1/vehicles/{vin}", safe=True),
                              Endpoint("POST", "/api/v1/vehicles/{vin}/commands/unlock", safe=True),
                              Endpoint("GET", "/api/v1/danger/reset", safe=False)])


def test_client_refuses_what_the_profile_does_not_allow():
    c = SafeClient(_profile())
    with pytest.raises(SafetyError, match="allowlist"):
        c.request("GET", "https://example.com/api/v1/vehicles/x")
    with pytest.raises(SafetyError, match="marks safe"):
        c.request("GET", "/api/v1/danger/reset")
    with pytest.raises(SafetyError, match="opt-in"):
        c.request("POST", "/api/v1/vehicles/X/commands/unlock")
    with pytest.raises(SafetyError, match="safe methods"):
        c.request("DELETE", "/anything", any_path=True)
    assert c.sent == 0 and c.blocked == 4


def test_a_token_in_a_query_string_or_a_header_is_masked_to_its_digest():
    tok = forge.hs_sign({}, {"sub": "x"}, b"k")
    masked = mask(f"GET /x?access_token={tok} Authorization: Bearer {tok}")
    assert tok not in masked and "access_token=***" in masked and "[jwt sha256:" in masked


def test_unreachable_target_is_one_line(tmp_path):
    prof = tmp_path / "t.toml"
    prof.write_text('[target]\nbase_url = "https://127.0.0.1:9"\n[[identity]]\nname = "a"\ntoken = "x"\n')
    proc = run_cli("probe", "--target", str(prof), "--out", str(tmp_path / "r.json"))
    assert proc.returncode == 2 and "unreachable" in proc.stderr and "Traceback" not in proc.stderr
    bad = tmp_path / "b.toml"
    bad.write_text('[target]\nbase_url = "https://8.8.8.8"\nallow_hosts = ["127.0.0.1"]\n')
    proc = run_cli("probe", "--target", str(bad), "--out", str(tmp_path / "r.json"))
    assert proc.returncode == 2 and "allow_hosts" in proc.stderr


def test_es256_signing_verifies_with_pyjwt():
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    tok = forge.es256_sign({"typ": "JWT"}, {"sub": "x"}, key)
    assert jwt.decode(tok, key.public_key(), algorithms=["ES256"]) == {"sub": "x"}
