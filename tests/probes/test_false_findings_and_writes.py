"""Round 3 of the probes: no finding without a differential, real platforms' quirks that are no flaw, every
write accounted and undone (or listed as left changed), error bodies read as a client reads them."""

from __future__ import annotations

import pytest

from api_probes.profile import load_profile
from api_probes.runner import run
from tests.probes.conftest import platform, write_profile
from tests.probes.conftest import run_platform as _run

TOKEN_PROBES = ["probes.jwt.alg_none", "probes.jwt.signature_not_verified", "probes.jwt.claims_tampered",
                "probes.jwt.kid_injection", "probes.jwt.embedded_jwk", "probes.jwt.expired", "probes.auth.unauthenticated"]


def test_token_probes_need_a_differential_an_endpoint_that_ignores_tokens_is_not_assessed(tmp_path, tls):
    """Where the reference endpoint answers no token and a garbage token as it answers the genuine one, a forged
    token "accepted" proves nothing: every token probe is not_assessed with the reason, none fails (jwt_tool's
    pre-scan), and the open access itself is probes.auth.unauthenticated's finding. The same flaws with the
    endpoint guarded are found."""
    doc, _ = _run(tmp_path / "open", tls, {"default_user", "alg_none", "no_signature_check"}, only=TOKEN_PROBES)
    jwt = [c for c in doc["checks"] if c["id"].startswith("probes.jwt.")]
    assert jwt and all(c["status"] == "not_assessed" and "a forged token proves nothing" in c["reason"] for c in jwt)
    assert any(c["status"] == "fail" and "/users/me" in c["endpoint"] for c in doc["checks"]
               if c["id"] == "probes.auth.unauthenticated")
    guarded, _ = _run(tmp_path / "guarded", tls, {"alg_none", "no_signature_check"}, only=TOKEN_PROBES)
    status = {c["id"]: c["status"] for c in guarded["checks"]}
    assert status["probes.jwt.alg_none"] == "fail" and status["probes.jwt.signature_not_verified"] == "fail"


def test_issuer_and_audience_are_judged_only_where_tokens_carry_them_and_fold_into_a_cracked_key(tmp_path, tls):
    only = ["probes.jwt.weak_secret", "probes.jwt.wrong_audience"]
    plain, _ = _run(tmp_path / "plain", tls, {"plain_claims", "weak_secret"}, only=only, signing=False)
    aud = next(c for c in plain["checks"] if c["id"] == "probes.jwt.wrong_audience")
    assert aud["status"] == "not_assessed" and "neither aud nor iss" in aud["reason"]
    cracked, _ = _run(tmp_path / "cracked", tls, {"weak_secret", "no_aud_check"}, only=only, signing=False)
    aud = next(c for c in cracked["checks"] if c["id"] == "probes.jwt.wrong_audience")
    assert aud["status"] == "fail" and aud["folded_into"] == "probes.jwt.weak_secret"
    assert cracked["summary"]["findings"] == 1  # one cause: the key


@pytest.mark.parametrize(("flaws", "status"), [({"login_200"}, "pass"), ({"login_200", "user_enumeration"}, "fail"),
                                               (set(), "pass"), ({"user_enumeration"}, "fail")])
def test_enumeration_is_judged_by_what_the_login_achieved_and_stable_answers_whatever_the_status(tmp_path, tls,
                                                                                                 flaws, status):
    """A platform that says "login failed" with 200 and a fresh timestamp and request id in every answer is
    judged (not an error) and is no enumeration; the same platform naming the unknown user is."""
    doc, _ = _run(tmp_path, tls, flaws, only=["probes.auth.user_enumeration"])
    c = next(c for c in doc["checks"] if c["id"] == "probes.auth.user_enumeration")
    assert c["status"] == status, c
    if "login_200" in flaws:
        assert {a["status"] for a in c["evidence"]["answers"].values()} == {200}
        assert not any(a["session_issued"] for a in c["evidence"]["answers"].values())


def test_a_secure_platform_with_real_world_quirks_still_has_zero_findings(tmp_path, tls):
    """Failed logins answered with 200 and volatile fields, tokens without iss/aud: no finding."""
    doc, _ = _run(tmp_path, tls, {"login_200", "plain_claims"}, allow_unsafe=True, discover=True)
    fails = [(c["id"], c.get("endpoint")) for c in doc["checks"] if c["status"] in ("fail", "error", "warn")]
    assert not fails and doc["summary"]["findings"] == 0, fails


def test_a_field_the_profile_declares_as_content_is_no_exposure_and_the_evidence_names_the_detector(tmp_path, tls):
    """The profile page shows the user their own API key: flagged as a credential (the detector and the field
    named in the evidence) until the profile declares it the endpoint's content with allowed_fields."""
    only = ["probes.exposure"]
    doc, _ = _run(tmp_path / "a", tls, {"own_api_key"}, only=only)
    me = next(c for c in doc["checks"] if c["id"] == "probes.exposure" and c["endpoint"].endswith("/users/me"))
    assert me["status"] == "fail"
    assert [(f["path"], f["kind"]) for f in me["evidence"]["unexpected"]] == [("api_key", "api_key_or_secret")]
    with platform({"own_api_key"}, tls) as (app, url, http_port):
        (tmp_path / "b").mkdir()
        target = write_profile(tmp_path / "b", app, url, http_port, tls)
        text = target.read_text()
        marker = 'path = "/api/v1/users/me"\n'
        assert marker in text
        target.write_text(text.replace(marker, marker + 'allowed_fields = ["api_key"]\n', 1))
        doc = run(load_profile(target), only=only)
    me = next(c for c in doc["checks"] if c["id"] == "probes.exposure" and c["endpoint"].endswith("/users/me"))
    assert me["status"] == "pass" and me["evidence"]["allowed_fields"] == ["api_key"]


@pytest.mark.parametrize(("body", "found"), [
    ('{"detail": "syntax error at or near \\"x\\"\\nLINE 11: SELECT id FROM vehicles WHERE vin = \'x\'"}',
     {"postgresql error", "sql statement"}),  # psycopg's wording without "ERROR:", JSON-escaped newlines
    ('{"error": {"message": "invalid input syntax for type integer: \\"abc\\""}}', {"postgresql error"}),
    ('{"detail": "no such vehicle"}', set()),
    ("Traceback (most recent call last):\n  File \"/app/main.py\", line 3", {"python traceback", "server file path"}),
])
def test_error_bodies_are_read_as_the_client_reads_them(body, found):
    from api_probes.error_signatures import disclosures

    assert set(disclosures(body)) == found


def _run_edited(tmp_path, tls, flaws, edits: dict[str, str], only: list[str]):
    """A run whose profile a tester edited (``old -> new`` text replacements of the written TOML)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    with platform(flaws, tls) as (app, url, http_port):
        target = write_profile(tmp_path, app, url, http_port, tls, allow_unsafe=True)
        text = target.read_text()
        for old, new in edits.items():
            assert old in text, old
            text = text.replace(old, new)
        target.write_text(text)
        return run(load_profile(target), allow_unsafe=True, only=only), app


def test_a_refused_undo_keeps_the_verdict_and_the_change_is_listed_as_left_changed(tmp_path, tls):
    """The mass-assignment write succeeds, its undo (a method the profile does not list) is refused by the
    safety rules: the check still fails, and the change is in ``changes`` and the summary's left_changed."""
    doc, app = _run_edited(tmp_path, tls, {"mass_assignment"}, {'revert = {role = "owner"}':
                           'revert = {method = "PUT", body = {role = "owner"}}'}, ["probes.mass_assignment"])
    bad = [c for c in doc["checks"] if c["endpoint"] == "PATCH /api/v1/users/me"]
    assert [c["status"] for c in bad] == ["fail"]
    [change] = [c for c in doc["changes"] if c["request"] == "PATCH /api/v1/users/me"]
    assert change["reverted"] is False and "undo_refused" in change and change["left_changed"]
    assert change in doc["summary"]["left_changed"]  # with the account the registration probe made
    assert app.state.platform.users["u-1001"].role == "admin"  # truly left changed, as reported


def test_a_changed_password_is_restored_and_the_restore_verified_by_logging_in(tmp_path, tls):
    doc, app = _run_edited(tmp_path, tls, {"password_change_other"},
                           {'account_change = {field = "email"': 'account_change = {field = "password"'},
                           ["probes.bola.account_takeover"])
    [c] = [c for c in doc["checks"] if c["id"] == "probes.bola.account_takeover" and "{user_id}" in c["endpoint"]]
    assert c["status"] == "fail"
    [change] = [ch for ch in doc["changes"] if ch["request"].startswith("PATCH")]
    assert change["changed"] is True and change["reverted"] is True and not doc["summary"]["left_changed"]
    assert app.state.platform.users["u-1001"].password == "alice-pass-1"  # alice can log in as before


def test_a_write_the_platform_applies_to_the_caller_changes_no_one_else_and_the_caller_is_restored(tmp_path, tls):
    """The platform ignores the id in PATCH /users/{id} and changes the caller's own password: no takeover (pass),
    but the probe changed its own identity, so that change is recorded, undone and verified by logging in."""
    doc, app = _run_edited(tmp_path, tls, {"id_ignored"},
                           {'account_change = {field = "email"': 'account_change = {field = "password"'},
                           ["probes.bola.account_takeover"])
    [c] = [c for c in doc["checks"] if c["id"] == "probes.bola.account_takeover" and "{user_id}" in c["endpoint"]]
    assert c["status"] == "pass" and c["evidence"]["applied_to_caller"]
    own = [ch for ch in doc["changes"] if ch["account_of"] == ch["as"]]
    assert len(own) == 1 and own[0]["changed"] and own[0]["reverted"] is True and not doc["summary"]["left_changed"]
    assert app.state.platform.users["u-1002"].password == "bob-pass-2"


def test_a_soft_deleted_object_is_judged_gone_by_its_owners_list(tmp_path, tls):
    """B deletes A's note on a platform that only marks it deleted (its read still answers 200): the owner's
    list no longer shows it, which is the effect; the same platform with ownership checked passes."""
    flawed, _ = _run(tmp_path / "f", tls, {"cross_user_write", "soft_delete"}, only=["probes.bola.write"],
                     allow_unsafe=True)
    status = {c["endpoint"]: c["status"] for c in flawed["checks"]}
    assert status["DELETE /api/v1/notes/{note_id}"] == "fail"
    secure, app = _run(tmp_path / "s", tls, {"soft_delete"}, only=["probes.bola.write"], allow_unsafe=True)
    assert {c["status"] for c in secure["checks"]} == {"pass"}
    assert not [n for n in app.state.platform.notes.values() if not n.get("deleted")]  # nothing of the probe's left
