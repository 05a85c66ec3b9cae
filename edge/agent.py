"""The agent's pipeline: frames -> decode -> classify/handle -> batches on the spool, with counts, and an
auditor that inspects exactly what is encoded for uplink (the proof of what left the vehicle)."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vehicle_ds.results import check

from .batch import BatchBuilder
from .decode import decode_batch
from .frames import DATA, KIND_NAMES, MALFORMED, FrameChunk
from .handling import Handler, OutMessage
from .plan import MessagePlan, Plan
from .spool import Spool

VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
NEVER_OUT_CATEGORIES = {"cabin", "biometric", "security"}


@dataclass
class FrameStats:
    total: int = 0
    decoded: int = 0
    unknown: int = 0
    error: int = 0
    truncated: int = 0
    oversize: int = 0
    error_reasons: Counter = field(default_factory=Counter)
    unknown_ids: Counter = field(default_factory=Counter)
    malformed_lines: list[int] = field(default_factory=list)
    cabin_on_while_off: Counter = field(default_factory=Counter)
    t_min: float = float("inf")
    t_max: float = float("-inf")


@dataclass
class Audit:
    """What the auditor saw in the outbound records."""

    records: int = 0
    values: int = 0
    location_values: int = 0
    location_max_decimals_seen: int = 0
    location_violations: list[str] = field(default_factory=list)
    vin_violations: list[str] = field(default_factory=list)
    forbidden: Counter = field(default_factory=Counter)
    technical_values: int = 0
    categories: Counter = field(default_factory=Counter)


def _decimals(v: np.ndarray, limit: int) -> int:
    """The fewest decimals (<= limit+3) that represent every value, to prove coarsening held."""
    for d in range(limit + 4):
        scaled = v * 10.0 ** d
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1.0, np.abs(scaled))):
            return d
    return limit + 4


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
        a = self.audit
        a.records += int(out.t.shape[0])
        limit = self.handler.location_decimals or 0
        for name, (values, valid) in out.columns.items():
            nv = int(valid.sum())
            a.values += nv
            sig = mplan.by_name.get(name)
            if sig is None:  # a composite identifier: must be a pseudonym, never the clear text
                if any(VIN_RE.match(str(v)) for v in set(values[valid].tolist())):
                    a.vin_violations.append(f"{mplan.name}.{name}")
                continue
            cat = sig.cls.category
            a.categories[cat] += nv
            if cat in NEVER_OUT_CATEGORIES or sig.cls.role == "exterior_media":
                a.forbidden[f"{mplan.name}.{name}"] += nv
            if sig.cls.role in ("latitude", "longitude", "v2x_position"):
                a.location_values += nv
                d = _decimals(values[valid].astype(np.float64), limit)
                a.location_max_decimals_seen = max(a.location_max_decimals_seen, d)
                if d > limit:
                    a.location_violations.append(f"{mplan.name}.{name}")
            if sig.cls.role == "vin" and sig.handling != "pseudonymize":
                a.vin_violations.append(f"{mplan.name}.{name}")
            if values.dtype == object and any(VIN_RE.match(str(v)) for v in set(values[valid].tolist())):
                a.vin_violations.append(f"{mplan.name}.{name}")
            if sig.handling == "keep" and cat in ("vehicle_condition", "vehicle_control", "environment_perception"):
                a.technical_values += nv

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
        fs, o = self.frames, st["frames"]
        for k in ("total", "decoded", "unknown", "error", "truncated", "oversize"):
            setattr(fs, k, getattr(fs, k) + getattr(o, k))
        for k in ("error_reasons", "unknown_ids", "cabin_on_while_off"):
            getattr(fs, k).update(getattr(o, k))
        fs.malformed_lines = sorted(fs.malformed_lines + [line_base + n for n in o.malformed_lines])[:20]
        fs.t_min, fs.t_max = min(fs.t_min, o.t_min), max(fs.t_max, o.t_max)
        a, b = self.audit, st["audit"]
        for k in ("records", "values", "location_values", "technical_values"):
            setattr(a, k, getattr(a, k) + getattr(b, k))
        a.location_max_decimals_seen = max(a.location_max_decimals_seen, b.location_max_decimals_seen)
        a.location_violations = sorted(set(a.location_violations) | set(b.location_violations))
        a.vin_violations = sorted(set(a.vin_violations) | set(b.vin_violations))
        a.forbidden.update(b.forbidden)
        a.categories.update(b.categories)
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
    def checks(self) -> list[dict[str, Any]]:
        fs, a, h = self.frames, self.audit, self.handler
        out = []
        unknown = [{"id": f"0x{cid:X}", "extended": ext, "frames": n} for (cid, ext), n in fs.unknown_ids.most_common(50)]
        out.append(check("edge.frames.unknown_ids", "Every frame id on the bus is described by the DBC",
                         "warn" if fs.unknown else "pass", "medium", ["GBT44464-4.1", "CN-MIIT-134"],
                         {"unknown_ids": unknown, "distinct": len(fs.unknown_ids)}, {"frames_unknown": fs.unknown}))
        out.append(check("edge.frames.errors", "No malformed, error or remote frames in the traffic",
                         "warn" if fs.error else "pass", "low", ["R155-A5"],
                         {"reasons": dict(fs.error_reasons), "malformed_lines": fs.malformed_lines},
                         {"frames_error": fs.error}))
        out.append(check("edge.frames.length", "Frames carry the length the DBC declares (truncated frames are "
                         "decoded as far as their bytes go)", "warn" if fs.truncated or fs.oversize else "pass", "low",
                         ["GBT44464-4.1"], {}, {"frames_truncated": fs.truncated, "frames_oversize": fs.oversize}))
        loc_status = "fail" if a.location_violations else "pass"
        out.append(check("edge.uplink.location_precision",
                         "No position leaves the vehicle more precise than a consented purpose needs",
                         loc_status, "critical" if loc_status == "fail" else "info",
                         ["CN-ADR-6", "CN-ADR-9", "GBT44464-5.3", "GBT44464-5.6", "EDPB-LOC"],
                         {"violations": a.location_violations[:20], "allowed_decimals": h.location_decimals,
                          "consented_location_purposes": h.location_purposes,
                          "max_decimals_seen": a.location_max_decimals_seen if a.location_values else None},
                         {"location_values_out": a.location_values}))
        out.append(check("edge.uplink.no_clear_vin", "No VIN or other identifier leaves in clear",
                         "fail" if a.vin_violations else "pass", "high" if a.vin_violations else "info",
                         ["GBT44464-A", "GBT44464-5.4", "EDPB-ANON"], {"violations": a.vin_violations[:20]}))
        out.append(check("edge.uplink.no_cabin_biometric_exterior_media",
                         "No cabin audio/video, biometric, driver-monitoring, key material or exterior raw image data "
                         "leaves the vehicle", "fail" if a.forbidden else "pass",
                         "critical" if a.forbidden else "info",
                         ["CN-ADR-9", "GBT44464-5.1", "GBT44464-6.1", "CN-ADR-8", "R155-A5"],
                         {"violations": dict(a.forbidden.most_common(20))}))
        out.append(check("edge.uplink.technical_data_leaves", "Technical data still leaves, so the uplink stays useful",
                         "pass" if a.technical_values else "warn", "low", ["CN-ADR-6"], {},
                         {"technical_values_out": a.technical_values}))
        out.append(check("edge.cabin.default_off", "No cabin data appears while its sensor reports off",
                         "fail" if fs.cabin_on_while_off else "pass",
                         "high" if fs.cabin_on_while_off else "info", ["GBT44464-5.1", "CN-ADR-9"],
                         {"frames_by_message": dict(fs.cabin_on_while_off)}))
        unclassified = sorted(f"{m.name}.{s.name}" for m in self.plan.messages for s in m.signals
                              if s.cls.category == "unclassified")
        out.append(check("edge.policy.unclassified", "Every signal is explained by a rule (unexplained ones are kept "
                         "in the vehicle)", "needs_review" if unclassified else "pass", "medium", ["GBT44464-4.1"],
                         {"signals": unclassified[:100]}, {"unclassified_signals": len(unclassified)}))
        ev = self.spool.stats.evicted
        out.append(check("edge.spool.no_loss", "The spool lost no batch to its size bound", "fail" if ev else "pass",
                         "high" if ev else "info", ["R155-A5"], {},
                         {"batches_evicted": ev, "bytes_evicted": self.spool.stats.bytes_evicted}))
        return out

    def summary(self) -> dict[str, Any]:
        fs, st = self.frames, self.handler.stats
        wall = time.perf_counter() - self.started
        cpu = _cpu_seconds() - self.cpu_started
        span = fs.t_max - fs.t_min if fs.total else 0.0
        return {
            "frames_total": fs.total, "frames_decoded": fs.decoded, "frames_unknown": fs.unknown,
            "frames_error": fs.error, "frames_truncated": fs.truncated, "frames_error_reasons": dict(fs.error_reasons),
            "signals_by_category": dict(st.by_category), "signals_by_handling": dict(st.by_handling),
            "dropped_by_reason": dict(st.drop_reasons), "dropped_by_signal": dict(self._dropped_total.most_common(50)),
            "unknown_ids": [{"id": f"0x{c:X}", "extended": e, "frames": n} for (c, e), n in fs.unknown_ids.most_common(20)],
            "rates": {"log_seconds": round(span, 3), "frames_per_s_log": round(fs.total / span, 1) if span > 0 else None,
                      "processing_frames_per_s": round(fs.total / wall) if wall > 0 else None,
                      "cpu_us_per_frame": round(cpu / fs.total * 1e6, 3) if fs.total else None},
            "uplink": {"batches": len(self.batches), "records": self.records_out,
                       "bytes": self.spool.stats.bytes_written, "batches_evicted": self.spool.stats.evicted},
            "policy": self.plan.policy.header(),
            "pseudonym_key_id": self.builder.key_id,
        }
