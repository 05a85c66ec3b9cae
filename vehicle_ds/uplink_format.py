"""The uplink batch format (schema ``vehicle-ds/uplink@1``), shared by the edge agent that writes it
and the hub that stores it: ``MAGIC`` + zlib(msgpack(document)). Per message, ``t`` is little-endian
float64 seconds and each signal a column (``array``: raw little-endian values, optional ``valid``
bitmap; ``str``: a list with None where absent)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from typing import Any

SCHEMA = "vehicle-ds/uplink@1"
MAGIC = b"VDSB1"


class BatchFormatError(ValueError):
    """Bytes that are not a readable uplink batch."""


def decode_batch_bytes(raw: bytes, max_inflated: int = 256 * 1024 * 1024) -> dict[str, Any]:
    import msgpack

    if not raw.startswith(MAGIC):
        raise BatchFormatError("not a vehicle-ds uplink batch (bad magic)")
    try:
        d = zlib.decompressobj()
        body = d.decompress(raw[len(MAGIC):], max_inflated)
        if d.unconsumed_tail:
            raise BatchFormatError("batch inflates beyond the size limit")
        doc = msgpack.unpackb(body, raw=False, strict_map_key=False)
    except (zlib.error, ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise BatchFormatError(f"corrupt batch: {exc}") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise BatchFormatError(f"not a {SCHEMA} document")
    for key in ("batch_id", "device", "messages"):
        if key not in doc:
            raise BatchFormatError(f"batch has no {key!r}")
    if not isinstance(doc["messages"], dict):
        raise BatchFormatError("messages must be a map")
    return doc


def _unpack_column(col: dict[str, Any], n: int) -> tuple[list[Any], list[bool]]:
    import numpy as np

    if col["enc"] == "str":
        data = col["data"]
        return data, [v is not None for v in data]
    values = np.frombuffer(col["data"], dtype=np.dtype(col["dtype"]))
    valid = np.unpackbits(np.frombuffer(col["valid"], dtype=np.uint8))[:n].astype(bool) if "valid" in col \
        else np.ones(n, dtype=bool)
    return values.tolist(), valid.tolist()


def records(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every outbound record of a batch: ``{"t", "message", "signals"}`` with only the values present."""
    import numpy as np

    for name, m in doc["messages"].items():
        n = m["n"]
        t = np.frombuffer(m["t"], dtype="<f8").tolist()
        cols = {k: _unpack_column(c, n) for k, c in m["signals"].items()}
        for i in range(n):
            sigs = {k: vals[i] for k, (vals, valid) in cols.items() if valid[i]}
            if sigs:
                yield {"t": t[i], "message": name, "signals": sigs}


BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
MAX_ROWS = 10_000_000


def summarize(doc: dict[str, Any]) -> dict[str, Any]:
    """Per message: rows and signal names (what the hub indexes). Checks the shape strictly, so a malformed
    batch is a :class:`BatchFormatError` (a 422), never an exception deeper down."""
    if not isinstance(doc.get("batch_id"), str) or not BATCH_ID.match(doc["batch_id"]):
        raise BatchFormatError("batch_id must be 1-64 characters of A-Z a-z 0-9 . _ : - (not starting with . _ : -)")
    if not isinstance(doc.get("device"), str):
        raise BatchFormatError("device must be a string")
    out: dict[str, Any] = {}
    for name, m in doc["messages"].items():
        if not isinstance(name, str) or not 0 < len(name) <= 128 or "\x00" in name:
            raise BatchFormatError("message names are strings of 1-128 characters")
        if not isinstance(m, dict):
            raise BatchFormatError(f"message {name[:40]!r} must be a map")
        n, sigs = m.get("n"), m.get("signals", {})
        if type(n) is not int or not 0 <= n <= MAX_ROWS:
            raise BatchFormatError(f"message {name[:40]!r}: n must be an integer 0-{MAX_ROWS}")
        if not isinstance(sigs, dict) or not all(isinstance(k, str) and 0 < len(k) <= 128 and "\x00" not in k and
                                                 isinstance(v, dict) for k, v in sigs.items()):
            raise BatchFormatError(f"message {name[:40]!r}: signals must map names to columns")
        if not isinstance(m.get("t", b""), bytes) or len(m.get("t", b"")) != 8 * n:
            raise BatchFormatError(f"message {name[:40]!r}: t must hold n float64 timestamps")
        out[name] = {"rows": n, "signals": sorted(sigs)}
    return out
