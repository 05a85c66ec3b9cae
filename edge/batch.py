"""Writing uplink batches (the format itself is defined in ``vehicle_ds.uplink_format``).

One batch holds, per message, the timestamps and one column per signal that may leave the vehicle, as
raw little-endian arrays (not one JSON object per frame), plus aggregates and the proof of what was held
back (counts of dropped values per signal). Schema ``vehicle-ds/uplink@1``."""

from __future__ import annotations

import time
import uuid
from typing import Any

import msgpack
import numpy as np

from vehicle_ds.uplink_format import MAGIC, SCHEMA, decode_batch_bytes, records

from . import deflate
from .handling import OutMessage

__all__ = ["MAGIC", "SCHEMA", "SEQ_BITS", "BatchBuilder", "decode_batch_bytes", "records"]

# A batch's ``seq`` when several workers write for one device: the worker's or task's number above these
# bits, the batch's number within it below, so no two batches of a replay share a seq.
SEQ_BITS = 32


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
        return batch_id, MAGIC + deflate.compress(msgpack.packb(doc, use_bin_type=True)), records


def rekey(body: bytes) -> tuple[str, bytes]:
    """The same batch under a fresh id (the hub answered that its id is taken by another device)."""
    doc = decode_batch_bytes(body)
    doc["batch_id"] = uuid.uuid4().hex
    return doc["batch_id"], MAGIC + deflate.compress(msgpack.packb(doc, use_bin_type=True))
