"""The password-reset probes on the test platform: enumeration through the reset answer, and takeover
through a code that is handed back, usable for another account or short and unthrottled. Every
confirmation sets the password the account already has, so nothing is left changed but the pending codes."""

from __future__ import annotations

import json
import re

import pytest

from api_probes.checks.reset import MIN_CODE_BITS, code_space
from tests.probes.conftest import run_platform as _run

RESET = ["probes.auth.reset_enumeration", "probes.auth.reset_code"]


@pytest.mark.parametrize(("fmt", "bits", "guessable", "length"), [
    (r"\d{4}", 13.3, True, 4), (r"\d{6}", 19.9, False, 6), (r"[A-Z0-9]{8}", 41.4, False, 8), (r"\d\d\d", 10.0, True, 3)])
def test_code_space_reads_the_declared_format(fmt, bits, guessable, length):
    space = code_space(fmt)
    assert space is not None and round(space[0], 1) == bits and (space[0] < MIN_CODE_BITS) is guessable
    assert len(space[1]) == length  # one alphabet per position: the wrong codes sent have the format


def test_an_unreadable_code_format_is_not_judged():
    assert code_space("PIN-\\d{4}") is None and code_space("(a|b)+") is None


def test_secure_reset_is_judged_by_the_lockout_it_meets(tmp_path, tls):
    doc, app = _run(tmp_path, tls, set(), only=RESET, allow_unsafe=True)
    status = {c["id"]: c for c in doc["checks"]}
    assert status["probes.auth.reset_enumeration"]["status"] == "pass"
    code = status["probes.auth.reset_code"]
    assert code["status"] == "pass", code
    assert code["evidence"]["wrong_codes"]["throttled_after"] == 5  # the platform's limit, seen as a 429
    assert code["evidence"]["password_still_works"] is True
    assert app.state.platform.users["u-1001"].password == "alice-pass-1"
    left = doc["summary"]["left_changed"]
    assert left and all(c["fields"] == ["reset code"] for c in left)  # only the pending codes, each said


def test_a_returned_code_is_a_takeover_and_never_appears_in_clear(tmp_path, tls):
    doc, app = _run(tmp_path, tls, {"reset_code_returned"}, only=RESET, allow_unsafe=True)
    code = next(c for c in doc["checks"] if c["id"] == "probes.auth.reset_code")
    assert code["status"] == "fail"
    assert any("carries the code" in p for p in code["evidence"]["problems"])
    assert any("not bound" in p for p in code["evidence"]["problems"])
    text = json.dumps(doc)
    assert re.search(r'reset_code\\?": \\?"\*\*\*', text) and not re.search(r'reset_code\\?": \\?"\d{8}', text)
    assert app.state.platform.users["u-1001"].password == "alice-pass-1"  # its own password, set again


def test_a_four_digit_unthrottled_code_fails_and_an_eight_digit_unthrottled_one_is_for_review(tmp_path, tls):
    doc, _ = _run(tmp_path, tls, {"reset_code_guessable"}, only=["probes.auth.reset_code"], allow_unsafe=True)
    code = doc["checks"][0]
    assert code["status"] == "fail" and code["evidence"]["code_bits"] == 13.3
    assert code["evidence"]["wrong_codes"] == {"sent": 19, "statuses": [400], "throttled": False, "accepted": False}
