"""Serving the test platform on loopback over TLS, for the tests and the demo."""

from __future__ import annotations

import contextlib
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from .app import create_app
from .model import FLAWS


def make_tls(directory: Path) -> dict[str, Path]:
    """A throwaway test CA and a server certificate for 127.0.0.1 (loopback only)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
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
def platform(flaws: set[str], tls: dict[str, Path], identity_claim: str = "sub", token_ttl: int = 900):
    """The test platform on loopback over TLS (plus plain HTTP when that flaw is on)."""
    from vehicle_ds.hub.serve import free_port, serve_in_thread

    app = create_app(flaws, identity_claim, token_ttl)
    port = free_port()
    http_port = free_port()
    with contextlib.ExitStack() as stack:
        stack.enter_context(serve_in_thread(app, port, tls))
        if "plain_http" in flaws:
            stack.enter_context(serve_in_thread(app, http_port, None))
        yield app, f"https://127.0.0.1:{port}", http_port


def main() -> None:  # pragma: no cover - manual use
    import argparse

    import uvicorn

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--flaws", default="", help="comma list, 'all' or empty for the secure configuration")
    ap.add_argument("--port", type=int, default=8800)
    args = ap.parse_args()
    flaws = set(FLAWS) if args.flaws == "all" else {f for f in args.flaws.split(",") if f}
    uvicorn.run(create_app(flaws), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":  # pragma: no cover
    main()
