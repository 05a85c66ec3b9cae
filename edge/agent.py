"""The agent's pipeline: frames -> decode -> classify/handle -> batches on the spool, with counts, and an
auditor that inspects exactly what is encoded for uplink (the proof of what left the vehicle)."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import numpy as np

from .audit import Audit, Evidence, FrameStats, audit_message, run_checks
from .batch import BatchBuilder
from .decode import decode_batch
from .frames import DATA, KIND_NAMES, MALFORMED, FrameChunk
from .handling import Handler, OutMessage
from .plan import MessagePlan, Plan
from .spool import Spool


def _cpu_seconds() -> float:
    """CPU time of this process and its finished workers (parallel replay), user + system."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class Agent:
    def __init__(self, plan: Plan, handler: Handler, builder: BatchBuilder, spool: Spool,
                 batch_records: int = 250_000) -> None:
        self.plan, self.handler, self.builder, self.spool = plan, handler, builder, spool
        self.batch_records = batch_records
        self.frames = FrameStats()
        self.audit = Audit()
        self.batches: list[str] = []
        self.records_out = 0
        self._dropped_total: Counter = Counter()
        self.started = time.perf_counter()
        self.cpu_started = _cpu_seconds()
        self._cabin = {m.name: self._cabin_pairs(m) for m in plan.messages}

    @staticmethod
    def _cabin_pairs(m: MessagePlan) -> tuple[list[str], list[str]] | None:
        status = [s.name for s in m.signals if s.cls.role == "cabin_status"]
        data = [s.name for s in m.signals if s.cls.category in ("cabin", "biometric")]
        return (status, data) if status and data else None

    # -- per chunk --------------------------------------------------------------------------------------
    def process(self, chunk: FrameChunk) -> None:
        fs = self.frames
        n = len(chunk)
        if n == 0:
            return
        fs.total += n
        timed = chunk.t[chunk.kind != MALFORMED]  # a malformed line has no trustworthy timestamp
        if timed.shape[0]:
            fs.t_min = min(fs.t_min, float(timed.min()))
            fs.t_max = max(fs.t_max, float(timed.max()))
        if chunk.malformed_lines and len(fs.malformed_lines) < 20:
            fs.malformed_lines.extend(chunk.malformed_lines[: 20 - len(fs.malformed_lines)])
        is_data = chunk.kind == DATA
        if not is_data.all():
            kinds, counts = np.unique(chunk.kind[~is_data], return_counts=True)
            for k, c in zip(kinds.tolist(), counts.tolist(), strict=True):
                fs.error += c
                fs.error_reasons[KIND_NAMES[k]] += c
        idx = np.flatnonzero(is_data)
        if idx.shape[0] == 0:
            return
        # Group rows by (id, extended) through a small integer key: standard ids are their own key, the
        # few distinct extended ids are numbered after them, and a stable sort of 16-bit keys is a radix sort.
        ids, ext_rows = chunk.can_id[idx], chunk.extended[idx]
        small = ids.astype(np.int64)
        ext_ids = np.unique(ids[ext_rows]) if ext_rows.any() else np.empty(0, dtype=np.uint32)
        if ext_ids.shape[0]:
            small[ext_rows] = 2048 + np.searchsorted(ext_ids, ids[ext_rows])
        small = small.astype(np.uint16 if 2048 + ext_ids.shape[0] < 65536 else np.uint32)
        order = np.argsort(small, kind="stable")
        skey = small[order]
        bounds = np.concatenate(([0], np.flatnonzero(skey[1:] != skey[:-1]) + 1, [skey.shape[0]]))
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            k = int(skey[a])
            can_id, ext = (k, False) if k < 2048 else (int(ext_ids[k - 2048]), True)
            mplan = self.plan.lookup(can_id, ext)
            rows = idx[order[a:b]]
            if mplan is None:
                fs.unknown += b - a
                fs.unknown_ids[(can_id, ext)] += b - a
                continue
            self._message(mplan, chunk, rows)
        if self.builder.rows >= self.batch_records:
            self.flush()

    def _message(self, mplan: MessagePlan, chunk: FrameChunk, rows: np.ndarray) -> None:
        fs = self.frames
        data = chunk.data[rows]
        if data.shape[1] < mplan.length:
            data = np.pad(data, ((0, 0), (0, mplan.length - data.shape[1])))
        lengths = chunk.length[rows]
        fs.decoded += rows.shape[0]
        fs.decoded_by_message[mplan.name] += rows.shape[0]
        fs.truncated += int((lengths < mplan.length).sum())
        fs.oversize += int((lengths > mplan.length).sum())
        cols = decode_batch(mplan, data, lengths)
        pairs = self._cabin.get(mplan.name)
        if pairs:
            status, payload = pairs
            off = np.zeros(rows.shape[0], dtype=bool)
            for s in status:
                c = cols.get(s)
                if c is not None:
                    off |= c.valid & (c.values == 0)
            present = np.zeros(rows.shape[0], dtype=bool)
            for s in payload:
                c = cols.get(s)
                if c is not None:
                    present |= c.valid & (c.values != 0)
            hits = int((off & present).sum())
            if hits:
                fs.cabin_on_while_off[mplan.name] += hits
        out = self.handler.apply(mplan, chunk.t[rows], cols)
        if out is not None:
            self._audit(mplan, out)
            self.builder.add(out)

    def _audit(self, mplan: MessagePlan, out: OutMessage) -> None:
        audit_message(self.audit, mplan, out, self.handler.location_decimals or 0)

    def flush(self) -> None:
        st = self.handler.stats
        dropped = dict(st.dropped)
        st.dropped.clear()
        if self.builder.rows == 0 and not self.handler.aggregates and not dropped:
            return
        records = self.builder.rows
        batch_id, body, _ = self.builder.encode(self.handler.take_aggregates(), dropped)
        self.spool.put(batch_id, body)
        self.batches.append(batch_id)
        self.records_out += records
        self._dropped_total.update(dropped)

    # -- merging (parallel replay) -----------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything a worker counted, to be merged into the parent's agent."""
        return {"frames": self.frames, "audit": self.audit, "handling": self.handler.stats,
                "batches": self.batches, "records_out": self.records_out, "dropped": self._dropped_total,
                "spool": self.spool.stats}

    def merge(self, st: dict[str, Any], line_base: int = 0) -> None:
        self.frames.merge(st["frames"], line_base)
        self.audit.merge(st["audit"])
        h, g = self.handler.stats, st["handling"]
        for k in ("by_category", "by_handling", "dropped", "drop_reasons"):
            getattr(h, k).update(getattr(g, k))
        self.batches.extend(st["batches"])
        self.records_out += st["records_out"]
        self._dropped_total.update(st["dropped"])
        sp, q = self.spool.stats, st["spool"]
        for k in ("written", "bytes_written", "evicted", "bytes_evicted"):
            setattr(sp, k, getattr(sp, k) + getattr(q, k))

    # -- results ----------------------------------------------------------------------------------------
    def evidence(self) -> Evidence:
        sp = self.spool.stats
        return Evidence(self.plan, self.frames, self.audit, self.handler.location_decimals,
                        self.handler.location_purposes, frozenset(n for n, p in self._cabin.items() if p),
                        sp.written, sp.evicted, sp.bytes_evicted)

    def checks(self) -> list[dict[str, Any]]:
        return run_checks(self.evidence())

    def summary(self) -> dict[str, Any]:
        fs, st = self.frames, self.handler.stats
        wall = time.perf_counter() - self.started
        cpu = _cpu_seconds() - self.cpu_started
        span = fs.t_max - fs.t_min if fs.t_max >= fs.t_min else None  # no timestamped frame: unknown, not -inf
        return {
            "frames_total": fs.total, "frames_decoded": fs.decoded, "frames_unknown": fs.unknown,
            "frames_error": fs.error, "frames_truncated": fs.truncated, "frames_error_reasons": dict(fs.error_reasons),
            "signals_by_category": dict(st.by_category), "signals_by_handling": dict(st.by_handling),
            "dropped_by_reason": dict(st.drop_reasons), "dropped_by_signal": dict(self._dropped_total.most_common(50)),
            "unknown_ids": [{"id": f"0x{c:X}", "extended": e, "frames": n} for (c, e), n in fs.unknown_ids.most_common(20)],
            "rates": {"log_seconds": None if span is None else round(span, 3),
                      "frames_per_s_log": round(fs.total / span, 1) if span else None,
                      "processing_frames_per_s": round(fs.total / wall) if wall > 0 else None,
                      "cpu_us_per_frame": round(cpu / fs.total * 1e6, 3) if fs.total else None},
            "uplink": {"batches": len(self.batches), "records": self.records_out,
                       "bytes": self.spool.stats.bytes_written, "batches_evicted": self.spool.stats.evicted},
            "policy": self.plan.policy.header(),
            "warnings": [] if fs.decoded else ["no frame could be decoded: every check is not_assessed"],
            "pseudonym_key_id": self.builder.key_id,
        }
