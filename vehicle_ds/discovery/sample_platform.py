"""A generated connected-vehicle platform database whose columns are labelled: the test of discovery's recall
and false alarms, the benchmark's data and the demo's sample platform. Every personal value is made up
(valid checksums, no real person)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from ..evidence.detectors import luhn, vin_check_digit

VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
DISTRICTS = ["北京市朝阳区建国路", "上海市浦东新区世纪大道", "广州市天河区天河路", "深圳市南山区科技园路", "杭州市西湖区文三路"]


def cn_id(r: random.Random) -> str:
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=r.randrange(20_000))
    body = f"110105{birth:%Y%m%d}{r.randrange(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def vin(r: random.Random) -> str:
    chars = [r.choice(VIN_CHARS) for _ in range(17)]
    chars[0] = "L"
    chars[8] = vin_check_digit("".join(chars))
    return "".join(chars)


def luhn_complete(prefix: str, length: int, r: random.Random) -> str:
    body = prefix + "".join(str(r.randrange(10)) for _ in range(length - len(prefix) - 1))
    return next(body + d for d in "0123456789" if luhn(body + d))


def phone(r: random.Random) -> str:
    return f"1{r.choice('3456789')}{r.randrange(10**9):09d}"


def plate(r: random.Random) -> str:
    p = r.choice("京沪粤浙苏")
    letter = r.choice("ABCDEFGHJK")
    if r.random() < 0.3:  # new-energy plate
        return f"{p}{letter}D{r.randrange(10**5):05d}"
    return f"{p}{letter}{r.randrange(10**5):05d}"


def name(r: random.Random) -> str:
    return r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2))))


def address(r: random.Random) -> str:
    return f"{r.choice(DISTRICTS)}{r.randrange(1, 300)}号{r.randrange(1, 30)}栋{r.randrange(1, 2000)}室"


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)

# (table, column, sql type, generator, label): label is the category a reviewer assigns ("none": no personal data)
Column = tuple[str, str, Any, str]


def schema(r: random.Random) -> dict[str, list[Column]]:
    t0 = dt.datetime(2026, 1, 1)

    def ts() -> str:
        return (t0 + dt.timedelta(seconds=r.randrange(30_000_000))).isoformat()

    def lat() -> float:
        return round(39.9 + r.uniform(-0.3, 0.3), 6)

    def lon() -> float:
        return round(116.4 + r.uniform(-0.3, 0.3), 6)

    return {
        "users": [("user_id", "int", lambda i: i, "identifier"), ("real_name", "text", lambda i: name(r), "personal"),
                  ("id_card", "text", lambda i: cn_id(r), "personal"), ("mobile", "text", lambda i: phone(r), "personal"),
                  ("email", "text", lambda i: f"u{i}@example.com", "personal"),
                  ("address", "text", lambda i: address(r), "personal"),
                  ("bank_card", "text", lambda i: luhn_complete("622848", 19, r), "personal"),
                  ("remark", "text", lambda i: f"请联系 {phone(r)}" if r.random() < 0.3 else "VIP", "personal"),
                  ("created_at", "text", lambda i: ts(), "none"), ("level", "int", lambda i: r.randrange(5), "none")],
        "vehicles": [("vin", "text", lambda i: vin(r), "identifier"), ("plate_no", "text", lambda i: plate(r), "identifier"),
                     ("owner_id", "int", lambda i: r.randrange(10_000), "identifier"),
                     ("model", "text", lambda i: r.choice(["EV-1", "EV-2", "SUV-X"]), "none"),
                     ("color", "text", lambda i: r.choice(["白", "黑", "蓝"]), "none"),
                     ("tbox_imei", "text", lambda i: luhn_complete("35", 15, r), "identifier")],
        "trips": [("trip_id", "int", lambda i: i, "none"), ("vin", "text", lambda i: vin(r), "identifier"),
                  ("start_lat", "real", lambda i: lat(), "location"), ("start_lon", "real", lambda i: lon(), "location"),
                  ("end_lat", "real", lambda i: lat(), "location"), ("end_lon", "real", lambda i: lon(), "location"),
                  ("distance_km", "real", lambda i: round(r.uniform(1, 80), 1), "none"),
                  ("started_at", "text", lambda i: ts(), "none")],
        "charging_sessions": [("session_id", "int", lambda i: i, "none"), ("vin", "text", lambda i: vin(r), "identifier"),
                              ("station_name", "text", lambda i: r.choice(["国贸充电站", "望京超充", "亦庄快充"]), "none"),
                              ("kwh", "real", lambda i: round(r.uniform(5, 70), 2), "none"),
                              ("latitude", "real", lambda i: lat(), "location"),
                              ("longitude", "real", lambda i: lon(), "location")],
        "orders": [("order_no", "text", lambda i: f"SO{i:010d}", "none"), ("user_id", "int", lambda i: r.randrange(10_000),
                                                                           "identifier"),
                   ("amount", "real", lambda i: round(r.uniform(10, 900), 2), "none"),
                   ("product_name", "text", lambda i: r.choice(["保养套餐", "充电卡", "车载流量"]), "none"),
                   ("note", "text", lambda i: f"送至{address(r)}" if r.random() < 0.5 else "", "personal")],
        "service_logs": [("ts", "text", lambda i: ts(), "none"), ("level", "text", lambda i: r.choice(["INFO", "WARN"]), "none"),
                         ("message", "text", lambda i: f"diag ok vin={vin(r)}" if r.random() < 0.4 else "heartbeat ok",
                          "identifier")],
        "sensor_samples": [("sample_id", "int", lambda i: i, "none"),
                           ("lat", "int", lambda i: 1_767_225_600 + i, "review"),  # a "lat" holding timestamps
                           ("value", "real", lambda i: r.random(), "none")],
        "face_images": [("user_id", "int", lambda i: i, "identifier"), ("face", "blob", lambda i: JPEG, "biometric"),
                        ("taken_at", "text", lambda i: ts(), "none")],
    }


def build(url: str, rows: int = 300, seed: int = 7) -> dict[tuple[str, str], str]:
    """Create the tables at ``url`` with ``rows`` rows each; returns the labels {(table, column): category}."""
    from sqlalchemy import Column as SaColumn
    from sqlalchemy import Float, Integer, LargeBinary, MetaData, Table, Text, create_engine, insert

    r = random.Random(seed)
    types = {"int": Integer, "text": Text, "real": Float, "blob": LargeBinary}
    engine = create_engine(url)
    meta = MetaData()
    labels = {}
    tables = {}
    for tname, cols in schema(r).items():
        tables[tname] = (Table(tname, meta, *(SaColumn(c, types[t]) for c, t, _, _ in cols)), cols)
        labels.update({(tname, c): lab for c, _, _, lab in cols})
    meta.drop_all(engine)
    meta.create_all(engine)
    with engine.begin() as conn:
        for t, cols in tables.values():
            conn.execute(insert(t), [{c: gen(i) for c, _, gen, _ in cols} for i in range(rows)])
    engine.dispose()
    return labels
