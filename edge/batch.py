"""Uplink batches: compact, columnar, self-describing (msgpack, then zlib).

One batch holds, per message, the timestamps and one column per signal that may leave the vehicle, as
raw little-endian arrays (not one JSON object per frame), plus aggregates and the proof of what was held
back (counts of dropped values per signal). Schema ``vehicle-ds/uplink@1``."""

from __future__ import annotations

import time
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import msgpack
import numpy as np

from .handling import OutMessage

SCHEMA = "vehicle-ds/uplink@1"
MAGIC = b"VDSB1"


def _pack_column(values: np.ndarray, valid: np.ndarray) -> dict[str, Any]:
    col: dict[str, Any]
    if values.dtype == object:
        col = {"enc": "str", "data": [None if not ok else str(v) for v, ok in zip(values.tolist(), valid.tolist(),
                                                                                  strict=True)]}
        return col
    arr = np.ascontiguousarray(values)
    col = {"enc": "array", "dtype": arr.dtype.newbyteorder("<").str, "data": arr.astype(arr.dtype.newbyteorder("<")).tobytes()}
    if not valid.all():
        col["valid"] = np.packbits(valid).tobytes()
    return col


def _unpack_column(col: dict[str, Any], n: int) -> tuple[list[Any], list[bool]]:
    if col["enc"] == "str":
        data = col["data"]
        return data, [v is not None for v in data]
    values = np.frombuffer(col["data"], dtype=np.dtype(col["dtype"]))
    valid = np.unpackbits(np.frombuffer(col["valid"], dtype=np.uint8))[:n].astype(bool) if "valid" in col \
        else np.ones(n, dtype=bool)
    return values.tolist(), valid.tolist()


class BatchBuilder:
    """Accumulates :class:`OutMessage` s; ``encode`` produces one batch file body."""

    def __init__(self, device: str, policy_sha256: str, key_id: str) -> None:
        self.device, self.policy_sha256, self.key_id = device, policy_sha256, key_id
        self.seq = 0
        self._reset()

    def _reset(self) -> None:
        self.messages: dict[str, list[OutMessage]] = {}
        self.rows = 0

    def add(self, out: OutMessage) -> None:
        self.messages.setdefault(out.name, []).append(out)
        self.rows += int(out.t.shape[0])

    def encode(self, aggregates: dict[str, Any], dropped: dict[str, int]) -> tuple[str, bytes, int]:
        """(batch id, bytes, records) — and start a new batch."""
        body: dict[str, Any] = {}
        for name, parts in self.messages.items():
            t = np.concatenate([p.t for p in parts])
            names = list(dict.fromkeys(k for p in parts for k in p.columns))
            cols = {}
            for k in names:
                vals, valid = [], []
                for p in parts:
                    n = p.t.shape[0]
                    if k in p.columns:
                        vals.append(p.columns[k][0])
                        valid.append(p.columns[k][1])
                    else:
                        vals.append(np.zeros(n, dtype=np.asarray(next(q.columns[k][0] for q in parts if k in q.columns)).dtype))
                        valid.append(np.zeros(n, dtype=bool))
                cols[k] = _pack_column(np.concatenate(vals), np.concatenate(valid))
            body[name] = {"n": int(t.shape[0]), "t": t.astype("<f8").tobytes(), "signals": cols}
        batch_id = uuid.uuid4().hex
        doc = {"schema": SCHEMA, "batch_id": batch_id, "device": self.device, "seq": self.seq,
               "created": time.time(), "policy_sha256": self.policy_sha256, "key_id": self.key_id,
               "messages": body, "aggregates": aggregates, "dropped": dropped}
        records = self.rows
        self.seq += 1
        self._reset()
        return batch_id, MAGIC + zlib.compress(msgpack.packb(doc, use_bin_type=True), 1), records


def decode_batch_bytes(raw: bytes) -> dict[str, Any]:
    if not raw.startswith(MAGIC):
        raise ValueError("not a vehicle-ds uplink batch")
    return msgpack.unpackb(zlib.decompress(raw[len(MAGIC):]), raw=False, strict_map_key=False)


def records(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every outbound record of a batch: ``{"t", "message", "signals"}`` with only the values present."""
    for name, m in doc["messages"].items():
        n = m["n"]
        t = np.frombuffer(m["t"], dtype="<f8").tolist()
        cols = {k: _unpack_column(c, n) for k, c in m["signals"].items()}
        for i in range(n):
            sigs = {k: vals[i] for k, (vals, valid) in cols.items() if valid[i]}
            if sigs:
                yield {"t": t[i], "message": name, "signals": sigs}
