"""The test platform's switchable flaws, its fixed test data and its state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vehicle_ds.evidence.detectors import vin_check_digit

FLAWS = {
    "no_auth_location": "location endpoint answers without any token (NissanConnect 2016)",
    "alg_none": "accepts alg none tokens",
    "no_signature_check": "decodes tokens without verifying the signature",
    "no_exp_check": "accepts expired and not-yet-valid tokens",
    "no_aud_check": "accepts tokens for another audience or issuer",
    "key_confusion": "verifies HS256 tokens with the RSA public key as HMAC secret",
    "trust_jwk": "trusts a key embedded in the token header",
    "trust_jku": "fetches verification keys from the token's jku/x5u URL",
    "kid_traversal": "reads the HMAC key from the file the kid names",
    "psychic": "ECDSA verifier accepts r = s = 0 (CVE-2022-21449)",
    "weak_secret": "signs tokens with HS256 and a dictionary secret",
    "user_enumeration": "login answers 404 'no such user' for an unknown user, 401 for a wrong password",
    "header_disclosure": "X-Powered-By and a versioned Server header",
    "credentials_in_response": "the admin user list returns every user's password and password hash",
    "cross_user_write": "notes can be changed and deleted by any user, not only their owner",
    "password_change_other": "PATCH /users/{id} changes any user's e-mail or password",
    "registration_mass_assignment": "registration stores the role it is sent; the account read nests the user",
    "undocumented_endpoint": "an unlisted debug endpoint dumps the environment without authentication",
    "bfla_write": "any user can delete a service notice, an admin function",
    "common_word_secret": "signs tokens with HS256 and a common English word (only in the large public list)",
    "token_in_query": "accepts the token in the query string",
    "bola": "vehicle endpoints do not check ownership (SiriusXM 2022)",
    "bfla": "admin endpoints do not check the role (Kia dealer portal 2024)",
    "sequential_ids": "trip ids are sequential and trips are not owner-checked",
    "mass_assignment": "profile update stores any field, role included",
    "mass_assignment_hidden": "profile update stores any field and answers with the user nested under data.user; "
                              "the profile read hides the role",
    "exposure": "vehicle details include the owner's phone, ID number and home position",
    "plain_http": "also serves plain HTTP",
    "no_hsts": "no Strict-Transport-Security header",
    "cors": "reflects any Origin with credentials allowed",
    "verbose_errors": "returns stack traces on errors",
    "no_rate_limit": "no rate limiting",
    "bola_query": "the trip-details endpoint (object id in the query string) does not check ownership",
    "db_errors": "database error text and the failing SQL statement in 500 answers",
}

NAME = "Test vehicle platform"  # its asset name in the probe profile and the report
ISSUER = "https://auth.testplatform.invalid"
AUDIENCE = "vehicle-api"
WEAK_SECRET = "changeme"
COMMON_WORD_SECRET = "elephant"


def make_vin(serial: int) -> str:
    base = f"LFV3A23C0N{serial:07d}"
    return base[:8] + vin_check_digit(base) + base[9:]


@dataclass
class User:
    id: str
    username: str
    password: str
    role: str
    name: str
    phone: str
    id_number: str
    home: tuple[float, float]
    email: str = ""


@dataclass
class State:
    flaws: set[str]
    users: dict[str, User] = field(default_factory=dict)
    vehicles: dict[str, dict[str, Any]] = field(default_factory=dict)
    trips: dict[str, dict[str, Any]] = field(default_factory=dict)
    hits: dict[str, list[float]] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # session cookie -> user id
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    notices: dict[str, dict[str, Any]] = field(default_factory=dict)
