"""A replay's output folder: one run per folder, and what an interrupted run leaves to resume from.

A replay refuses a folder that is not empty (two runs' batches mixed would be uploaded and inspected as
one); ``--force`` clears what a replay writes (and nothing else), ``--resume`` continues a run that was
interrupted. The resume state is the agent's counts pickled and authenticated with a key derived from the
device's pseudonymisation key, so a state file from elsewhere is refused rather than unpickled.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import pickle
import shutil
import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vehicle_ds.errors import InputError

RESUME_FILE = "resume.state"
OWN = {"results.json", "batches", RESUME_FILE}


def prepare(out: Path, *, force: bool, resume: bool) -> None:
    if force and resume:
        raise InputError("--force and --resume exclude each other")
    if not out.exists() or not any(out.iterdir()):
        if resume:
            raise InputError("nothing to resume: the output folder is empty", path=str(out))
        return
    if resume:
        return
    foreign = sorted(p.name for p in out.iterdir() if p.name not in OWN)
    if not force:
        raise InputError("output folder is not empty (a previous replay?): --force clears it, --resume continues "
                         "an interrupted replay", path=str(out))
    if foreign:
        raise InputError(f"--force clears only what a replay writes, and this folder holds other files too "
                         f"({', '.join(foreign[:5])}); choose an empty folder", path=str(out))
    for name in OWN:
        p = out / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def _mac(key: bytes, blob: bytes) -> bytes:
    return hmac.new(key, b"vehicle-ds/resume\x00" + blob, hashlib.sha256).digest()


def save_state(out: Path, key: bytes, state: dict[str, Any]) -> None:
    blob = pickle.dumps(state)
    tmp = out / (RESUME_FILE + ".tmp")
    tmp.write_bytes(_mac(key, blob) + blob)
    tmp.replace(out / RESUME_FILE)


def load_state(out: Path, key: bytes, log_sha256: str) -> dict[str, Any]:
    results = out / "results.json"
    try:
        doc = json.loads(results.read_text("utf-8"))
    except (OSError, ValueError):
        raise InputError("nothing to resume: no readable results.json", path=str(out)) from None
    if not doc.get("summary", {}).get("interrupted"):
        raise InputError("nothing to resume: the replay in this folder finished (use --force to replay again)",
                         path=str(out))
    try:
        raw = (out / RESUME_FILE).read_bytes()
    except OSError:
        raise InputError(f"nothing to resume: {RESUME_FILE} is missing", path=str(out)) from None
    mac, blob = raw[:32], raw[32:]
    if not hmac.compare_digest(mac, _mac(key, blob)):
        raise InputError(f"{RESUME_FILE} was not written with this device's key; refusing to load it", path=str(out))
    state = pickle.loads(blob)  # authenticated above: written by this device's agent
    if state["log_sha256"] != log_sha256:
        raise InputError("the interrupted replay in this folder was of another log", path=str(out))
    return state


def clear_state(out: Path) -> None:
    (out / RESUME_FILE).unlink(missing_ok=True)


@contextmanager
def interrupt_flag():
    """Ctrl-C (SIGINT) and SIGTERM set an event instead of raising: the replay stops after the chunk (or
    parallel range) in hand, so its counts stay exact and results.json says what was done."""
    stop = threading.Event()
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for s in old:
            signal.signal(s, lambda *_: stop.set())
    except ValueError:  # not the main thread: no handler, nothing to restore
        old = {}
    try:
        yield stop
    finally:
        for s, h in old.items():
            signal.signal(s, h)
