"""Apply the policy's handling to decoded columns: what leaves the vehicle, and proof of what did not.

Per signal the action is fixed once (a table built from the compiled plan), so the per-batch work is a few
numpy operations per column: ``keep`` passes values, ``drop`` removes them, ``coarsen`` rounds positions
to the consented purpose's precision (or drops them when no purpose with consent needs location),
``pseudonymize`` replaces identifiers with a keyed hash (VIN characters spread over pages are assembled
and hashed whole), ``aggregate`` sends statistics instead of samples.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vehicle_ds.policy import Policy
from vehicle_ds.precision import round_half_away

from .decode import Column
from .keys import KeyRing
from .plan import MessagePlan, SignalPlan

_DIGITS = re.compile(r"\d+")


@dataclass
class Action:
    kind: str  # keep | drop | coarsen | pseudonymize | aggregate | composite
    reason: str = ""
    decimals: int | None = None
    step: float | None = None


@dataclass
class OutMessage:
    name: str
    t: np.ndarray
    columns: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (values, valid)


@dataclass
class HandlingStats:
    by_category: Counter = field(default_factory=Counter)
    by_handling: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)  # "Message.Signal" -> values dropped
    drop_reasons: Counter = field(default_factory=Counter)
    geofence_hits: Counter = field(default_factory=Counter)  # area -> decoded positions inside it


class Handler:
    def __init__(self, policy: Policy, consented: set[str], keys: KeyRing, areas: list | None = None) -> None:
        self.policy = policy
        self.keys = keys
        self.areas = areas or []  # sensitive areas (vehicle_ds.geofence): positions inside never leave
        self.stats = HandlingStats()
        loc = [p for pid, p in policy.purposes.items()
               if "location" in p.categories and (pid in consented or not p.consent_required)]
        decimals = [p.location_decimals for p in loc if p.location_decimals is not None]
        self.location_decimals: int | None = max(decimals) if decimals else None
        self.location_purposes = sorted(p.id for p in loc)
        settings = policy.settings
        self.heading_step = float(settings.get("heading_step_deg", 10.0))
        self.altitude_step = float(settings.get("altitude_step_m", 10.0))
        self._actions: dict[tuple[str, str], Action] = {}
        self._composites: dict[tuple[str, str], dict[str, Any]] = {}
        self._members: dict[str, list[SignalPlan]] = {}  # per message: the signals of composite identifiers
        self.aggregates: dict[str, dict[str, Any]] = {}

    def action(self, msg: MessagePlan, sig: SignalPlan) -> Action:
        key = (msg.name, sig.name)
        a = self._actions.get(key)
        if a is None:
            a = self._decide(sig)
            self._actions[key] = a
        return a

    def _decide(self, sig: SignalPlan) -> Action:
        h, role = sig.handling, sig.cls.role
        if sig.composite:
            return Action("composite")
        if role == "hemisphere":  # one bit of a position: nothing to round, but no position without consent
            return Action("keep") if self.location_decimals is not None else \
                Action("drop", reason="location without a consented purpose")
        if h == "coarsen":
            # heading and altitude are part of the trajectory: they leave only with a consented purpose too
            if self.location_decimals is None:
                return Action("drop", reason="location without a consented purpose")
            if role == "heading":
                return Action("coarsen", step=self.heading_step)
            if role == "altitude":
                return Action("coarsen", step=self.altitude_step)
            return Action("coarsen", decimals=self.location_decimals)
        if h == "drop":
            return Action("drop", reason=f"policy: {sig.cls.rule or 'unclassified'}")
        return Action(h)

    def _suppress_in_areas(self, msg: MessagePlan, cols: dict[str, Column]) -> dict[str, Column]:
        """Rows whose decoded position lies in a sensitive area lose every position column (and heading and
        altitude, part of the trajectory) before handling: counted per area, never sent."""
        lat = next((s.name for s in msg.signals if s.cls.role == "latitude" and s.name in cols), None)
        lon = next((s.name for s in msg.signals if s.cls.role == "longitude" and s.name in cols), None)
        if lat is None or lon is None:
            return cols
        la, lo = cols[lat], cols[lon]
        both = la.valid & lo.valid
        inside = np.zeros(both.shape, dtype=bool)
        lat_v, lon_v = la.values.astype(np.float64), lo.values.astype(np.float64)
        for area in self.areas:
            hit = both & area.contains(lat_v, lon_v)
            if self.location_decimals is not None:  # coarsening can move a point just outside into the area
                hit |= both & area.contains(round_half_away(lat_v, self.location_decimals),
                                            round_half_away(lon_v, self.location_decimals))
            if hit.any():
                self.stats.geofence_hits[area.name] += int(hit.sum())
                inside |= hit
        if not inside.any():
            return cols
        cols = dict(cols)
        for s in msg.signals:
            if s.cls.role in ("latitude", "longitude", "heading", "altitude") and s.name in cols:
                c = cols[s.name]
                n = int((c.valid & inside).sum())
                self.stats.dropped[f"{msg.name}.{s.name}"] += n
                self.stats.drop_reasons["inside a sensitive area (geofence)"] += n
                cols[s.name] = Column(c.values, c.valid & ~inside)
        return cols

    def apply(self, msg: MessagePlan, t: np.ndarray, cols: dict[str, Column]) -> OutMessage | None:
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        st = self.stats
        n = t.shape[0]
        if self.areas:
            cols = self._suppress_in_areas(msg, cols)
        counted: dict[int, int] = {}  # signals of one frame layout share their validity: count it once
        every_row = False  # some column that leaves is valid in every row
        for sig in msg.signals:
            col = cols.get(sig.name)
            if col is None:
                continue
            n_valid = counted.get(id(col.valid))
            if n_valid is None:
                n_valid = counted[id(col.valid)] = int(np.count_nonzero(col.valid))
            if n_valid == 0:
                continue
            st.by_category[sig.cls.category] += n_valid
            a = self.action(msg, sig)
            st.by_handling[a.kind if a.kind != "composite" else "pseudonymize"] += n_valid
            if a.kind == "drop":
                st.dropped[f"{msg.name}.{sig.name}"] += n_valid
                st.drop_reasons[a.reason] += n_valid
                continue
            if a.kind == "keep":
                out[sig.name] = (col.values, col.valid)
            elif a.kind == "coarsen":
                v = col.values.astype(np.float64)
                v = round_half_away(v, a.decimals) if a.decimals is not None else round_half_away(v / a.step, 0) * a.step
                out[sig.name] = (v, col.valid)
            elif a.kind == "pseudonymize":
                # keyed by the kind of identifier, not the signal: one VIN, one pseudonym, whichever message
                out[sig.name] = (self._pseudonymize(sig.cls.role or sig.cls.rule, t, col), col.valid)
            elif a.kind == "aggregate":
                self._aggregate(f"{msg.name}.{sig.name}", col)
            if sig.name in out and n_valid == n:
                every_row = True
        composite = self._composite(msg, t, cols)
        if composite:
            out.update(composite)
        if not out:
            return None
        if not every_row:
            any_valid = np.zeros(n, dtype=bool)
            for _, valid in out.values():
                any_valid |= valid
            if not any_valid.all():
                idx = np.flatnonzero(any_valid)
                t = t[idx]
                out = {k: (v[idx], m[idx]) for k, (v, m) in out.items()}
        return OutMessage(msg.name, t, out)

    def _pseudonymize(self, label: str, t: np.ndarray, col: Column) -> np.ndarray:
        """Keyed hash of each distinct value (identifiers change rarely, so this is a handful of hashes)."""
        v = col.values
        if v.dtype == object:  # text from a reassembled payload (a VIN, a serial number): hashed whole
            return self._pseudonymize_text(label, t, v)  # label: the identifier kind (vin, device_id, …)
        bits = v.view(np.int64) if v.dtype.itemsize == 8 else v.astype(np.int64)  # exact, also above 2**53
        periods = (t // self.keys.rotation_s).astype(np.int64) if self.keys.rotation_s > 0 \
            else np.zeros(t.shape[0], dtype=np.int64)
        values = np.empty(v.shape[0], dtype=object)
        for period in np.unique(periods).tolist():
            rows = np.flatnonzero(periods == period)
            _, first, inv = np.unique(bits[rows], return_index=True, return_inverse=True)
            hashed = np.array([self.keys.pseudonym(period, label, _canonical(v[rows[i]])) for i in first.tolist()],
                              dtype=object)
            values[rows] = hashed[inv.ravel()]
        return values

    def _pseudonymize_text(self, label: str, t: np.ndarray, v: np.ndarray) -> np.ndarray:
        out = np.empty(v.shape[0], dtype=object)
        cache: dict[tuple[int, str], str] = {}
        for i, (ti, text) in enumerate(zip(t.tolist(), v.tolist(), strict=True)):
            key = (self.keys.period(ti), identifier_text(label, str(text)))
            if key not in cache:
                cache[key] = self.keys.pseudonym(key[0], label, key[1])
            out[i] = cache[key]
        return out

    def _aggregate(self, label: str, col: Column) -> None:
        v = col.values[col.valid].astype(np.float64)
        agg = self.aggregates.setdefault(label, {"n": 0, "sum": 0.0, "min": None, "max": None, "counts": Counter()})
        lo, hi = float(v.min()), float(v.max())  # v is not empty: only columns with valid rows get here
        agg["n"] += int(v.shape[0])
        agg["sum"] += float(v.sum())
        agg["min"] = lo if agg["min"] is None else min(agg["min"], lo)
        agg["max"] = hi if agg["max"] is None else max(agg["max"], hi)
        if len(agg["counts"]) <= 16:
            vals, counts = _distinct(v, lo, hi)
            for a, c in zip(vals.tolist(), counts.tolist(), strict=True):
                agg["counts"][_canonical(a)] += c

    def take_aggregates(self) -> dict[str, dict[str, Any]]:
        out = {k: {"n": a["n"], "mean": a["sum"] / a["n"] if a["n"] else None, "min": a["min"], "max": a["max"],
                   "counts": dict(a["counts"]) if len(a["counts"]) <= 16 else None}
               for k, a in self.aggregates.items()}
        self.aggregates = {}
        return out

    def _composite(self, msg: MessagePlan, t: np.ndarray, cols: dict[str, Column]) -> dict[str, tuple]:
        """Assemble identifiers spread over several signals (VIN pages) and hash them whole.

        Each character column is forward-filled (the last page seen holds until a new one arrives, also
        across batches), so a row carries the identifier once every character has been seen; each distinct
        identifier is hashed once per key period."""
        members = self._members.get(msg.name)
        if members is None:
            members = self._members[msg.name] = [s for s in msg.signals if s.composite]
        if not members:
            return {}
        out = {}
        n = t.shape[0]
        rows = np.arange(n)
        for name in sorted({s.composite for s in members}):
            group = sorted((s for s in members if s.composite == name),
                           key=lambda s: int(m.group()) if (m := _DIGITS.search(s.name)) else 0)
            state = self._composites.setdefault((msg.name, name), {"chars": {}, "hashes": {}})
            seen = state["chars"]
            chars = np.full((len(group), n), -1, dtype=np.int64)
            for j, sig in enumerate(group):
                c = cols.get(sig.name)
                prev = seen.get(sig.name, -1)
                if c is None:
                    chars[j] = prev
                    continue
                last = np.maximum.accumulate(np.where(c.valid, rows, -1))
                chars[j] = np.where(last >= 0, c.values[np.maximum(last, 0)].astype(np.int64), prev)
                self.stats.dropped[f"{msg.name}.{name}:characters"] += int(c.valid.sum())
            if n:
                for j, sig in enumerate(group):
                    seen[sig.name] = int(chars[j, -1])
            complete = (chars >= 0).all(axis=0)
            if not complete.any():
                continue
            periods = (t // self.keys.rotation_s).astype(np.int64) if self.keys.rotation_s > 0 \
                else np.zeros(n, dtype=np.int64)
            keyed = np.vstack([periods, chars]).T[complete]
            # the identifier changes rarely: hash each run of equal rows once
            starts = np.concatenate(([0], np.flatnonzero((keyed[1:] != keyed[:-1]).any(axis=1)) + 1))
            run = np.cumsum(np.isin(np.arange(keyed.shape[0]), starts)) - 1
            cache = state["hashes"]
            hashed = []
            for row in keyed[starts].tolist():
                key = tuple(row)
                if key not in cache:
                    text = "".join(chr(c) if 32 <= c < 127 else "?" for c in row[1:])
                    cache[key] = self.keys.pseudonym(row[0], "vin", identifier_text("vin", text))
                hashed.append(cache[key])
            values = np.empty(n, dtype=object)
            values[np.flatnonzero(complete)] = np.array(hashed, dtype=object)[run]
            out[name] = (values, complete)
        return out


_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")


def identifier_text(kind: str, text: str) -> str:
    """The identifier itself, as hashed: a VIN is its 17 characters (a J1939 VIN payload carries a ``*``
    delimiter and padding after it; VIN pages may be padded), so one VIN gives one pseudonym whichever
    message or transport carried it. Other kinds: the text without padding."""
    if kind == "vin":
        m = _VIN.search(text.upper())
        if m:
            return m.group()
    return text.strip(" \x00\xff*")


def _distinct(v: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``v`` (lowest ``lo``, highest ``hi``) and their counts: a status or an enum (small
    whole numbers) by counting, anything else by sorting (``np.unique``)."""
    if lo >= 0 and hi < 4096 and (v == np.floor(v)).all():
        counts = np.bincount(v.astype(np.int64))
        vals = np.flatnonzero(counts)
        return vals, counts[vals]
    return np.unique(v, return_counts=True)


def _canonical(v: Any) -> str:
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    f = float(v)
    return str(int(f)) if f.is_integer() else repr(f)
