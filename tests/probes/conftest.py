from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from api_probes.testplatform import create_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def tls(tmp_path_factory) -> dict[str, Path]:
    """A test CA and a server certificate for 127.0.0.1."""
    d = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vehicle-ds test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return {"ca": d / "ca.pem", "cert": d / "cert.pem", "key": d / "key.pem"}


@contextlib.contextmanager
def _server(app, port: int, tls: dict[str, Path] | None):
    kw = {"ssl_keyfile": str(tls["key"]), "ssl_certfile": str(tls["cert"])} if tls else {}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", **kw))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 15
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def platform(flaws: set[str], tls: dict[str, Path]):
    """The test platform on loopback over TLS (plus plain HTTP when that flaw is on)."""
    app = create_app(flaws)
    port = _free_port()
    http_port = _free_port()
    with contextlib.ExitStack() as stack:
        stack.enter_context(_server(app, port, tls))
        if "plain_http" in flaws:
            stack.enter_context(_server(app, http_port, None))
        yield app, f"https://127.0.0.1:{port}", http_port


def write_profile(tmp: Path, app, base_url: str, http_port: int, tls: dict[str, Path], *, signing: bool = True,
                  allow_unsafe: bool = False, max_requests: int = 800) -> Path:
    st = app.state.platform
    key_line = ""
    if signing:  # a staging environment where the tester holds a signing key
        (tmp / "signing.pem").write_bytes(app.state.private_pem)
        key_line = f'test_signing_key = "{tmp / "signing.pem"}"'
    idents = []
    for uid, user, pw, role in (("u-1001", "alice", "alice-pass-1", "owner"), ("u-1002", "bob", "bob-pass-2", "owner"),
                                ("u-9001", "admin", "admin-pass-9", "admin")):
        vins = [v for v, x in st.vehicles.items() if x["owner"] == uid]
        trips = [t for t, x in st.trips.items() if x["owner"] == uid]
        idents.append(f'''
[[identity]]
name = "{user}"
role = "{role}"
username = "{user}"
password = "{pw}"
owns = {{vin = {vins!r}, trip_id = {trips!r}, user_id = ["{uid}"]}}
'''.replace("'", '"'))
    endpoints = [
        ('GET', '/api/v1/users/me', 'expects = ["identifier", "contact"]'),
        ('GET', '/api/v1/vehicles', 'expects = ["vehicle_identifier"]'),
        ('GET', '/api/v1/vehicles/{vin}', 'objects = {vin = "vin"}\nexpects = ["vehicle_identifier"]'),
        ('GET', '/api/v1/vehicles/{vin}/location', 'objects = {vin = "vin"}\nexpects = ["vehicle_identifier", "location"]'),
        ('GET', '/api/v1/vehicles/{vin}/trips', 'objects = {vin = "vin"}\nexpects = ["vehicle_identifier"]'),
        ('GET', '/api/v1/trips/{trip_id}', 'objects = {trip_id = "trip_id"}\nexpects = ["vehicle_identifier"]'),
        ('GET', '/api/v1/admin/users', 'roles = ["admin"]\nexpects = ["identifier", "contact"]'),
        ('PATCH', '/api/v1/users/me', 'mass_assignment = {read = "/api/v1/users/me", fields = {role = "admin"}}'),
        ('POST', '/api/v1/vehicles/{vin}/commands/unlock', 'objects = {vin = "vin"}'),
    ]
    eps = "".join(f'''
[[endpoint]]
method = "{m}"
path = "{p}"
safe = {"true" if m == "GET" or m == "PATCH" else "false"}
{extra}
''' for m, p, extra in endpoints)
    eps += "".join(f'\n[[endpoint]]\nmethod = "GET"\npath = "/api/v1/info/{n}"\nsafe = true\n' for n in range(1, 22))
    text = f'''
[target]
name = "Test vehicle platform"
base_url = "{base_url}"
allow_hosts = ["127.0.0.1"]
ca_cert = "{tls["ca"]}"
http_port = {http_port}

[jwt]
jwks_url = "/.well-known/jwks.json"
endpoint = "/api/v1/users/me"
{key_line}

[budget]
max_requests = {max_requests}
rate_per_s = 40
time_s = 60
burst = 80

[safety]
allow_unsafe = {"true" if allow_unsafe else "false"}

[login]
path = "/api/v1/login"
method = "POST"
body = {{username = "{{username}}", password = "{{password}}"}}
token_field = "access_token"
{"".join(idents)}
{eps}
'''
    path = tmp / "target.toml"
    path.write_text(text)
    return path
