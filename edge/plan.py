"""The compiled plan: one precomputed entry per frame id, built once from DBC + policy.

Everything the per-frame loop would otherwise look up (bit positions, masks, scaling, multiplexing,
the classification and the handling of every signal) is computed here, so decoding and handling are
table-driven. J1939 messages are matched by PGN, not by exact id (cantools' ``decode_message``
ignores ``frame_id_mask``; see ../shared/reference/can.md §3.4).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from vehicle_ds.catalog import apply_combinations
from vehicle_ds.classifier import Classification, Classifier
from vehicle_ds.dbc import LoadedDatabase, fields_of
from vehicle_ds.policy import Policy


class PayloadDecoders(Protocol):
    """Built-in knowledge of reassembled payloads no DBC describes (``edge.builtin.BuiltinDecoders``)."""

    plans: list[MessagePlan]

    def decode(self, msg: Any) -> tuple[MessagePlan, dict[str, Any]] | None: ...


@dataclass
class SignalPlan:
    name: str
    little: bool
    shift_bit: int  # LE: DBC start bit; BE: bit index (MSB-first numbering) of the most significant bit
    length: int
    signed: bool
    is_float: bool
    scale: float | int
    offset: float | int
    integer: bool  # cantools returns ints when scale and offset are ints
    b0: int  # first byte the signal touches
    b1: int  # one past the last byte
    mux_parent: str | None
    mux_ids: tuple[int, ...]
    is_multiplexer: bool
    cls: Classification
    handling: str = "keep"
    composite: str | None = None  # identifier spread over several signals, e.g. "VIN"
    minimum: float | None = None
    maximum: float | None = None


@dataclass
class MessagePlan:
    name: str
    frame_id: int
    extended: bool
    length: int
    is_fd: bool
    pgn: int | None
    signals: list[SignalPlan]
    by_name: dict[str, SignalPlan] = field(default_factory=dict)
    # a diagnostic payload's layout (ISO-TP): "bare" starts at the service id; "vendor" keeps one length
    # byte before it, as many vendor UDS DBCs expect; with the reason it was chosen
    layout: str = "bare"
    layout_reason: str = ""

    def __post_init__(self) -> None:
        self.by_name = {s.name: s for s in self.signals}
        # decode order: selectors before the signals they select
        self.signals.sort(key=lambda s: (not s.is_multiplexer, s.mux_parent is not None))


def j1939_pgn(can_id: int) -> int:
    """PGN of a 29-bit id: PDU1 (PF < 240) drops the destination address byte."""
    pgn = (can_id >> 8) & 0x3FFFF
    if ((pgn >> 8) & 0xFF) < 240:
        pgn &= 0x3FF00
    return pgn


def _signal_plan(sig, cls: Classification) -> SignalPlan:
    little = sig.byte_order == "little_endian"
    if little:
        shift = sig.start
        b0, b1 = shift // 8, (shift + sig.length - 1) // 8 + 1
    else:
        shift = (sig.start // 8) * 8 + (7 - sig.start % 8)
        b0, b1 = shift // 8, (shift + sig.length - 1) // 8 + 1
    scale, offset = sig.scale, sig.offset
    integer = isinstance(scale, int) and isinstance(offset, int) and not sig.is_float
    parent = getattr(sig, "multiplexer_signal", None)
    return SignalPlan(
        name=sig.name, little=little, shift_bit=shift, length=sig.length, signed=sig.is_signed,
        is_float=bool(sig.is_float), scale=scale, offset=offset, integer=integer, b0=b0, b1=b1,
        mux_parent=parent if sig.multiplexer_ids else None, mux_ids=tuple(sig.multiplexer_ids or ()),
        is_multiplexer=bool(sig.is_multiplexer), cls=cls, handling=cls.handling,
        minimum=sig.minimum, maximum=sig.maximum,
    )


_DIGITS = re.compile(r"\d+")


def _mark_composites(plan: MessagePlan) -> None:
    """Identifier characters spread over numbered signals (VIN_Char01..17) form one identifier: hashing
    each character alone would be trivially reversible, so they are assembled and hashed whole."""
    groups: dict[str, list[SignalPlan]] = {}
    for s in plan.signals:
        if s.handling == "pseudonymize" and s.cls.role == "vin":
            groups.setdefault(_DIGITS.sub("", s.name).rstrip("_") or "VIN", []).append(s)
    for key, members in groups.items():
        if len(members) > 1:
            name = "VIN" if "vin" in key.lower() else key
            for s in members:
                s.composite = name


class Plan:
    """Frame id -> :class:`MessagePlan`, with J1939 PGN fallback for 29-bit ids. DBCs bound to a channel
    (``--dbc CHANNEL=FILE``) describe that channel only; unbound DBCs describe every channel."""

    def __init__(self, messages: Iterable[MessagePlan], policy: Policy,
                 bound: dict[str, list[MessagePlan]] | None = None, decoders: PayloadDecoders | None = None) -> None:
        self.policy = policy
        self.shared = list(messages)
        self.bound = bound or {}
        self.messages = self.shared + [m for ms in self.bound.values() for m in ms]
        self.decoders = decoders  # built-in knowledge for reassembled payloads no DBC describes
        self.builtin = decoders.plans if decoders else []
        self._tables = {None: self._table(self.shared)}
        for ch, ms in self.bound.items():
            self._tables[ch] = self._table(self.shared + ms)
        self.exact, self.by_pgn, _ = self._tables[None]
        self.unmarked_pgn_matches: set[str] = set()  # J1939 payloads matched to messages not marked J1939PG
        self._cache: dict[tuple[int, bool, str | None], MessagePlan | None] = {}

    @staticmethod
    def _table(messages: list[MessagePlan]) -> tuple[dict, dict, dict]:
        return ({(m.frame_id, m.extended): m for m in messages},
                {m.pgn: m for m in messages if m.pgn is not None},
                # any 29-bit message by its PGN: a reassembled J1939 payload matches a DBC message whatever
                # its frame-format attribute says (many J1939 DBCs never set J1939PG)
                {j1939_pgn(m.frame_id): m for m in messages if m.extended and m.pgn is None})

    def lookup(self, can_id: int, extended: bool, channel: str | None = None) -> MessagePlan | None:
        key = (can_id, extended, channel)
        if key in self._cache:
            return self._cache[key]
        exact, by_pgn, _ = self._tables.get(channel, self._tables[None])
        m = exact.get((can_id, extended))
        if m is None and extended and by_pgn:
            m = by_pgn.get(j1939_pgn(can_id))
        self._cache[key] = m
        return m

    def payload_plan(self, protocol: str, key: int, extended: bool, channel: str | None) -> MessagePlan | None:
        """The DBC message describing a reassembled payload: by PGN (J1939, NMEA 2000), by id (ISO-TP)."""
        exact, by_pgn, any_pgn = self._tables.get(channel, self._tables[None])
        if protocol == "isotp":
            return exact.get((key, extended))
        m = by_pgn.get(key) or exact.get((key, True))
        if m is None and key in any_pgn:
            m = any_pgn[key]
            self.unmarked_pgn_matches.add(m.name)
        return m


_SERVICE = re.compile(r"^(service|sid|service_?id|uds_?service)$", re.I)


def payload_layout(msg) -> tuple[str, str]:
    """Where a DBC message describing a diagnostic payload expects the service id: UDS DBCs multiplex on it
    (extended multiplexing: service, then the data identifier). At byte 1 the DBC counts the length byte
    before it (the vendor layout of CSS Electronics' UDS DBCs); at byte 0 it starts at the service id."""
    sel = next((s for s in msg.signals if s.is_multiplexer and not s.multiplexer_ids), None) or \
        next((s for s in msg.signals if _SERVICE.match(s.name)), None)
    if sel is None:
        return "bare", "no service selector: the payload as reassembled"
    byte = sel.start // 8  # the first byte the selector occupies, in either byte order
    if byte == 1:
        return "vendor", f"selector {sel.name} at byte 1: one length byte before the service id"
    return "bare", f"selector {sel.name} at byte {byte}"


def isotp_ids(messages: Iterable[MessagePlan], builtin: Iterable[int]) -> tuple[tuple[int, ...], dict[str, list[str]]]:
    """The 11-bit ids that carry ISO-TP: the built-in diagnostic range, minus ids a DBC defines as ordinary
    frames (a DBC definition of an id wins), plus ids of classic (non-FD) messages a DBC declares longer
    than 8 bytes (only a transport protocol carries those: vendor UDS responses on 0x7BB and the like)."""
    short = {m.frame_id for m in messages if not m.extended and m.length <= 8}
    long = {m.frame_id for m in messages if not m.extended and m.length > 8 and not m.is_fd}
    ids = (set(builtin) - short) | long
    why = {"from_dbc": [f"0x{i:X}" for i in sorted(long - set(builtin))],
           "dbc_defines_as_frames": [f"0x{i:X}" for i in sorted(short & set(builtin))]}
    return tuple(sorted(ids)), why


def _signature(msg) -> tuple:
    return (msg.name, msg.length, tuple((s.name, s.start, s.length, s.byte_order, s.scale, s.offset)
                                        for s in msg.signals))


def _refuse_collisions(databases: list[LoadedDatabase], bindings: list[str | None]) -> None:
    """Two DBCs on one channel (or unbound, so on every channel) defining one id differently: refused, since
    the last one would otherwise win silently and turn one message's frames into another's signals."""
    from vehicle_ds.errors import InputError

    channels = {b for b in bindings if b is not None} or {None}
    for ch in channels:
        seen: dict[tuple[int, bool], tuple[str, tuple]] = {}
        for db, b in zip(databases, bindings, strict=True):
            if b is not None and b != ch:
                continue
            for msg in db.db.messages:
                key = (msg.frame_id, bool(msg.is_extended_frame))
                sig = _signature(msg)
                if key in seen and seen[key][1] != sig:
                    where = f"on channel {ch}" if ch is not None else "(both unbound: every channel)"
                    raise InputError(f"id 0x{key[0]:X} is defined differently by {seen[key][0]} and {db.path} "
                                     f"{where}; bind each DBC to its bus with --dbc CHANNEL=FILE")
                seen.setdefault(key, (db.path, sig))


def compile_plan(databases: Iterable[LoadedDatabase], policy: Policy,
                 bindings: Iterable[str | None] | None = None, location_leaves: bool = True,
                 decoders: Callable[[Classifier], PayloadDecoders] | None = None) -> Plan:
    databases = list(databases)
    bindings = list(bindings) if bindings is not None else [None] * len(databases)
    _refuse_collisions(databases, bindings)
    classifier = Classifier(policy)
    raw: list[tuple[object, list[tuple[object, Classification]], str | None]] = []
    items = []
    for db, channel in zip(databases, bindings, strict=True):
        for msg in db.db.messages:
            sigs = []
            for sig, fld in fields_of(msg):
                c = classifier.classify(fld)
                sigs.append((sig, c))
                items.append(({"message": msg.name, "signal": sig.name}, c))
            raw.append((msg, sigs, channel))
    # Combinations (trajectory, surveying, offence-related) can make handling stricter: apply them once.
    items, _ = apply_combinations(items, policy, location_leaves)
    final = {(e["message"], e["signal"]): c for e, c in items}
    shared: list[MessagePlan] = []
    bound: dict[str, list[MessagePlan]] = {}
    done: set[tuple[str | None, int, bool]] = set()
    for msg, sigs, channel in raw:
        key = (channel, msg.frame_id, bool(msg.is_extended_frame))
        if key in done:  # the same definition in two DBCs (checked identical above)
            continue
        done.add(key)
        is_j1939 = msg.protocol == "j1939"
        sp = [_signal_plan(sig, final[(msg.name, sig.name)]) for sig, _ in sigs]
        mp = MessagePlan(name=msg.name, frame_id=msg.frame_id, extended=bool(msg.is_extended_frame),
                         length=msg.length, is_fd=bool(msg.is_fd),
                         pgn=j1939_pgn(msg.frame_id) if is_j1939 and msg.is_extended_frame else None,
                         signals=sp)
        _mark_composites(mp)
        mp.layout, mp.layout_reason = payload_layout(msg)
        (shared if channel is None else bound.setdefault(channel, [])).append(mp)
    return Plan(shared, policy, bound, decoders(classifier) if decoders else None)
