"""What the agent knows without a DBC: the identifiers and positions that matter for compliance and travel
in standard multi-frame payloads. Each becomes a message plan whose signals the policy's classifier
classifies like any DBC signal (so an override in the user's policy applies), and is handled the same way
(the VIN pseudonymised whole, positions coarsened per purpose).

- J1939 PGN 65260 Vehicle Identification (VIN, ``*``-terminated), PGN 65259 Component Identification
  (make, model, serial number, unit number), PGN 65242 Software Identification.
- UDS ReadDataByIdentifier positive responses (0x62): 0xF190 VIN, 0xF18C ECU serial number,
  0xF187/0xF188/0xF189/0xF194/0xF195 part and software numbers.
- OBD-II mode 09 (0x49): PID 02 VIN, PID 04 calibration id.
- NMEA 2000 PGN 129029 GNSS Position Data (latitude/longitude in 1e-16 degrees, altitude in 1e-6 m),
  PGN 126996 Product Information (serial code).
"""

from __future__ import annotations

from collections.abc import Callable

from vehicle_ds.classifier import Classifier, Field

from .plan import MessagePlan, SignalPlan
from .transport import Reassembled

Decoded = dict[str, object]


def _text(b: bytes) -> str:
    return b.split(b"\x00")[0].decode("ascii", "replace").strip(" \xff*")


def _j1939_vi(p: bytes) -> Decoded:
    vin = _text(p.split(b"*")[0])
    return {"VIN": vin} if vin else {}


def _j1939_ci(p: bytes) -> Decoded:
    parts = [_text(x) for x in p.split(b"*")]
    out: Decoded = {}
    for name, value in zip(("Make", "Model", "SerialNumber", "UnitNumber"), parts, strict=False):
        if value:
            out[name] = value
    return out


def _j1939_soft(p: bytes) -> Decoded:
    if not p:
        return {}
    ids = [_text(x) for x in p[1:].split(b"*") if _text(x)]
    return {"SoftwareVersion": ";".join(ids)} if ids else {}


_UDS_DIDS = {0xF190: "VIN", 0xF18C: "ECUSerialNumber", 0xF187: "SoftwareVersion", 0xF188: "SoftwareVersion",
             0xF189: "SoftwareVersion", 0xF194: "SoftwareVersion", 0xF195: "SoftwareVersion"}


def _uds(p: bytes) -> Decoded:
    if len(p) < 4 or p[0] != 0x62:
        return {}
    name = _UDS_DIDS.get(p[1] << 8 | p[2])
    value = _text(p[3:]) if name else ""
    return {name: value} if value else {}


def _obd09(p: bytes) -> Decoded:
    if len(p) < 3 or p[0] != 0x49 or p[1] not in (0x02, 0x04):
        return {}
    body = p[3:] if p[2] <= 0x0F else p[2:]  # a count byte (number of data items) precedes the text on CAN
    value = _text(body)
    return {"VIN" if p[1] == 0x02 else "SoftwareVersion": value} if value else {}


def _gnss_position(p: bytes) -> Decoded:
    if len(p) < 31:
        return {}
    lat = int.from_bytes(p[7:15], "little", signed=True)
    lon = int.from_bytes(p[15:23], "little", signed=True)
    alt = int.from_bytes(p[23:31], "little", signed=True)
    if lat == 0x7FFFFFFFFFFFFFFF or lon == 0x7FFFFFFFFFFFFFFF:  # "data not available"
        return {}
    return {"Latitude": lat * 1e-16, "Longitude": lon * 1e-16, "Altitude": alt * 1e-6}


def _product_information(p: bytes) -> Decoded:
    serial = _text(p[104:136]) if len(p) >= 136 else ""
    return {"SerialNumber": serial} if serial else {}


# (protocol, key or None for "any id") -> (message name, decoder, [(signal, unit)])
_KNOWN: list[tuple[str, int | None, str, Callable[[bytes], Decoded], list[tuple[str, str]]]] = [
    ("j1939", 65260, "J1939_VehicleIdentification", _j1939_vi, [("VIN", "")]),
    ("j1939", 65259, "J1939_ComponentIdentification", _j1939_ci,
     [("Make", ""), ("Model", ""), ("SerialNumber", ""), ("UnitNumber", "")]),
    ("j1939", 65242, "J1939_SoftwareIdentification", _j1939_soft, [("SoftwareVersion", "")]),
    ("isotp", None, "UDS_ReadDataByIdentifier", _uds,
     [("VIN", ""), ("ECUSerialNumber", ""), ("SoftwareVersion", "")]),
    ("isotp", None, "OBD_VehicleInformation", _obd09, [("VIN", ""), ("SoftwareVersion", "")]),
    ("nmea2000", 129029, "NMEA2000_GNSSPositionData", _gnss_position,
     [("Latitude", "deg"), ("Longitude", "deg"), ("Altitude", "m")]),
    ("nmea2000", 126996, "NMEA2000_ProductInformation", _product_information, [("SerialNumber", "")]),
]


def _plan(name: str, signals: list[tuple[str, str]], classifier: Classifier) -> MessagePlan:
    sigs = []
    for sig, unit in signals:
        cls = classifier.classify(Field(name=sig, message=name, unit=unit, comment="built-in decoder"))
        # not bit-addressed: the values come from the decoder above, so the layout fields are unused
        sigs.append(SignalPlan(name=sig, little=True, shift_bit=0, length=0, signed=False, is_float=False,
                               scale=1, offset=0, integer=False, b0=0, b1=0, mux_parent=None, mux_ids=(),
                               is_multiplexer=False, cls=cls, handling=cls.handling))
    return MessagePlan(name=name, frame_id=0, extended=False, length=0, is_fd=False, pgn=None, signals=sigs)


class BuiltinDecoders:
    """The built-in message plans of one policy, and the decoding of a reassembled payload with them."""

    def __init__(self, classifier: Classifier) -> None:
        self._entries = [(proto, key, _plan(name, sigs, classifier), fn) for proto, key, name, fn, sigs in _KNOWN]
        self.plans = [e[2] for e in self._entries]

    def decode(self, msg: Reassembled) -> tuple[MessagePlan, Decoded] | None:
        for proto, key, plan, fn in self._entries:
            if proto == msg.protocol and key in (None, msg.key):
                values = fn(msg.payload)
                if values:
                    return plan, values
        return None
