"""Property tests: naming noise never turns a technical look-alike into a position, nor a position
into technical data (issue: "smart, not substring-naive")."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vehicle_ds import Classifier, Field, load_policy

CLF = Classifier(load_policy())

# (words, unit, message words)
LOOK_ALIKES = [
    (["Lat", "Accel"], "m/s^2", ["Chassis"]),
    (["LAT", "ACCEL"], "", ["VSA"]),
    (["Long", "Ctrl", "Enbl", "D", "Rq"], "", ["ACCDATA"]),
    (["Veh", "Lat", "A", "Actl"], "m/s^2", ["Yaw", "Data"]),
    (["LEAD", "LONG", "DIST"], "m", ["ACC", "Control"]),
    (["Steering", "Wheel", "Angle"], "deg", ["SAS"]),
    (["Str", "Ang"], "deg", ["EPS"]),
    (["Lat", "Offset"], "m", ["Lane"]),
    (["Long", "Accel", "Rq"], "m/s^2", ["ACC"]),
    (["Lat", "Vel"], "m/s", ["Obj"]),
    (["Lon", "Jerk"], "m/s^3", ["Ctrl"]),
    (["Roll", "Angle"], "deg", ["IMU"]),
    (["Lat", "Ctrl", "Err"], "deg", ["LKA"]),
]
POSITIONS = [
    (["Pos", "Lat"], "", ["GNSS"]),
    (["Pos", "Lon"], "", ["GNSS"]),
    (["GPS", "Latitude"], "milliarcsecond", ["Nav"]),
    (["GPS", "Longitude"], "milliarcsecond", ["Nav"]),
    (["Chrg", "Loc", "Latt", "Deg", "An"], "", ["Charge"]),
    (["Chrg", "Loc", "Latt", "Frct", "An"], "", ["Charge"]),
    (["Wei", "Du"], "", ["Info"]),
    (["Jing", "Du"], "", ["Info"]),
    (["Latitude"], "deg", ["Position"]),
    (["Lat"], "°", ["Vehicle"]),
    (["Lon"], "rad", ["Vehicle"]),
    (["Longitude"], "", ["TBOX"]),
]
NEUTRAL = ["Msg", "Sig", "Can1", "Ch2", "X", "Q", "Ecu3", "Val", "Info", "Fd", "B1", "Hs", "V2", "Bus0"]


def _render(words: list[str], sep: str, case: str) -> str:
    if case == "upper":
        return sep.join(w.upper() for w in words)
    if case == "lower":
        return sep.join(w.lower() for w in words)
    return sep.join(w[:1].upper() + w[1:] for w in words)


@st.composite
def noisy(draw, base, keep_boundaries: bool):
    words, unit, msg = draw(st.sampled_from(base))
    pre = draw(st.lists(st.sampled_from(NEUTRAL), max_size=2))
    post = draw(st.lists(st.sampled_from(NEUTRAL), max_size=2))
    case = draw(st.sampled_from(["camel", "upper", "lower"]))
    # Without a separator, upper/lower case erase word boundaries: positions keep them, look-alikes need not.
    seps = ["_", "-", "."] + ([""] if case == "camel" or not keep_boundaries else [])
    sep = draw(st.sampled_from(seps))
    unit_case = draw(st.sampled_from([unit, unit.upper(), unit.lower()]))
    return Field(_render([*pre, *words, *post], sep, case), message=_render(msg, "_", "camel"), unit=unit_case)


@given(noisy(LOOK_ALIKES, keep_boundaries=False))
def test_look_alikes_never_become_positions(f):
    c = CLF.classify(f)
    assert c.category != "location", f"{f.name} ({f.unit}) classified as {c.rule}"


@given(noisy(POSITIONS, keep_boundaries=True))
def test_positions_never_become_technical(f):
    c = CLF.classify(f)
    assert c.category == "location" and c.pi == "sensitive", f"{f.name} ({f.unit}) classified as {c.rule}"


@pytest.mark.parametrize("name,message", [
    ("VIN_Char01", "VIN_Info"), ("Char7", "VehIdent"), ("VINPart2", "Body"), ("Vin_Byte_3", "Gateway"),
    ("Data5", "VIN_Multiplex"), ("VehicleIdentificationNumber", "X"),
])
def test_vin_pieces_are_vin(name, message):
    assert CLF.classify(Field(name, message)).rule == "identifier.vin"


@pytest.mark.parametrize("name", ["IMEI", "TBOX_ICCID", "EcuSerialNumber", "CR_Acu_SN", "TPMS_SensorId", "IMSI_Hi",
                                  "BtMacAddr", "SimIccid"])
def test_identifiers(name):
    c = CLF.classify(Field(name, "Identity"))
    assert c.category == "identifier" and c.handling == "pseudonymize", c.rule


def test_chinese_comment_and_pinyin():
    assert CLF.classify(Field("Sig_17", "M1", comment="车辆纬度")).category == "location"
    assert CLF.classify(Field("GPS_经度", "M1")).category == "location"
    assert CLF.classify(Field("CheSu", "M1")).rule == "condition.speed"


def test_classification_is_deterministic():
    f = Field("GNSS_Latitude", "GNSS", "deg")
    assert CLF.classify(f) == Classifier(load_policy()).classify(f)
