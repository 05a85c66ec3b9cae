"""Every probe finds its flaw when the flaw is on; the secure platform yields zero findings."""

from __future__ import annotations

import json
import re

import pytest

from api_probes.checks import REGISTRY
from api_probes.profile import load_profile
from api_probes.runner import run
from api_probes.testplatform import FLAWS
from api_probes.testplatform.profile import ENDPOINTS
from tests.probes.conftest import platform, write_profile
from tests.probes.conftest import run_platform as _run
from vehicle_ds.errors import InputError

FLAW_PROBES = {
    "no_auth_location": "probes.auth.unauthenticated", "alg_none": "probes.jwt.alg_none",
    "no_signature_check": "probes.jwt.signature_not_verified", "no_exp_check": "probes.jwt.expired",
    "no_aud_check": "probes.jwt.wrong_audience", "key_confusion": "probes.jwt.key_confusion",
    "trust_jwk": "probes.jwt.embedded_jwk", "trust_jku": "probes.jwt.jku_x5u",
    "kid_traversal": "probes.jwt.kid_injection", "psychic": "probes.jwt.psychic_signature",
    "weak_secret": "probes.jwt.weak_secret", "token_in_query": "probes.auth.token_in_query", "bola": "probes.bola",
    "bfla": "probes.bfla", "sequential_ids": "probes.enum.sequential_ids", "mass_assignment": "probes.mass_assignment",
    "mass_assignment_hidden": "probes.mass_assignment", "exposure": "probes.exposure",
    "plain_http": "probes.transport.plain_http", "no_hsts": "probes.transport.hsts",
    "cors": "probes.config.cors", "verbose_errors": "probes.config.verbose_errors",
    "no_rate_limit": "probes.limits.rate_limit", "bola_query": "probes.bola", "db_errors": "probes.config.verbose_errors",
    "common_word_secret": "probes.jwt.weak_secret", "user_enumeration": "probes.auth.user_enumeration",
    "header_disclosure": "probes.config.header_disclosure", "credentials_in_response": "probes.exposure",
    "cross_user_write": "probes.bola.write", "password_change_other": "probes.bola.account_takeover",
    "registration_mass_assignment": "probes.mass_assignment", "undocumented_endpoint": "probes.inventory.undocumented",
    "bfla_write": "probes.bfla.write", "billing_exposure": "probes.exposure", "fat_token": "probes.jwt.token_hygiene",
    "login_in_query": "probes.auth.credentials_in_url", "body_id_write": "probes.bola.write",
    "reset_enumeration": "probes.auth.reset_enumeration", "reset_code_returned": "probes.auth.reset_code",
    "reset_code_guessable": "probes.auth.reset_code", "account_in_body": "probes.bola.account_takeover",
    "vehicle_mass_assignment": "probes.mass_assignment", "logout_ignored": "probes.auth.logout",
}
WRITE_FLAWS = {"logout_ignored", "account_in_body", "vehicle_mass_assignment", "body_id_write", "reset_enumeration",
               "reset_code_returned", "reset_code_guessable", "login_in_query", "mass_assignment",
               "mass_assignment_hidden", "cross_user_write", "password_change_other", "registration_mass_assignment",
               "bfla_write"}


def test_every_flaw_has_a_probe_and_every_probe_a_flaw():
    assert set(FLAW_PROBES) == set(FLAWS)
    probe_ids = {p.id for p in REGISTRY}
    assert set(FLAW_PROBES.values()) <= probe_ids
    untested = probe_ids - set(FLAW_PROBES.values()) - {"probes.auth.invalid_token", "probes.jwt.claims_tampered",
                                                        "probes.jwt.not_yet_valid", "probes.transport.tls"}
    assert not untested, untested



def test_secure_platform_has_zero_findings(tmp_path, tls):
    """Login sets a session cookie as well as returning a token: the unauthenticated check still sends
    nothing, so every protected endpoint refuses it (no cookie jar carries the login's session)."""
    doc, _ = _run(tmp_path, tls, set(), allow_unsafe=True, discover=True)
    assert doc["subject"]["auth_methods"] == ["token", "cookie"]
    unauth = [c for c in doc["checks"] if c["id"] == "probes.auth.unauthenticated"]
    assert len(unauth) >= 18 and all(c["status"] == "pass" for c in unauth)
    assert all(e["credentials"] == "none" for e in doc["request_log"] if e["check"] == "probes.auth.unauthenticated")
    # ownership is tested once per accepted method, each request carrying only that one
    bola_labels = {c["endpoint"] for c in doc["checks"] if c["id"] == "probes.bola"}
    assert "GET /api/v1/trip-details?trip_id={trip_id} [cookie]" in bola_labels
    assert {e["credentials"] for e in doc["request_log"] if e["check"] == "probes.bola"} == {"token", "cookie"}
    fails = [(c["id"], c.get("endpoint")) for c in doc["checks"] if c["status"] in ("fail", "error", "warn")]
    assert not fails, fails
    ran = {c["id"] for c in doc["checks"] if c["status"] == "pass"}
    # the secure platform's trip ids are random: there is nothing to enumerate, which is said, not passed
    unjudged = {c["id"]: c["reason"] for c in doc["checks"] if c["status"] == "not_assessed"}
    assert set(unjudged) == {"probes.enum.sequential_ids"} and "numeric" in unjudged["probes.enum.sequential_ids"]
    assert {p.id for p in REGISTRY} <= ran | set(unjudged), {p.id for p in REGISTRY} - ran
    assert doc["summary"]["findings"] == 0


@pytest.mark.parametrize("flaw", sorted(FLAWS))
def test_probe_finds_its_flaw(tmp_path, tls, flaw):
    pid = FLAW_PROBES[flaw]
    doc, _ = _run(tmp_path, tls, {flaw}, only=[pid], allow_unsafe=flaw in WRITE_FLAWS, discover=pid.startswith("probes.inv"),
                  signing=flaw not in ("weak_secret", "common_word_secret"))
    mine = [c for c in doc["checks"] if c["id"] == pid]
    assert any(c["status"] == "fail" for c in mine), json.dumps(mine, indent=1)[:3000]
    for c in mine:
        if c["status"] == "fail":
            assert c["owasp"].startswith("OWASP-API") and c["cwe"].startswith("CWE-") and c["requirements"]


def test_cracked_secret_drives_the_signed_attacks(tmp_path, tls):
    doc, _ = _run(tmp_path, tls, {"weak_secret", "no_exp_check"}, signing=False,
                  only=["probes.jwt.weak_secret", "probes.jwt.expired"])
    status = {c["id"]: c["status"] for c in doc["checks"]}
    assert status == {"probes.jwt.weak_secret": "fail", "probes.jwt.expired": "fail"}
    assert "changeme" not in json.dumps(doc)  # the cracked secret is masked in the evidence


# Flaws that hide others when all are on at once: with weak_secret the platform signs HS256 and
# publishes no JWKS (nothing to confuse, no ES/RS verifier to trick), and its rate limit stays on.
def test_mass_assignment_fails_on_the_write_s_effect_even_when_the_read_back_hides_it(tmp_path, tls):
    doc, app = _run(tmp_path, tls, {"mass_assignment_hidden"}, only=["probes.mass_assignment"], allow_unsafe=True)
    c = next(c for c in doc["checks"] if c["id"] == "probes.mass_assignment")
    assert c["status"] == "fail" and c["evidence"]["echoed_by_write"] == ["role"]
    assert c["evidence"]["read_back"] == {"role": []}  # the read-back alone would have seen nothing
    # the write is listed and was undone with the profile's revert body
    patch = [c for c in doc["changes"] if c["request"] == "PATCH /api/v1/users/me"]
    assert patch == [{"check": "probes.mass_assignment", "as": "alice", "request": "PATCH /api/v1/users/me",
                      "fields": ["role"], "accepted": True, "stored": ["role"], "reverted": True}]
    assert app.state.platform.users["u-1001"].role == "owner"


def test_a_write_whose_effect_cannot_be_seen_is_not_a_pass(tmp_path, tls):
    """An accepted write whose field shows neither in its answer nor in the read-back cannot be judged."""
    from api_probes.checks import REGISTRY, mass_assignment
    from api_probes.client import SafeClient
    from api_probes.context import Context

    with platform({"mass_assignment_hidden"}, tls) as (app, url, http_port):
        prof = load_profile(write_profile(tmp_path, app, url, http_port, tls, allow_unsafe=True))
        for e in prof.endpoints:
            if e.mass_assignment:  # a field the platform neither echoes nor shows
                e.mass_assignment = {"read": "/api/v1/users/me", "fields": {"tier": "gold"}} \
                    if e.label == "PATCH /api/v1/users/me" else None
        client = SafeClient(prof, allow_unsafe=True)
        tok = client.request("POST", "/api/v1/login", json_body={"username": "alice", "password": "alice-pass-1"})
        ctx = Context(prof, client, {"alice": tok.json()["access_token"]}, allow_unsafe=True)
        p = next(p for p in REGISTRY if p.id == "probes.mass_assignment")
        [c] = mass_assignment(ctx, p)
        client.close()
    assert c["status"] == "needs_review" and "pointer" in c["reason"]


MASKED_WHEN_ALL_ON = {"probes.inventory.undocumented",  # discovery: opt-in
                      "probes.jwt.key_confusion", "probes.jwt.psychic_signature", "probes.jwt.kid_injection",
                      "probes.jwt.jku_x5u", "probes.jwt.embedded_jwk", "probes.limits.rate_limit",
                      "probes.mass_assignment", "probes.bola.write", "probes.bola.account_takeover",
                      "probes.bfla.write", "probes.auth.reset_enumeration", "probes.auth.reset_code",
                      "probes.auth.logout",  # writes: opt-in
                      "probes.auth.credentials_in_url"}  # a password in a URL: opt-in


def test_full_run_on_the_whole_profile_stays_in_budget(tmp_path, tls):
    doc, _app = _run(tmp_path, tls, set(FLAWS) - {"no_rate_limit"})
    s = doc["summary"]
    assert doc["subject"]["endpoints"] == len(ENDPOINTS) + 3  # the reset flow's two requests and the logout join
    assert s["requests_sent"] <= 800 and not s["budget"]["exhausted"]  # counts only, never timings
    failed = {c["id"] for c in doc["checks"] if c["status"] == "fail"}
    assert set(FLAW_PROBES.values()) - MASKED_WHEN_ALL_ON <= failed, set(FLAW_PROBES.values()) - failed
    # safety: no unsafe method but the login was sent, and no token appears in clear anywhere
    methods = {e["method"] for e in doc["request_log"]}
    assert methods <= {"GET", "POST"}
    assert all(e["url"].endswith("/api/v1/login") for e in doc["request_log"] if e["method"] == "POST")
    assert "eyJhbGciOi" not in json.dumps(doc) and "alice-pass-1" not in json.dumps(doc)


def test_budget_is_a_hard_limit(tmp_path, tls):
    with platform(set(), tls) as (app, url, http_port):
        prof = load_profile(write_profile(tmp_path, app, url, http_port, tls, max_requests=25))
        doc = run(prof)
    assert doc["summary"]["requests_sent"] == 25 and doc["summary"]["budget"]["exhausted"]
    assert any(c["status"] == "skipped" and "budget" in str(c["evidence"]) for c in doc["checks"])


def test_database_errors_are_verbose_errors_with_the_signature_named(tmp_path, tls):
    doc, _ = _run(tmp_path, tls, {"db_errors"}, only=["probes.config.verbose_errors"])
    [bad] = [c for c in doc["checks"] if c["status"] == "fail"]
    assert {"postgresql error", "sql statement"} <= set(bad["evidence"]["disclosed"])


def test_claims_tampering_finds_the_identity_claim_that_is_not_sub(tmp_path, tls):
    with platform({"no_signature_check"}, tls, identity_claim="user_id") as (app, url, http_port):
        prof = load_profile(write_profile(tmp_path, app, url, http_port, tls))
        doc = run(prof, only=["probes.jwt.claims_tampered"])
    [c] = [c for c in doc["checks"] if c["id"] == "probes.jwt.claims_tampered"]
    assert c["status"] == "fail" and c["evidence"]["claims"] == ["user_id"]


def test_a_refused_endpoint_does_not_silence_the_check(tmp_path, tls):
    """An object id with a slash makes one endpoint's request fall outside the safe list: that endpoint is
    reported skipped with the reason, and the check still judges every other endpoint."""
    from api_probes.profile import Endpoint

    with platform({"bola"}, tls) as (app, url, http_port):
        prof = load_profile(write_profile(tmp_path, app, url, http_port, tls))
        prof.endpoints.append(Endpoint(method="GET", path="/api/v1/docs/{doc_id}", safe=True, objects={"doc_id": "doc"}))
        for ident in prof.identities:
            ident.owns["doc"] = [f"{ident.name}/manual.pdf"]
        doc = run(prof, only=["probes.bola"])
    by_endpoint = {c["endpoint"]: c for c in doc["checks"] if c["id"] == "probes.bola"}
    refused = by_endpoint["GET /api/v1/docs/{doc_id}"]
    assert refused["status"] == "skipped" and "not an endpoint the profile marks safe" in refused["reason"]
    assert by_endpoint["GET /api/v1/vehicles/{vin}/location [token]"]["status"] == "fail"
    assert by_endpoint["GET /api/v1/trip-details?trip_id={trip_id} [cookie]"]["status"] == "pass"


def test_one_root_cause_is_one_finding_with_its_variants(tmp_path, tls):
    doc, _ = _run(tmp_path, tls, {"no_signature_check"}, only=["probes.jwt"])
    root = next(c for c in doc["checks"] if c["id"] == "probes.jwt.signature_not_verified")
    assert root["status"] == "fail" and {"probes.jwt.alg_none", "probes.jwt.claims_tampered"} <= set(root["variants"])
    folded = [c for c in doc["checks"] if c.get("folded_into") == "probes.jwt.signature_not_verified"]
    assert folded and all(c["status"] in ("fail", "needs_review") for c in folded)
    assert doc["summary"]["findings"] == 1 and doc["summary"]["failed_checks"] > 1
    jku = next(c for c in doc["checks"] if c["id"] == "probes.jwt.jku_x5u")
    assert jku["status"] != "fail" and jku["evidence"]["listener_fetches"] == []  # accepted, never fetched


def test_credentials_in_a_response_are_found_and_never_written(tmp_path, tls):
    doc, _ = _run(tmp_path, tls, {"credentials_in_response"}, only=["probes.exposure"])
    [bad] = [c for c in doc["checks"] if c["status"] == "fail"]
    kinds = {f["kind"] for f in bad["evidence"]["unexpected"]}
    assert {"password", "password_hash"} <= kinds and bad["severity"] == "critical"


PERSONAL = ("alice-pass-1", "bob-pass-2", "admin-pass-9", "changeme", "elephant", "13812345678", "13987654321",
            "110101199003074573", "310101198807126546", "Zhang Wei", "Li Na", "京A·12345", "沪B·67890",
            "39.9087243", "116.3974771", "39.9151234", "$2b$12$", "4111 1111 1111 1111", "5555 5555 5555 4444",
            "东长安街1号", "221B Baker Street", "AKIAPROBETESTKEY0001", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPROBEKEY1")


def test_no_password_key_or_personal_datum_is_written_unmasked(tmp_path, tls):
    """Every flaw on, including the ones that hand out passwords and personal data: the results file holds
    none of them in clear (VINs too: only keyed pseudonyms)."""
    from api_probes.testplatform import make_vin
    from vehicle_ds.results import write_json

    doc, _ = _run(tmp_path, tls, set(FLAWS) - {"no_rate_limit", "weak_secret"}, allow_unsafe=True, discover=True)
    out = write_json(tmp_path / "results.json", doc).read_text()
    leaked = [v for v in (*PERSONAL, make_vin(1001), make_vin(1002)) if v in out]
    assert not leaked, leaked
    assert '"card_cvv"' in out and not re.search(r'"cvv"\s*:\s*"\d', out)  # the planted CVV found, never in clear
    assert "pid:" in out  # the values are there as pseudonyms, so findings still correlate


def test_registration_mass_assignment_is_a_privilege_escalation(tmp_path, tls):
    doc, _ = _run(tmp_path, tls, {"registration_mass_assignment"}, only=["probes.mass_assignment"], allow_unsafe=True)
    [bad] = [c for c in doc["checks"] if c["status"] == "fail"]
    assert bad["endpoint"] == "POST /api/v1/register" and bad["evidence"]["privilege_escalation"] == ["role"]
    assert bad["owasp"] == "OWASP-API5:2023" and "OWASP-API5:2023" in bad["requirements"]
    created = [c for c in doc["changes"] if "created_account" in c]
    assert len(created) == 1 and created[0]["stored"] == ["role"]  # the account it made is listed


def test_cross_user_writes_are_judged_by_their_effect_and_cleaned_up(tmp_path, tls):
    doc, app = _run(tmp_path, tls, {"cross_user_write", "password_change_other"}, allow_unsafe=True,
                    only=["probes.bola.write", "probes.bola.account_takeover"])
    status = {(c["id"], c["endpoint"]): c["status"] for c in doc["checks"]}
    assert status == {("probes.bola.write", "PATCH /api/v1/notes/{note_id}"): "fail",
                      ("probes.bola.write", "DELETE /api/v1/notes/{note_id}"): "fail",
                      ("probes.bola.write", "PUT /api/v1/notes"): "pass",  # the id-in-body write is owner-checked
                      ("probes.bola.account_takeover", "PATCH /api/v1/users/{user_id}"): "fail",
                      ("probes.bola.account_takeover", "PUT /api/v1/profile"): "pass"}  # refused: owner-checked
    st = app.state.platform
    assert st.notes == {}  # every note the probe created is gone
    assert st.users["u-1001"].email == ""  # alice's e-mail was restored
    assert all(c["reverted"] for c in doc["changes"] if c.get("changed") or c.get("created"))


def test_discovery_finds_the_unlisted_debug_endpoint_and_what_it_leaks(tmp_path, tls):
    doc, _ = _run(tmp_path, tls, {"undocumented_endpoint"}, only=["probes.inventory"], discover=True)
    [c] = doc["checks"]
    assert c["status"] == "fail" and c["severity"] == "critical" and c["owasp"] == "OWASP-API9:2023"
    [hit] = c["evidence"]["undocumented"]
    assert hit["path"] == "/api/v1/debug/env" and hit["without_credentials"]
    assert {"kind": "environment_dump"}.items() <= hit["data"][0].items()
    text = json.dumps(doc)
    assert "Tsp-db-2024" not in text and "AKIAIOSFODNN7EXAMPLE" not in text and "Tsp-signing-2024" not in text
    assert "/health" in c["evidence"]["expected_answers"]  # answering is a health endpoint's job
    assert {e["method"] for e in doc["request_log"] if e["check"] == "probes.inventory.undocumented"} == {"GET"}


def test_form_login_setup_steps_and_token_refresh(tmp_path, tls):
    """An OAuth2 password grant (form-encoded), setup steps that create an object and a new identity, and
    tokens that expire within the run are refreshed by logging in again."""
    with platform({"bola"}, tls, token_ttl=20) as (app, url, http_port):
        path = write_profile(tmp_path, app, url, http_port, tls, allow_unsafe=True)
        text = path.read_text().replace(
            '[login]\npath = "/api/v1/login"\nmethod = "POST"\nbody = {username = "{username}", password = "{password}"}',
            '[login]\npath = "/api/v1/token"\nmethod = "POST"\nformat = "form"\n'
            'body = {grant_type = "password", username = "{username}", password = "{password}"}')
        text += ('\n[[setup]]\nmethod = "POST"\npath = "/api/v1/notes"\nas = "alice"\nbody = {text = "fixture"}\n'
                 'capture = {note = "/id"}\n'
                 '\n[[setup]]\nmethod = "POST"\npath = "/api/v1/register"\n'
                 'body = {username = "probe-carol-{rand}", password = "Pw-{rand}-x"}\n'
                 'creates_identity = {name = "carol", role = "owner"}\n')
        path.write_text(text)
        doc = run(load_profile(path), allow_unsafe=True, only=["probes.bola"])
    assert [s["ok"] for s in doc["setup"]] == [True, True], doc["setup"]
    assert doc["setup"][1]["identity"]["logged_in"]
    assert doc["setup"][0]["captured"] == ["note"]
    assert doc["summary"]["tokens_refreshed"] > 0  # 20-second tokens were renewed before use
    assert any(e["url"].endswith("/api/v1/token") for e in doc["request_log"])
    fails = {c["endpoint"] for c in doc["checks"] if c["status"] == "fail"}
    assert "GET /api/v1/vehicles/{vin}/location" in fails  # the probes ran on the form-login tokens (no cookie)


def test_a_profile_drafted_from_openapi_runs_after_the_identities_are_filled_in(tmp_path, tls):
    import re

    from tests.conftest import run_cli

    with platform({"bola"}, tls) as (app, url, _http_port):
        out = tmp_path / "draft.toml"
        proc = run_cli("probe", "init", "--openapi", f"{url}/openapi.json", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        text = out.read_text()
        assert "CHANGE-ME" in text and 'path = "/api/v1/trip-details?trip_id={trip_id}"' in text
        assert 'path = "/api/v1/login"' in text and "auth = false" in text
        assert re.search(r'method = "DELETE"\npath = "/api/v1/notes/\{note_id\}"\nsafe = false', text)
        st = app.state.platform
        vins = {u: [v for v, x in st.vehicles.items() if x["owner"] == u] for u in ("u-1001", "u-1002")}
        trips = {u: [t for t, x in st.trips.items() if x["owner"] == u] for u in ("u-1001", "u-1002")}
        for name, user, pw, uid in (("owner_a", "alice", "alice-pass-1", "u-1001"),
                                    ("owner_b", "bob", "bob-pass-2", "u-1002")):
            block = (f'name = "{name}"\nrole = "owner"\nusername = "{user}"\npassword = "{pw}"\n'
                     f'owns = {{vin = {json.dumps(vins[uid])}, trip_id = {json.dumps(trips[uid])}}}')
            text = re.sub(rf'name = "{name}"\nrole = "owner"\nusername = "CHANGE-ME"\npassword = "CHANGE-ME"\nowns = {{[^\n]*}}',
                          lambda _m, b=block: b, text)
        text = text.replace('allow_hosts = ["127.0.0.1"]', f'allow_hosts = ["127.0.0.1"]\nca_cert = "{tls["ca"]}"')
        out.write_text(text)
        # the login answer's schema names no token property: the draft says so, and the loader refuses until
        # the tester confirms it
        assert 'token_field = "CHANGE-ME"' in text
        with pytest.raises(InputError, match=r"login\.token_field still read CHANGE-ME"):
            load_profile(out)
        out.write_text(text.replace('token_field = "CHANGE-ME"', 'token_field = "access_token"'))
        proc = run_cli("probe", "init", "--openapi", f"{url}/openapi.json", "--out", str(out))
        assert proc.returncode == 2 and "exists" in proc.stderr  # a completed profile is never overwritten
        doc = run(load_profile(out), only=["probes.bola", "probes.auth.unauthenticated"])
    by = {(c["id"], c["endpoint"]): c["status"] for c in doc["checks"]}
    assert by[("probes.bola", "GET /api/v1/vehicles/{vin}/location [token]")] == "fail"
    # the tester's URL wins over the document's (or its source's), and allow_hosts follows it
    with platform(set(), tls) as (_app, url, _http_port):
        mine = tmp_path / "mine.toml"
        tested = url.replace("127.0.0.1", "localhost")
        assert run_cli("probe", "init", "--openapi", f"{url}/openapi.json", "--out", str(mine),
                       "--base-url", tested).returncode == 0
    drafted = mine.read_text()
    assert f'base_url = "{tested}"' in drafted and 'allow_hosts = ["localhost"]' in drafted
    assert by[("probes.auth.unauthenticated", "GET /api/v1/vehicles/{vin}/location")] == "pass"


def test_a_failed_login_is_its_own_check_citing_no_probe_s_category(tmp_path, tls):
    """The login precondition cites no OWASP category, CWE or requirement (it once carried the first probe's)."""
    with platform(set(), tls) as (app, url, http_port):
        path = write_profile(tmp_path, app, url, http_port, tls)
        text = path.read_text()
        first = text.index('password = "') + len('password = "')
        path.write_text(text[:first] + "wrong-" + text[first:])
        doc = run(load_profile(path), only=["probes.auth.unauthenticated"])
    login = next(c for c in doc["checks"] if c["id"] == "probes.setup.login")
    assert login["status"] == "error" and login["evidence"]["login_problems"]
    assert login["owasp"] is None and login["cwe"] is None and login["requirements"] == []
    assert login["criterion"]["source"] == "engineering_default"
