"""The agent's pipeline: frames -> decode -> classify/handle -> batches on the spool, with counts, and an
auditor that inspects exactly what is encoded for uplink (the proof of what left the vehicle)."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import numpy as np

from .audit import Audit, Evidence, FrameStats, audit_message, run_checks
from .batch import BatchBuilder
from .decode import Column, decode_batch
from .frames import DATA, KIND_NAMES, MALFORMED, FrameChunk
from .handling import Handler, OutMessage
from .plan import MessagePlan, Plan
from .scan import UndocumentedScan
from .spool import Spool
from .transport import Reassembled, Reassembler, TransportConfig


def _cpu_seconds() -> float:
    """CPU time of this process and its finished workers (parallel replay), user + system."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _gather_rows(data: np.ndarray, rows: np.ndarray, length: int) -> np.ndarray:
    """The bytes a message has (``length``) of the frames at ``rows``: a classic message's 8 bytes as one
    64-bit word per row (a chunk with CAN FD frames is 64 bytes wide, and fancy-indexing a slice of it is
    several times slower), else whole rows taken, then cut to the message."""
    width = data.shape[1]
    if length <= 8 and width % 8 == 0 and data.flags.c_contiguous:
        return data.view("<u8")[:, 0][rows].view(np.uint8).reshape(rows.shape[0], 8)[:, :max(length, 1)]
    taken = np.take(data, rows, axis=0)
    if width < length:
        return np.pad(taken, ((0, 0), (0, length - width)))
    return taken[:, :max(length, 1)]


class Agent:
    def __init__(self, plan: Plan, handler: Handler, builder: BatchBuilder, spool: Spool,
                 batch_records: int = 250_000, transport: TransportConfig | None = None) -> None:
        self.plan, self.handler, self.builder, self.spool = plan, handler, builder, spool
        self.batch_records = batch_records
        self.frames = FrameStats()
        self.audit = Audit()
        self.transport = Reassembler(transport)
        self.isotp_sources: dict[str, list[str]] = {}  # ids the DBC added to / took from the built-in range
        self.scan = UndocumentedScan()
        self.batches: list[str] = []
        self.records_out = 0
        self._dropped_total: Counter = Counter()
        self.started = time.perf_counter()
        self.cpu_started = _cpu_seconds()
        self._cabin = {m.name: self._cabin_pairs(m) for m in plan.messages}
        self._read: dict[str, frozenset[str]] = {}

    @staticmethod
    def _cabin_pairs(m: MessagePlan) -> tuple[list[str], list[str]] | None:
        status = [s.name for s in m.signals if s.cls.role == "cabin_status"]
        data = [s.name for s in m.signals if s.cls.category in ("cabin", "biometric")]
        return (status, data) if status and data else None

    def _reads(self, m: MessagePlan) -> frozenset[str]:
        """The signals whose values anything reads: what may leave, the multiplexers, the position (the
        geofence counts positions inside an area whatever their handling) and the cabin pairs. A signal
        that is dropped is otherwise counted, never decoded per row."""
        read = self._read.get(m.name)
        if read is None:
            pairs = self._cabin.get(m.name) or ([], [])
            read = self._read[m.name] = frozenset(
                s.name for s in m.signals if self.handler.action(m, s).kind != "drop" or s.is_multiplexer
                or s.cls.role in ("latitude", "longitude") or s.name in pairs[0] or s.name in pairs[1])
        return read

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
        tp = self.transport.select(chunk)
        if tp.any():
            rows = np.flatnonzero(tp)
            fs.transport += int(rows.shape[0])
            self._payloads(self.transport.feed(chunk, rows), chunk.channels)
            is_data = is_data & ~tp
        idx = np.flatnonzero(is_data)
        if idx.shape[0] == 0:
            return
        if self.plan.bound:  # DBCs bound to channels: each channel's frames against its own id table
            counts = np.bincount(chunk.channel[chunk.channel >= 0])
            for c in np.flatnonzero(counts).tolist():
                fs.by_channel[chunk.channels[c] if c < len(chunk.channels) else f"#{c}"] += int(counts[c])
            chans = chunk.channel[idx]
            for c in np.unique(chans).tolist():
                self._groups(chunk, idx[chans == c], chunk.channels[c] if c < len(chunk.channels) else None)
        else:
            self._groups(chunk, idx, None)
        if self.builder.rows >= self.batch_records:
            self.flush()

    def _groups(self, chunk: FrameChunk, idx: np.ndarray, channel: str | None) -> None:
        fs = self.frames
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
            mplan = self.plan.lookup(can_id, ext, channel)
            rows = idx[order[a:b]]
            if mplan is None:
                fs.unknown += b - a
                fs.unknown_ids[(can_id, ext)] += b - a
                if self.scan.scanned[("can", can_id, ext)] < self.scan.frames_per_id:
                    self.scan.frames(("can", can_id, ext), chunk.data[rows], chunk.length[rows])
                continue
            self._message(mplan, chunk, rows)

    def continue_transport(self, chunk: FrameChunk) -> None:
        """Frames after the end of a parallel worker's range: they only complete sessions it opened."""
        tp = self.transport.select(chunk)
        if tp.any():
            self._payloads(self.transport.feed(chunk, np.flatnonzero(tp), open_only=True), chunk.channels)

    def _payloads(self, msgs: list[Reassembled], channels: list[str]) -> None:
        """Decode reassembled payloads: with the DBC message that describes them, else with the built-in
        knowledge; a payload neither knows is scanned for identifiers like an undocumented frame."""
        groups: dict[str, tuple[MessagePlan, list]] = {}
        for m in msgs:
            channel = channels[m.channel] if self.plan.bound and m.channel < len(channels) else None
            mplan = self.plan.payload_plan(m.protocol, m.key, m.extended, channel)
            if mplan is not None:
                groups.setdefault(mplan.name, (mplan, []))[1].append((m, None))
                continue
            known = self.plan.decoders.decode(m) if self.plan.decoders else None
            if known is None:
                self.frames.unknown_payloads[f"{m.protocol}:0x{m.key:X}"] += 1
                if m.protocol == "isotp":  # undocumented traffic on a diagnostic id is an unknown id too
                    self.frames.unknown_ids[(m.key, m.extended)] += m.frames
                self.scan.payload((m.protocol, m.key, m.extended), m.payload)
                continue
            groups.setdefault(known[0].name, (known[0], []))[1].append((m, known[1]))
        for mplan, items in groups.values():
            t = np.array([m.t for m, _ in items], dtype=np.float64)
            if items[0][1] is None:  # described by a DBC message: decoded like any frame
                payloads = [bytes([m.pci]) + m.payload if m.protocol == "isotp" and mplan.layout == "vendor"
                            else m.payload for m, _ in items]
                width = max(mplan.length, max(len(x) for x in payloads))
                data = np.zeros((len(items), width), dtype=np.uint8)
                for i, x in enumerate(payloads):
                    data[i, :len(x)] = np.frombuffer(x, dtype=np.uint8)
                lengths = np.array([len(x) for x in payloads], dtype=np.int16)
                cols = decode_batch(mplan, data, lengths, self._reads(mplan))
            else:
                cols = {}
                for sig in mplan.signals:
                    vals = [v.get(sig.name) for _, v in items]
                    valid = np.array([x is not None for x in vals], dtype=bool)
                    if not valid.any():
                        continue
                    numeric = all(isinstance(x, float) for x in vals if x is not None)
                    arr = np.array([0.0 if x is None else x for x in vals], dtype=np.float64) if numeric \
                        else np.array(["" if x is None else x for x in vals], dtype=object)
                    cols[sig.name] = Column(arr, valid)
            self.frames.reassembled += len(items)
            if items[0][1] is None:
                self.frames.reassembled_by_dbc += len(items)
            self.frames.decoded_by_message[mplan.name] += len(items)
            out = self.handler.apply(mplan, t, cols)
            if out is not None:
                self._audit(mplan, out)
                self.builder.add(out)

    def _message(self, mplan: MessagePlan, chunk: FrameChunk, rows: np.ndarray) -> None:
        fs = self.frames
        data = _gather_rows(chunk.data, rows, mplan.length)
        lengths = chunk.length[rows]
        fs.decoded += rows.shape[0]
        fs.decoded_by_message[mplan.name] += rows.shape[0]
        fs.truncated += int((lengths < mplan.length).sum())
        fs.oversize += int((lengths > mplan.length).sum())
        cols = decode_batch(mplan, data, lengths, self._reads(mplan))
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
        audit_message(self.audit, mplan, out, self.handler.location_decimals or 0, self.handler.areas)

    def end_of_input(self) -> None:
        """No more frames: transport sessions still open are counted as timed out."""
        self.transport.finish()

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
    def _unseen_channels(self) -> list[str]:
        """DBCs bound to a channel the input never carried (``--dbc can0=…`` on a vcan0 log): said, with the
        channels the input did carry, instead of every frame silently unknown."""
        seen = self.frames.by_channel
        if not self.plan.bound or not seen:
            return []
        shown = ", ".join(f"{c} ({n:,} frames)" for c, n in seen.most_common())
        return [f"--dbc {ch}=…: no frame on channel {ch}; the input's channels are {shown}"
                for ch in sorted(self.plan.bound) if not seen.get(ch)]

    def state(self) -> dict[str, Any]:
        """Everything a worker counted, to be merged into the parent's agent."""
        return {"frames": self.frames, "audit": self.audit, "handling": self.handler.stats,
                "batches": self.batches, "records_out": self.records_out, "dropped": self._dropped_total,
                "spool": self.spool.stats, "transport": self.transport.stats, "scan": self.scan}

    def merge(self, st: dict[str, Any], line_base: int = 0) -> None:
        self.frames.merge(st["frames"], line_base)
        self.audit.merge(st["audit"])
        h, g = self.handler.stats, st["handling"]
        for k in ("by_category", "by_handling", "dropped", "drop_reasons", "geofence_hits"):
            getattr(h, k).update(getattr(g, k))
        self.transport.stats.merge(st["transport"])
        self.scan.merge(st["scan"])
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
                        sp.written, sp.evicted, sp.bytes_evicted, transport=self.transport.stats, scan=self.scan,
                        areas=tuple(a.name for a in self.handler.areas), geofence_hits=self.handler.stats.geofence_hits)

    def checks(self) -> list[dict[str, Any]]:
        return run_checks(self.evidence())

    def summary(self) -> dict[str, Any]:
        fs, st = self.frames, self.handler.stats
        wall = time.perf_counter() - self.started
        cpu = _cpu_seconds() - self.cpu_started
        span = fs.t_max - fs.t_min if fs.t_max >= fs.t_min else None  # no timestamped frame: unknown, not -inf
        return {
            "frames_total": fs.total, "frames_decoded": fs.decoded, "frames_unknown": fs.unknown,
            "frames_error": fs.error, "frames_truncated": fs.truncated, "frames_transport": fs.transport,
            "transport": {"sessions": dict(sorted(self.transport.stats.sessions.items())),
                          "payloads_decoded": fs.reassembled, "payloads_unknown": dict(fs.unknown_payloads),
                          "isotp_ids": self.isotp_sources,
                          "isotp_layouts": {m.name: f"{m.layout}: {m.layout_reason}" for m in self.plan.messages
                                            if not m.extended and m.frame_id in self.transport.config.isotp_ids},
                          "j1939_matched_by_pgn_only": sorted(self.plan.unmarked_pgn_matches)},
            "frames_error_reasons": dict(fs.error_reasons),
            "signals_by_category": dict(st.by_category), "signals_by_handling": dict(st.by_handling),
            "dropped_by_reason": dict(st.drop_reasons),
            # decoded inside an area (suppressed by the handler) and what still left (the auditor's own count)
            "geofence": {"areas": [a.name for a in self.handler.areas], "positions_inside": dict(st.geofence_hits),
                         "positions_inside_outbound": dict(self.audit.in_sensitive_area)}
            if self.handler.areas else None, "dropped_by_signal": dict(self._dropped_total.most_common(50)),
            "unknown_ids": [{"id": f"0x{c:X}", "extended": e, "frames": n} for (c, e), n in fs.unknown_ids.most_common(20)],
            "rates": {"log_seconds": None if span is None else round(span, 3),
                      "frames_per_s_log": round(fs.total / span, 1) if span else None,
                      "processing_frames_per_s": round(fs.total / wall) if wall > 0 else None,
                      "cpu_us_per_frame": round(cpu / fs.total * 1e6, 3) if fs.total else None},
            "uplink": {"batches": len(self.batches), "records": self.records_out,
                       "bytes": self.spool.stats.bytes_written, "batches_evicted": self.spool.stats.evicted},
            "policy": self.plan.policy.header(),
            "warnings": ([] if fs.decoded else ["no frame could be decoded: every check is not_assessed"])
            + self._unseen_channels(),
            "pseudonym_key_id": self.builder.key_id,
        }
