"""Real databases load; broken ones fail with one line naming the file (and line)."""

from __future__ import annotations

from pathlib import Path

import cantools
import pytest

from tests.conftest import run_cli
from vehicle_ds.dbc import decode_text, load_database, repair_dbc
from vehicle_ds.errors import InputError


def _opendbc_files() -> list[Path]:
    opendbc = pytest.importorskip("opendbc")
    files = sorted((Path(opendbc.__file__).parent / "dbc").glob("*.dbc"))
    assert len(files) == 58, "opendbc 0.3.1 holds 58 top-level DBCs"
    return files


def test_all_58_opendbc_dbcs_load_and_catalog():
    failures, repaired = [], []
    for f in _opendbc_files():
        try:
            db = load_database(f)
        except InputError as exc:
            failures.append(str(exc))
            continue
        if db.repairs:
            repaired.append(f.name)
    assert not failures, failures
    # The 12 that cantools refuses as they are must be the ones we repaired.
    assert len(repaired) >= 12


def test_repairs_keep_every_message_of_a_defective_file():
    f = next(p for p in _opendbc_files() if p.name == "toyota_radar_dsu_tssp.dbc")
    db = load_database(f)
    raw = f.read_text("utf-8", errors="replace")
    assert len(db.db.messages) == raw.count("\nBO_ ")
    assert any("';'" in r for r in db.repairs)


def test_extended_ids_without_flag_become_extended():
    text = 'VERSION ""\nBU_: A\nBO_ 419364097 J1939Msg: 8 A\n SG_ EngSpd : 24|16@1+ (0.125,0) [0|8031.875] "rpm" A\n' \
           'CM_ SG_ 419364097 EngSpd "engine speed";\nVAL_ 419364097 EngSpd 0 "zero" ;\n'
    repaired, notes = repair_dbc(text)
    db = cantools.database.load_string(repaired, database_format="dbc")
    msg = db.messages[0]
    assert msg.is_extended_frame and msg.frame_id == 419364097
    assert msg.signals[0].comment == "engine speed" and notes


def test_cp1252_gbk_and_crlf(tmp_path, sample_dbc):
    text = sample_dbc.read_text("utf-8")
    # cp1252: a degree sign in a unit; GBK: the Chinese comments; CRLF line ends on both.
    cp = text.replace('"degC"', '"°C"').replace("车辆纬度", "latitude").replace("车辆经度", "longitude")
    for ch in "人脸识别匹配结果座舱麦克风音频数据前视摄像头图像数据":
        cp = cp.replace(ch, "")
    (tmp_path / "cp.dbc").write_bytes(cp.replace("\n", "\r\n").encode("cp1252"))
    (tmp_path / "gbk.dbc").write_bytes(text.replace("\n", "\r\n").encode("gbk"))
    cp_db = load_database(tmp_path / "cp.dbc")
    gbk_db = load_database(tmp_path / "gbk.dbc")
    assert cp_db.encoding == "cp1252" and gbk_db.encoding == "gbk"
    temp = cp_db.db.get_message_by_name("IVI_Environment").get_signal_by_name("AmbientTemp")
    assert temp.unit == "°C"
    lat = gbk_db.db.get_message_by_name("GNSS_Position").get_signal_by_name("GNSS_Latitude")
    assert lat.comment == "车辆纬度 WGS-84"


def test_decode_text_prefers_utf8_and_bom():
    assert decode_text("纬度".encode()) == ("纬度", "utf-8")
    assert decode_text(b"\xef\xbb\xbfBO_") == ("BO_", "utf-8-sig")
    assert decode_text("°C".encode("cp1252"))[1] == "cp1252"


@pytest.mark.parametrize("fmt", ["kcd", "sym"])
def test_other_formats_through_cantools(tmp_path, sample_dbc, fmt):
    db = cantools.database.load_file(sample_dbc)
    path = tmp_path / f"vehicle.{fmt}"
    path.write_text(db.as_kcd_string() if fmt == "kcd" else db.as_sym_string(), encoding="utf-8")
    loaded = load_database(path)
    assert loaded.format == fmt
    names = {s.name for m in loaded.db.messages for s in m.signals}
    assert {"GNSS_Latitude", "VIN_Char17", "CabinMic_AudioData"} <= names


BROKEN = {
    "syntax": 'VERSION ""\nBU_: A\nBO_ 100 Msg: 8 A\n SG_ Sig : 0|8@1+ (1,0) [0|255] "" A\nBO_ abc Broken 8 A\n',
    "truncated": 'VERSION ""\nBU_: A\nBO_ 100 Msg: 8 A\n SG_ Sig : 0|8@1+ (1,0) [0|2',
    "garbage": "\x00\x01\x02 not a dbc \xff\xfe",
    "empty": "",
    "no_messages": 'VERSION ""\nBU_: A\n',
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_malformed_dbc_gives_one_line_naming_the_file(tmp_path, kind):
    path = tmp_path / f"{kind}.dbc"
    path.write_bytes(BROKEN[kind].encode("latin-1"))
    with pytest.raises(InputError) as err:
        load_database(path)
    assert str(path) in str(err.value)
    proc = run_cli("catalog", str(path))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "bad.dbc"
    path.write_text(BROKEN["syntax"])
    with pytest.raises(InputError) as err:
        load_database(path)
    assert err.value.line == 5 and f"{path}:5:" in str(err.value)


def test_debug_shows_the_traceback(tmp_path):
    path = tmp_path / "bad.dbc"
    path.write_text(BROKEN["syntax"])
    proc = run_cli("--debug", "catalog", str(path))
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_missing_file_and_unknown_format(tmp_path):
    proc = run_cli("catalog", str(tmp_path / "nope.dbc"))
    assert proc.returncode == 2 and "nope.dbc" in proc.stderr and "Traceback" not in proc.stderr
    other = tmp_path / "x.xls"
    other.write_text("x")
    proc = run_cli("catalog", str(other))
    assert proc.returncode == 2 and "unknown database format" in proc.stderr


def test_broken_arxml_is_a_clean_error(tmp_path):
    path = tmp_path / "system.arxml"
    path.write_text("<?xml version='1.0'?><AUTOSAR><AR-PACKAGES><AR-PACKAGE>")
    with pytest.raises(InputError, match="cannot parse ARXML"):
        load_database(path)
