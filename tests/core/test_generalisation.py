"""Classification on names people who are not us wrote: 193 signals of 17 opendbc files and 69 columns of four
published mobility datasets, labelled by meaning before the classifier was run on them
(tests/data/generalisation/*.csv). Recall of positions, trajectory parts, identifiers and personal attributes
≥ 0.95 and false alarms on technical look-alikes ≤ 0.05; a coordinate's sign or hemisphere bit is never
coarsened. The first run on these sets (before the fixes they prompted) is in the closing note of issue 31:
signals 0.886 recall / 0.122 false alarms, columns 0.89 / 0.08."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from vehicle_ds.discovery.discover import classify_column
from vehicle_ds.discovery.sources import Table

HERE = Path(__file__).parent.parent / "data" / "generalisation"


def _rows(name: str) -> list[dict[str, str]]:
    with open(HERE / name, encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def _alarm(e: dict) -> bool:
    return (e["category"] == "identifier" or e["pi"] == "sensitive" or e["grade"] == "important"
            or (e["category"] == "location" and e["handling"] != "keep"))


def test_opendbc_signals_named_by_others_are_found_without_false_alarms():
    opendbc = pytest.importorskip("opendbc", reason="opendbc ships the outside DBCs (dev extra)")
    from vehicle_ds.catalog import build_catalog

    base = Path(opendbc.__file__).parent / "dbc"
    rows = _rows("opendbc_labels.csv")
    got = {}
    for f in sorted({r["file"] for r in rows}):
        for e in build_catalog([base / f])["entries"]:
            got[(f, e["message"], e["signal"])] = e
    found, positives, alarms, technical, misses = 0, 0, 0, 0, []
    for r in rows:
        e = got[(r["file"], r["message"], r["signal"])]
        label = r["label"]
        if label in ("location", "trajectory"):
            ok = e["category"] == "location" and e["pi"] == "sensitive" and e["handling"] != "keep"
        elif label == "identifier":
            ok = e["category"] == "identifier" and e["handling"] != "keep"
        elif label == "sign":
            assert e["handling"] != "coarsen", (r, e["rule"])  # one bit of a position: nothing to coarsen
            continue
        else:
            technical += 1
            alarms += _alarm(e)
            if _alarm(e):
                misses.append((r["signal"], e["rule"]))
            continue
        positives += 1
        found += ok
        if not ok:
            misses.append((r["signal"], e["rule"]))
    assert positives >= 60 and technical >= 100
    assert found / positives >= 0.95, misses
    assert alarms / technical <= 0.05, misses


def test_published_mobility_columns_are_found_without_false_alarms():
    rows = _rows("platform_schemas.csv")
    found = positives = alarms = technical = 0
    wrong = []
    for r in rows:
        e = classify_column(Table("file:schema", r["table"], [r["column"]], [], None, False), 0)
        if r["label"] == "technical":
            technical += 1
            bad = e["pi"] != "none" or e["category"] in ("location", "identifier", "personal", "biometric")
            alarms += bad
        else:
            positives += 1
            bad = not (e["pi"] != "none" if r["label"] == "personal" else e["category"] == r["label"])
            found += not bad
        if bad:
            wrong.append((r["column"], e["category"], e["why"]))
    assert positives >= 15 and technical >= 45
    assert found / positives >= 0.95 and alarms / technical <= 0.05, wrong


@pytest.mark.parametrize(("table", "column", "values", "category"), [
    ("vehicle_track", "wd", [39.904211, 31.230416, 22.543099] * 4, "location"),  # 纬度 abbreviated, coordinates inside
    ("vehicle_track", "jd", [116.407395, 121.473701, 114.057868] * 4, "location"),
    ("vehicle_track", "wd", ["1", "2", "3"] * 4, "other"),  # the same name over small integers: no position
    ("trips", "position_time", ["2026-01-01 10:00:00", "2026-01-02 11:00:00"] * 5, "other"),  # name vs content
    ("trips", "gps_ts", [1764550800, 1764550801] * 5, "other"),
    ("users", "nickname", ["小王", "Alice"] * 3, "personal"),
    ("users", "display_name", ["a", "b"] * 3, "personal"),
    ("ecu", "Long Term Fuel Trim Bank 1[%]", [], "other"),  # a fuel-trim bank is no bank card
])
def test_content_decides_against_the_name(table, column, values, category):
    e = classify_column(Table("file:x", table, [column], [(v,) for v in values], None, False), 0)
    assert e["category"] == category, e["why"]
    if column in ("position_time", "gps_ts"):
        assert e["needs_review"] and "timestamps" in e["why"]


def test_a_store_named_in_pinyin_with_traps_and_free_text_is_found(tmp_path):
    """A store nobody here designed: pinyin column names (wd/jd, xingming, shouji, nicheng), traps (a position's
    name over timestamps, a fuel-trim bank, a jd_zhuangtai status code), personal data in free text. Read
    through the same read-only database path a platform audit uses."""
    import random
    import sqlite3

    from vehicle_ds.discovery.discover import discover
    from vehicle_ds.discovery.sample_platform import phone
    from vehicle_ds.discovery.sources import ReadOnlyDatabase

    r = random.Random(3)
    db = tmp_path / "store.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE cheliang_guiji (id INTEGER, wd REAL, jd REAL, sj TEXT, jd_zhuangtai INTEGER)")
    con.execute("CREATE TABLE yonghu (id INTEGER, xingming TEXT, shouji TEXT, nicheng TEXT, beizhu TEXT, "
                "dengji INTEGER)")
    con.execute("CREATE TABLE ecu_log (id INTEGER, gps_time INTEGER, \"Long Term Fuel Trim Bank 1\" REAL)")
    for i in range(300):
        con.execute("INSERT INTO cheliang_guiji VALUES (?,?,?,?,?)",
                    (i, round(39.9 + r.uniform(-0.3, 0.3), 6), round(116.4 + r.uniform(-0.3, 0.3), 6),
                     f"2026-01-{1 + i % 28:02d}T08:00:00", r.randrange(4)))
        con.execute("INSERT INTO yonghu VALUES (?,?,?,?,?,?)",
                    (i, r.choice(["张伟", "王芳", "李娜", "刘洋"]), phone(r), r.choice(["小王", "Lily", "阿杰"]),
                     f"请联系 {phone(r)}" if r.random() < 0.3 else "老客户", r.randrange(5)))
        con.execute("INSERT INTO ecu_log VALUES (?,?,?)", (i, 1_767_225_600 + i, round(r.uniform(-5, 5), 2)))
    con.commit()
    con.close()
    labels = {("cheliang_guiji", "id"): False, ("cheliang_guiji", "wd"): True, ("cheliang_guiji", "jd"): True,
              ("cheliang_guiji", "sj"): False, ("cheliang_guiji", "jd_zhuangtai"): False,
              ("yonghu", "id"): False, ("yonghu", "xingming"): True, ("yonghu", "shouji"): True,
              ("yonghu", "nicheng"): True, ("yonghu", "beizhu"): True, ("yonghu", "dengji"): False,
              ("ecu_log", "id"): False, ("ecu_log", "gps_time"): False, ("ecu_log", "Long Term Fuel Trim Bank 1"): False}
    source = ReadOnlyDatabase(f"sqlite:///{db}", sample=200)
    try:
        doc = discover(list(source.tables()), "pinyin-store")
    finally:
        source.close()
    got = {(e["message"].split(".")[-1], e["signal"]): e["pi"] != "none" for e in doc["entries"]}
    assert set(got) == set(labels)
    found = sum(got[k] for k, v in labels.items() if v) / sum(labels.values())
    false_alarms = sum(got[k] for k, v in labels.items() if not v) / sum(not v for v in labels.values())
    wrong = sorted(k for k in labels if got[k] != labels[k])
    assert found >= 0.95 and false_alarms <= 0.05, wrong
