"""The test platform's switchable flaws, its fixed test data and its state."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field, fields
from typing import Any

from vehicle_ds.evidence.detectors import vin_check_digit


def _flaw(description: str) -> Any:
    return field(default=False, metadata={"description": description})


def _quirk(description: str) -> Any:
    """A behaviour real platforms have that is no flaw the probes should report as one (a 200 for a failed
    login, tokens without iss/aud), or a flaw that hides the others (a default user): never on in "all"."""
    return field(default=False, metadata={"description": description, "quirk": True})


@dataclass(frozen=True)
class Flaws:
    """Which known failures the platform has: each field switches on one (the incidents of
    api_probes.md §4). All off is the secure configuration, which the probes must find nothing in."""

    no_auth_location: bool = _flaw("location endpoint answers without any token (NissanConnect 2016)")
    alg_none: bool = _flaw("accepts alg none tokens")
    no_signature_check: bool = _flaw("decodes tokens without verifying the signature")
    no_exp_check: bool = _flaw("accepts expired and not-yet-valid tokens")
    no_aud_check: bool = _flaw("accepts tokens for another audience or issuer")
    key_confusion: bool = _flaw("verifies HS256 tokens with the RSA public key as HMAC secret")
    trust_jwk: bool = _flaw("trusts a key embedded in the token header")
    trust_jku: bool = _flaw("fetches verification keys from the token's jku/x5u URL")
    kid_traversal: bool = _flaw("reads the HMAC key from the file the kid names")
    psychic: bool = _flaw("ECDSA verifier accepts r = s = 0 (CVE-2022-21449)")
    weak_secret: bool = _flaw("signs tokens with HS256 and a dictionary secret")
    user_enumeration: bool = _flaw("login answers 404 'no such user' for an unknown user, 401 for a wrong password")
    header_disclosure: bool = _flaw("X-Powered-By and a versioned Server header")
    credentials_in_response: bool = _flaw("the admin user list returns every user's password and password hash")
    cross_user_write: bool = _flaw("notes can be changed and deleted by any user, not only their owner")
    password_change_other: bool = _flaw("PATCH /users/{id} changes any user's e-mail or password")
    registration_mass_assignment: bool = _flaw("registration stores the role it is sent; the account read nests the user")
    undocumented_endpoint: bool = _flaw("an unlisted debug endpoint dumps the environment without authentication")
    bfla_write: bool = _flaw("any user can delete a service notice, an admin function")
    common_word_secret: bool = _flaw("signs tokens with HS256 and a common English word (only in the large public list)")
    token_in_query: bool = _flaw("accepts the token in the query string")
    bola: bool = _flaw("vehicle endpoints do not check ownership (SiriusXM 2022)")
    bfla: bool = _flaw("admin endpoints do not check the role (Kia dealer portal 2024)")
    sequential_ids: bool = _flaw("trip ids are sequential and trips are not owner-checked")
    mass_assignment: bool = _flaw("profile update stores any field, role included")
    mass_assignment_hidden: bool = _flaw("profile update stores any field and answers with the user nested under "
                                  "data.user; the profile read hides the role")
    exposure: bool = _flaw("vehicle details include the owner's phone, ID number and home position")
    plain_http: bool = _flaw("also serves plain HTTP")
    no_hsts: bool = _flaw("no Strict-Transport-Security header")
    cors: bool = _flaw("reflects any Origin with credentials allowed")
    verbose_errors: bool = _flaw("returns stack traces on errors")
    no_rate_limit: bool = _flaw("no rate limiting")
    bola_query: bool = _flaw("the trip-details endpoint (object id in the query string) does not check ownership")
    db_errors: bool = _flaw("database error text and the failing SQL statement in 500 answers")
    body_id_write: bool = _flaw("PUT /notes changes the note whose id is in the body, whoever owns it")
    login_in_query: bool = _flaw("the login also takes the username and password in the query string")
    fat_token: bool = _flaw("access tokens live 30 days and carry the owner's phone number and e-mail")
    billing_exposure: bool = _flaw("the billing page returns the full card number, its CVV, the billing address and "
                                   "the platform's cloud access keys")
    logout_ignored: bool = _flaw("logout answers 204 but the token and the session cookie keep working")
    vehicle_mass_assignment: bool = _flaw("renaming a car also stores the paid service plan the body names")
    account_in_body: bool = _flaw("PUT /profile changes the account its body names, not the caller's")
    reset_enumeration: bool = _flaw("password reset answers 404 for an unknown user")
    reset_code_returned: bool = _flaw("the reset answer carries the code, and a code resets whichever account is "
                                      "named")
    reset_code_guessable: bool = _flaw("reset codes are four digits and wrong codes are never limited")
    default_user: bool = _quirk("a request without credentials, or with a token it cannot read, acts as the first "
                                "owner (a development default left on): token attacks prove nothing there")
    login_200: bool = _quirk("a failed login answers 200 with ok false, a timestamp and a request id")
    plain_claims: bool = _quirk("tokens carry no iss or aud, and none is checked")
    id_ignored: bool = _quirk("PATCH /users/{id} ignores the id and changes the caller's own record (no flaw: a "
                              "probe that sends it changes its own identity and must restore it)")
    soft_delete: bool = _quirk("a deleted note is only marked deleted: its read still answers 200, the owner's list "
                               "drops it (a second delete removes it)")
    own_api_key: bool = _quirk("the caller's profile shows their own API key (the page's function: content, "
                               "declared with allowed_fields)")

    @classmethod
    def of(cls, names: set[str] | frozenset[str] | None) -> Flaws:
        """The flaws named; an unknown name is an error, never a flaw silently off."""
        names = set(names or ())
        unknown = names - set(FLAWS) - set(QUIRKS)
        if unknown:
            raise ValueError(f"unknown flaw(s): {', '.join(sorted(unknown))}")
        return cls(**dict.fromkeys(names, True))

    def on(self) -> set[str]:
        return {f.name for f in fields(self) if getattr(self, f.name)}


FLAWS = {f.name: f.metadata["description"] for f in fields(Flaws) if not f.metadata.get("quirk")}  # name -> what
QUIRKS = {f.name: f.metadata["description"] for f in fields(Flaws) if f.metadata.get("quirk")}

NAME = "Test vehicle platform"  # its asset name in the probe profile and the report
ISSUER = "https://auth.testplatform.invalid"
AUDIENCE = "vehicle-api"
WEAK_SECRET = "changeme"
COMMON_WORD_SECRET = "elephant"
CLOUD_KEYS = {"AccessKeyId": "AKIAPROBETESTKEY0001", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPROBEKEY1"}


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
    card: str = ""  # a payment card (test numbers, Luhn-valid)
    cvv: str = ""
    address: str = ""


@dataclass
class State:
    flaws: Flaws
    users: dict[str, User] = field(default_factory=dict)
    vehicles: dict[str, dict[str, Any]] = field(default_factory=dict)
    trips: dict[str, dict[str, Any]] = field(default_factory=dict)
    hits: dict[str, list[float]] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # session cookie -> user id
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    notices: dict[str, dict[str, Any]] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)  # tokens logged out
    resets: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> pending code, wrong attempts


def seed(flaws: Flaws) -> State:
    """The fixed test data: two owners and an admin, a car each for the owners, three trips per car."""
    st = State(flaws)
    users = [
        User("u-1001", "alice", "alice-pass-1", "owner", "Zhang Wei", "13812345678", "110101199003074573",
             (39.9087243, 116.3974771), card="4111 1111 1111 1111", cvv="8426", address="北京市东城区东长安街1号101室"),
        User("u-1002", "bob", "bob-pass-2", "owner", "Li Na", "13987654321", "310101198807126546",
             (31.2304161, 121.4737012), card="5555 5555 5555 4444", cvv="5173", address="221B Baker Street"),
        User("u-9001", "admin", "admin-pass-9", "admin", "Ops Admin", "13700000000", "440301198001019872",
             (22.5431, 114.0579)),
    ]
    st.users = {u.id: u for u in users}
    st.vehicles = {
        make_vin(1001): {"owner": "u-1001", "model": "EV-S", "nickname": "Alice's car", "plate": "京A·12345",
                         "position": (39.9151234, 116.4039876), "plan": "basic"},
        make_vin(1002): {"owner": "u-1002", "model": "EV-X", "nickname": "Bob's car", "plate": "沪B·67890",
                         "position": (31.2243567, 121.4691234), "plan": "basic"},
    }
    counter = itertools.count(5001)
    for vin, v in st.vehicles.items():
        for _ in range(3):
            tid = str(next(counter)) if flaws.sequential_ids else secrets.token_hex(8)
            st.trips[tid] = {"id": tid, "vin": vin, "owner": v["owner"], "km": 12.5,
                             "start": v["position"], "end": (v["position"][0] + 0.01, v["position"][1] + 0.01)}
    return st
