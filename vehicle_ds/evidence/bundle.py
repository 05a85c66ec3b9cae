"""Evidence you can hand over: a folder with the inputs, the policy text and the report files, and a manifest
listing every file with its sha256, the tool version and git commit, the run's settings, the operator and
host as declared, signed with Ed25519 (``vehicle-ds keygen`` makes the key; the private key never goes into
a bundle). ``vehicle-ds verify`` checks the signature and every file, and names any file that changed,
went missing or was added."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

from ..errors import InputError

MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
SCHEMA = "vehicle-ds/bundle@1"


def keygen(path: Path) -> Path:
    """An Ed25519 key pair: ``path`` (private, 0600, PKCS#8 PEM) and ``path.pub`` (public, PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if path.exists():
        raise InputError("refusing to overwrite an existing key", path=str(path))
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    pub = path.with_name(path.name + ".pub")
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    return pub


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _secret(p: Path, key: Path) -> bool:
    """A private key, a pseudonymisation key or device credentials: never copied into a bundle."""
    if p.resolve() == key.resolve() or p.suffix == ".key" or p.name in ("device.json", "pseudonym.key"):
        return True
    with open(p, "rb") as f:
        return b"PRIVATE KEY" in f.read(8192)


def _load_private(key: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        k = serialization.load_pem_private_key(key.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable private key: {exc}", path=str(key)) from None
    if not isinstance(k, Ed25519PrivateKey):
        raise InputError("the signing key must be Ed25519 (vehicle-ds keygen)", path=str(key))
    return k


def bundle(inputs: list[Path], out: Path, key: Path, *, operator: str = "", settings: dict[str, Any] | None = None,
           policy: Path | None = None) -> dict[str, Any]:
    """Copy ``inputs`` (files or folders) into ``out/files`` and write the signed manifest."""
    from cryptography.hazmat.primitives import serialization

    from .. import __version__
    from ..policy import load_policy

    sk = _load_private(key)
    if out.exists() and any(out.iterdir()):
        raise InputError("bundle folder is not empty", path=str(out))
    files_dir = out / "files"
    files_dir.mkdir(parents=True)
    entries = []
    for src in inputs:
        if not src.exists():
            raise InputError("no such file or folder", path=str(src))
        items = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())
        for p in items:
            if _secret(p, key):
                raise InputError("refusing to bundle a private key or a secret", path=str(p))
            rel = Path(src.name) / p.relative_to(src) if src.is_dir() else Path(p.name)
            dest = files_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, dest)
            entries.append({"path": str(Path("files") / rel), "sha256": _sha256(dest), "bytes": dest.stat().st_size})
    pol = load_policy(policy)
    policy_text = policy.read_text("utf-8") if policy else None
    manifest = {
        "schema": SCHEMA, "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "tool": {"name": "vehicle-ds", "version": __version__, "git_commit": _git_commit()},
        "operator": operator, "host": socket.gethostname(), "settings": settings or {},
        "policy": {**pol.header(), "text": policy_text, "source": str(policy) if policy else "default"},
        "files": entries,
        "public_key": base64.b64encode(sk.public_key().public_bytes(serialization.Encoding.Raw,
                                                                    serialization.PublicFormat.Raw)).decode(),
    }
    raw = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    (out / MANIFEST).write_bytes(raw)
    (out / SIGNATURE).write_text(base64.b64encode(sk.sign(raw)).decode() + "\n")
    return manifest


def verify(folder: Path, public_key: Path | None = None) -> list[str]:
    """Problems found (empty: the bundle is intact and signed by the key). Without ``public_key`` the key in
    the manifest is used: that proves integrity, not who signed; pass the signer's .pub to prove both."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        raw = (folder / MANIFEST).read_bytes()
        sig = base64.b64decode((folder / SIGNATURE).read_text().strip())
        manifest = json.loads(raw)
    except (OSError, ValueError) as exc:
        return [f"cannot read the manifest or its signature: {exc}"]
    problems = []
    embedded = Ed25519PublicKey.from_public_bytes(base64.b64decode(manifest.get("public_key", "")))
    if public_key is not None:
        pk = serialization.load_pem_public_key(public_key.read_bytes())
        if pk.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) != base64.b64decode(
                manifest.get("public_key", "")):
            problems.append("the manifest was not signed with the given public key")
        embedded = pk
    try:
        embedded.verify(sig, raw)
    except InvalidSignature:
        problems.append(f"{MANIFEST}: the signature does not match (the manifest was changed)")
    listed = {e["path"]: e for e in manifest.get("files", [])}
    for rel, e in listed.items():
        p = folder / rel
        if not p.is_file():
            problems.append(f"{rel}: missing")
        elif _sha256(p) != e["sha256"]:
            problems.append(f"{rel}: changed (sha256 differs from the manifest)")
    present = {str(p.relative_to(folder)) for p in (folder / "files").rglob("*") if p.is_file()} \
        if (folder / "files").is_dir() else set()
    for extra in sorted(present - set(listed)):
        problems.append(f"{extra}: not in the manifest (added after signing)")
    return problems
