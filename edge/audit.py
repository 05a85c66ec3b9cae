"""The auditor: what was seen on the bus, what was encoded for uplink, and the checks that prove what left.

Each check is a plain function with a stable id; its docstring says what a failure proves. Every check
declares its criterion and the least evidence it needs: an uplink check sees nothing unless frames of the
messages it is about were decoded (a 0-byte log or random bytes make every check ``not_assessed``)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vehicle_ds.evidence.detectors import BY_ID
from vehicle_ds.precision import decimals_needed
from vehicle_ds.results import Criterion, check
from vehicle_ds.vocabulary import Severity, Status

from .handling import OutMessage
from .plan import MessagePlan, Plan
from .scan import FRAMES_PER_ID, UndocumentedScan
from .transport import TransportStats

_VIN = BY_ID["vin"]  # the core registry's VIN, lenient: a clear VIN-shaped value is a violation
NEVER_OUT_CATEGORIES = {"cabin", "biometric", "security"}
LOCATION_ROLES = ("latitude", "longitude", "v2x_position")
TECHNICAL_CATEGORIES = ("vehicle_condition", "vehicle_control", "environment_perception")


def _merge_fields(into: Any, other: Any, special: dict[str, Callable[[Any, Any], Any]]) -> None:
    """Merge two count dataclasses field by field, so a new field can never be silently dropped: numbers and
    Counters add, anything else needs an entry in ``special``."""
    for f in dataclasses.fields(into):
        a, b = getattr(into, f.name), getattr(other, f.name)
        if f.name in special:
            setattr(into, f.name, special[f.name](a, b))
        elif isinstance(a, Counter):
            a.update(b)
        elif isinstance(a, (int, float)) and not isinstance(a, bool):
            setattr(into, f.name, a + b)
        else:
            raise TypeError(f"{type(into).__name__}.{f.name}: no merge rule")


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
    decoded_by_message: Counter = field(default_factory=Counter)
    malformed_lines: list[int] = field(default_factory=list)
    cabin_on_while_off: Counter = field(default_factory=Counter)
    transport: int = 0  # frames owned by a transport protocol (J1939 TP, ISO-TP, NMEA 2000 fast packets)
    reassembled: int = 0  # payloads reassembled and decoded
    reassembled_by_dbc: int = 0  # of which the vehicle's DBC described (not the built-in knowledge)
    unknown_payloads: Counter = field(default_factory=Counter)  # "isotp:0x7E8" -> payloads nobody describes
    by_channel: Counter = field(default_factory=Counter)  # channel name -> frames (kept when DBCs are bound)
    t_min: float = float("inf")
    t_max: float = float("-inf")

    def merge(self, o: FrameStats, line_base: int = 0) -> None:
        _merge_fields(self, o, {
            "malformed_lines": lambda a, b: sorted(a + [line_base + n for n in b])[:20],
            "t_min": min, "t_max": max})


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
    in_sensitive_area: Counter = field(default_factory=Counter)  # area -> outbound positions inside it

    def merge(self, o: Audit) -> None:
        def union(a: list[str], b: list[str]) -> list[str]:
            return sorted(set(a) | set(b))
        _merge_fields(self, o, {"location_max_decimals_seen": max, "location_violations": union,
                                "vin_violations": union})


def _decimals(v: np.ndarray, limit: int, seen: int = 0) -> int:
    """The decimals (<= limit+3) that represent every value, to prove coarsening held: exact above
    ``min(seen, limit)``, which is all the auditor needs (whether this column exceeds the limit, and the
    most seen so far); tested from there, a coarsened column costs one test instead of one per decimal."""
    return decimals_needed(v, limit + 3, start=min(seen, limit))


def audit_message(a: Audit, mplan: MessagePlan, out: OutMessage, location_limit: int, areas: list | None = None) -> None:
    """Inspect exactly what is encoded for uplink for one message group."""
    a.records += int(out.t.shape[0])
    if areas:  # independent of the handler: any outbound position inside an area is a violation
        lat = next((v for n, v in out.columns.items() if (s := mplan.by_name.get(n)) and s.cls.role == "latitude"), None)
        lon = next((v for n, v in out.columns.items() if (s := mplan.by_name.get(n)) and s.cls.role == "longitude"), None)
        if lat is not None and lon is not None:
            both = lat[1] & lon[1]
            for area in areas:
                hits = int((both & area.contains(lat[0].astype(np.float64), lon[0].astype(np.float64))).sum())
                if hits:
                    a.in_sensitive_area[area.name] += hits
    for name, (values, valid) in out.columns.items():
        nv = int(valid.sum())
        a.values += nv
        sig = mplan.by_name.get(name)
        if sig is None:  # a composite identifier: must be a pseudonym, never the clear text
            if any(_VIN.fullmatch(str(v)) for v in set(values[valid].tolist())):
                a.vin_violations.append(f"{mplan.name}.{name}")
            continue
        cat = sig.cls.category
        a.categories[cat] += nv
        if cat in NEVER_OUT_CATEGORIES or sig.cls.role == "exterior_media":
            a.forbidden[f"{mplan.name}.{name}"] += nv
        if sig.cls.role in LOCATION_ROLES:
            a.location_values += nv
            d = _decimals(values[valid].astype(np.float64), location_limit, a.location_max_decimals_seen)
            a.location_max_decimals_seen = max(a.location_max_decimals_seen, d)
            if d > location_limit:
                a.location_violations.append(f"{mplan.name}.{name}")
        if sig.cls.role == "vin" and sig.handling != "pseudonymize":
            a.vin_violations.append(f"{mplan.name}.{name}")
        if values.dtype == object and any(_VIN.fullmatch(str(v)) for v in set(values[valid].tolist())):
            a.vin_violations.append(f"{mplan.name}.{name}")
        if sig.handling == "keep" and cat in TECHNICAL_CATEGORIES:
            a.technical_values += nv


@dataclass(frozen=True)
class Evidence:
    """Everything the checks read: the plan, the counts and what the auditor saw."""

    plan: Plan
    frames: FrameStats
    audit: Audit
    location_decimals: int | None
    location_purposes: list[str]
    cabin_messages: frozenset[str]
    batches_written: int
    batches_evicted: int
    bytes_evicted: int
    transport: TransportStats = field(default_factory=TransportStats)
    areas: tuple[str, ...] = ()
    geofence_hits: Counter = field(default_factory=Counter)
    scan: UndocumentedScan = field(default_factory=UndocumentedScan)

    def decoded_of(self, wanted: Callable[[Any], bool]) -> int:
        """Frames (or reassembled payloads) decoded of the messages that carry a signal ``wanted`` selects."""
        names = {m.name for m in (*self.plan.messages, *self.plan.builtin) if any(wanted(s) for s in m.signals)}
        return sum(n for name, n in self.frames.decoded_by_message.items() if name in names)


@dataclass(frozen=True)
class Verdict:
    """What a check function judged: the status and the check's details (evidence, metrics, criterion, ...)."""

    status: Status
    details: dict[str, Any]


def verdict(status: Status, **details: Any) -> Verdict:
    return Verdict(status, details)


@dataclass(frozen=True)
class EdgeCheck:
    """A registered check: its stable id, title, severity and requirements, declared where it is defined, and
    the function that judges the evidence."""

    id: str
    title: str
    severity: Severity
    requirements: tuple[str, ...]
    judge: Callable[[Evidence], Verdict]

    def __call__(self, ev: Evidence) -> dict[str, Any]:
        v = self.judge(ev)
        return check(self.id, self.title, v.status, self.severity, self.requirements, **v.details)


CHECKS: list[EdgeCheck] = []


def edge_check(check_id: str, title: str, severity: Severity,
               requirements: tuple[str, ...]) -> Callable[[Callable[[Evidence], Verdict]], EdgeCheck]:
    """Register a check of the agent's run; the docstring of the function says what a failure proves."""
    def register(fn: Callable[[Evidence], Verdict]) -> EdgeCheck:
        c = EdgeCheck(check_id, title, severity, requirements, fn)
        CHECKS.append(c)
        return c
    return register


_ONE_FRAME = {"frames_decoded": 1}


@edge_check("edge.input.frames",
            "The input carries frames the vehicle's DBC describes",
            "high", ("GBT44464-4.1",))
def input_frames(ev: Evidence) -> Verdict:
    """The log yields no frame the DBC describes: 0 bytes, random bytes, another format, or another vehicle.
    Nothing else can be judged then, and the run must not look clean."""
    fs = ev.frames
    # "error": the run could not conclude anything, which is not a finding about the vehicle
    if fs.total == 0:
        why, status = "the input holds no frame at all (empty, or only comments)", "error"
    elif fs.decoded == 0:
        why, status = (f"none of its {fs.total:,} frames could be decoded ({fs.error:,} malformed or error, "
                       f"{fs.unknown:,} with ids the DBC does not describe)"), "error"
    else:
        why, status = "", "pass"
    return verdict(status, evidence={"problem": why} if why else {}, reason=why,
                   criterion=Criterion("at least one frame decodes against the DBC", "engineering_default",
                                       minimum={"frames_total": 1}),
                   observed={"frames_total": fs.total, "frames_decoded": fs.decoded})


@edge_check("edge.frames.unknown_ids",
            "Every frame id on the bus is described by the DBC",
            "medium", ("GBT44464-4.1", "CN-MIIT-134"))
def unknown_ids(ev: Evidence) -> Verdict:
    """Frames with ids the DBC does not describe: data nobody has classified (kept in the vehicle)."""
    fs = ev.frames
    unknown = [{"id": f"0x{cid:X}", "extended": ext, "frames": n} for (cid, ext), n in fs.unknown_ids.most_common(50)]
    return verdict("warn" if fs.unknown else "pass",
                   evidence={"unknown_ids": unknown, "distinct": len(fs.unknown_ids)}, metrics={"frames_unknown": fs.unknown},
                   criterion=Criterion("no data frame has an id outside the DBC", "clause", "GBT44464-4.1",
                                       minimum={"frames_data": 1}),
                   observed={"frames_data": fs.decoded + fs.unknown})


@edge_check("edge.frames.errors",
            "No malformed, error or remote frames in the traffic",
            "low", ("R155-A5",))
def frame_errors(ev: Evidence) -> Verdict:
    """Malformed lines, error frames or remote frames in the traffic."""
    fs = ev.frames
    return verdict("warn" if fs.error else "pass",
                   evidence={"reasons": dict(fs.error_reasons), "malformed_lines": fs.malformed_lines},
                   metrics={"frames_error": fs.error},
                   criterion=Criterion("no malformed, error or remote frame", "engineering_default",
                                       minimum=_ONE_FRAME),
                   observed={"frames_total": fs.total, "frames_decoded": fs.decoded})


@edge_check("edge.frames.length",
            "Frames carry the length the DBC declares (truncated frames are decoded as far as their bytes go)",
            "low", ("GBT44464-4.1",))
def frame_length(ev: Evidence) -> Verdict:
    """Frames shorter or longer than the DBC declares (truncated ones are decoded as far as their bytes go)."""
    fs = ev.frames
    return verdict("warn" if fs.truncated or fs.oversize else "pass", evidence={},
                   metrics={"frames_truncated": fs.truncated, "frames_oversize": fs.oversize},
                   criterion=Criterion("every decoded frame has the DBC's length", "engineering_default",
                                       minimum=_ONE_FRAME),
                   observed={"frames_decoded": fs.decoded})


@edge_check("edge.uplink.location_precision",
            "No position leaves the vehicle more precise than a consented purpose needs",
            "critical", ("CN-ADR-6", "CN-ADR-9", "EDPB-LOC"))
def location_precision(ev: Evidence) -> Verdict:
    """A position left the vehicle with more decimals than the consented purpose allows."""
    a = ev.audit
    bad = bool(a.location_violations)
    return verdict("fail" if bad else "pass",
                   evidence={"violations": a.location_violations[:20], "allowed_decimals": ev.location_decimals,
                    "consented_location_purposes": ev.location_purposes,
                    "max_decimals_seen": a.location_max_decimals_seen if a.location_values else None},
                   metrics={"location_values_out": a.location_values},
                   criterion=Criterion(f"outbound positions carry at most {ev.location_decimals} decimals (the consented "
                                       "purpose's precision in the policy), none without a consented purpose",
                                       "engineering_default", "policy [purposes] location_decimals",
                                       minimum={"position_frames_decoded": 1}),
                   observed={"position_frames_decoded": ev.decoded_of(lambda s: s.cls.role in LOCATION_ROLES),
                             "location_values_out": a.location_values})


@edge_check("edge.uplink.no_clear_vin",
            "No VIN or other identifier leaves in clear",
            "high", ("GBT44464-A", "GBT44464-5.4", "EDPB-ANON"))
def no_clear_vin(ev: Evidence) -> Verdict:
    """A VIN or another identifier left the vehicle in clear (not pseudonymised)."""
    a = ev.audit
    return verdict("fail" if a.vin_violations else "pass",
                   evidence={"violations": a.vin_violations[:20]},
                   criterion=Criterion("no outbound value is a clear VIN or an identifier the policy pseudonymises",
                                       "clause", "GBT44464-A", minimum={"identifier_frames_decoded": 1}),
                   observed={"identifier_frames_decoded": ev.decoded_of(lambda s: s.cls.category == "identifier")})


@edge_check("edge.uplink.no_cabin_biometric_exterior_media",
            "No cabin audio/video, biometric, driver-monitoring, key material or exterior raw image data "
            "leaves the vehicle",
            "critical", ("CN-ADR-9", "GBT44464-5.1", "GBT44464-6.1", "CN-ADR-8", "R155-A5"))
def no_forbidden_media(ev: Evidence) -> Verdict:
    """Cabin audio/video, biometric, driver-monitoring, key material or exterior raw images left the vehicle."""
    a = ev.audit
    return verdict("fail" if a.forbidden else "pass",
                   evidence={"violations": dict(a.forbidden.most_common(20))},
                   criterion=Criterion("no outbound value of these categories", "clause", "CN-ADR-9",
                                       minimum={"such_frames_decoded": 1}),
                   observed={"such_frames_decoded": ev.decoded_of(
                       lambda s: s.cls.category in NEVER_OUT_CATEGORIES or s.cls.role == "exterior_media")})


@edge_check("edge.uplink.technical_data_leaves",
            "Technical data still leaves, so the uplink stays useful",
            "low", ("CN-ADR-6",))
def technical_data_leaves(ev: Evidence) -> Verdict:
    """No technical data leaves: the policy keeps so much in the vehicle that the uplink is useless."""
    a = ev.audit
    return verdict("pass" if a.technical_values else "warn", evidence={},
                   metrics={"technical_values_out": a.technical_values},
                   criterion=Criterion("at least one technical value leaves", "engineering_default",
                                       minimum={"technical_frames_decoded": 1}),
                   observed={"technical_frames_decoded": ev.decoded_of(lambda s: s.cls.category in TECHNICAL_CATEGORIES)})


@edge_check("edge.cabin.default_off",
            "No cabin data appears while its sensor reports off",
            "high", ("GBT44464-5.1", "CN-ADR-9"))
def cabin_default_off(ev: Evidence) -> Verdict:
    """Cabin data appeared on the bus while its own sensor status said off. This sees the bus only: the
    per-drive default and the in-vehicle indicator need a person's attestation (the report asks for it)."""
    fs = ev.frames
    return verdict("fail" if fs.cabin_on_while_off else "pass",
                   evidence={"frames_by_message": dict(fs.cabin_on_while_off)},
                   criterion=Criterion("no non-zero cabin value in a frame whose status signal is 0 (off)",
                                       "clause", "GBT44464-5.1", minimum={"cabin_frames_decoded": 1}),
                   observed={"cabin_frames_decoded": sum(fs.decoded_by_message.get(m, 0) for m in ev.cabin_messages)})


@edge_check("edge.policy.unclassified",
            "Every signal is explained by a rule (unexplained ones are kept in the vehicle)",
            "medium", ("GBT44464-4.1",))
def policy_unclassified(ev: Evidence) -> Verdict:
    """Signals no rule explains (they are kept in the vehicle until a person decides)."""
    signals = [s for m in ev.plan.messages for s in m.signals]
    unclassified = sorted(f"{m.name}.{s.name}" for m in ev.plan.messages for s in m.signals
                          if s.cls.category == "unclassified")
    return verdict("needs_review" if unclassified else "pass",
                   evidence={"signals": unclassified[:100]}, metrics={"unclassified_signals": len(unclassified)},
                   criterion=Criterion("every DBC signal is matched by a policy rule", "clause", "GBT44464-4.1",
                                       minimum={"signals": 1}),
                   observed={"signals": len(signals)})


@edge_check("edge.spool.no_loss",
            "The spool lost no batch to its size bound",
            "high", ("R155-A5",))
def spool_no_loss(ev: Evidence) -> Verdict:
    """The spool's size bound evicted batches before they were delivered."""
    return verdict("fail" if ev.batches_evicted else "pass", evidence={},
                   metrics={"batches_evicted": ev.batches_evicted, "bytes_evicted": ev.bytes_evicted},
                   criterion=Criterion("no batch evicted", "engineering_default", minimum={"batches_written": 1}),
                   observed={"batches_written": ev.batches_written})


@edge_check("edge.frames.undocumented_identifiers",
            "No personal identifier hides in frames the DBC does not describe",
            "medium", ("GBT44464-4.1", "CN-ADR-3"))
def undocumented_identifiers(ev: Evidence) -> Verdict:
    """Frames (or reassembled payloads) the DBC does not describe carry a VIN with a valid check digit, an
    IMEI or an ICCID: personal identifiers nobody catalogued (they stay in the vehicle, but the DBC and the
    catalogue are incomplete)."""
    sc = ev.scan

    def name(key: tuple) -> str:
        return f"0x{key[1]:X}" if key[0] == "can" else f"{key[0]} 0x{key[1]:X}"

    hits = [{"id": name(k), "identifiers": sorted(v), "frames_scanned": sc.scanned[k]}
            for k, v in sorted(sc.hits.items(), key=lambda kv: str(kv[0]))]
    scanned = sum(sc.scanned.values())
    return verdict("warn" if hits else "pass",
                   evidence={"ids": hits[:50], "ids_scanned": len(sc.scanned)}, metrics={"frames_scanned": scanned},
                   criterion=Criterion(f"no ASCII VIN (valid check digit), IMEI or ICCID (Luhn) in the first "
                                       f"{FRAMES_PER_ID:,} frames of each undocumented id", "engineering_default",
                                       minimum={"frames_data": 1}),
                   observed={"frames_data": ev.frames.decoded + ev.frames.unknown, "frames_scanned": scanned})


@edge_check("edge.uplink.sensitive_areas",
            "No position inside a sensitive area leaves the vehicle",
            "critical", ("CN-ADR-3", "GBT44464-5.6"))
def sensitive_areas(ev: Evidence) -> Verdict:
    """A position inside a sensitive area (a user-provided polygon) left the vehicle: important data that the
    handler must suppress (GB/T 44464 geofence suppression). The auditor checks the outbound records itself."""
    a = ev.audit
    if not ev.areas:
        return verdict("not_assessed", evidence={}, reason="no sensitive areas given (--geofence)",
                       criterion=Criterion("no outbound position inside a sensitive-area polygon", "clause",
                                           "CN-ADR-3", minimum={"areas": 1}),
                       observed={"areas": 0})
    return verdict("fail" if a.in_sensitive_area else "pass",
                   evidence={"areas": list(ev.areas), "positions_inside_decoded": dict(ev.geofence_hits),
                             "positions_inside_outbound": dict(a.in_sensitive_area)},
                   metrics={"positions_inside_decoded": sum(ev.geofence_hits.values())},
                   criterion=Criterion("no outbound position inside a sensitive-area polygon (user-provided)", "clause",
                                       "CN-ADR-3", minimum={"position_frames_decoded": 1}),
                   observed={"areas": len(ev.areas), "position_frames_decoded": ev.decoded_of(
                       lambda s: s.cls.role in LOCATION_ROLES)})


@edge_check("edge.transport.sessions",
            "Multi-frame transfers complete, so their payloads are classified",
            "low", ("GBT44464-4.1",))
def transport_sessions(ev: Evidence) -> Verdict:
    """Multi-frame transfers (J1939 TP, ISO-TP, NMEA 2000 fast packets) that did not complete: their payload
    could not be classified (lost frames, aborts, or a log cut in the middle of one)."""
    s = ev.transport.sessions
    done = sum(n for k, n in s.items() if k.endswith(".completed"))
    broken = sum(n for k, n in s.items() if not k.endswith(".completed"))
    return verdict("warn" if broken else "pass",
                   evidence={"sessions": dict(sorted(s.items())),
                             "payloads_unknown": dict(ev.frames.unknown_payloads.most_common(20))},
                   metrics={"sessions_completed": done, "sessions_incomplete": broken},
                   criterion=Criterion("every transport session completes (no abort, no timeout)", "engineering_default",
                                       minimum={"sessions": 1}),
                   observed={"sessions": done + broken, "transport_frames": ev.frames.transport})


def run_checks(ev: Evidence, checks: Iterable[EdgeCheck] = CHECKS) -> list[dict[str, Any]]:
    return [fn(ev) for fn in checks]
