"""Classify and grade what a platform stores: column and table names through a platform vocabulary (the
same tokenizer as the signal classifier), a bounded sample of values through the validating detectors, and
the two compared. The result is a catalog document (the schema DBC catalogs use; each entry names its
source ``table.column``), plus per table the dataset facts and the dataset grade (vehicle_ds.datasets).

A column's verdict: content decides when a validating detector matches at least ``DECISIVE_RATE`` of its
sampled values; the name decides otherwise; when they disagree (a ``remark`` full of phone numbers, a
``lat`` holding timestamps) the entry needs review and says why. Names and addresses are never decisive
alone. No value is ever written out: examples are masked."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from ..catalog import CATALOG_SCHEMA
from ..datasets import Dataset, triggers
from ..naming import tokens
from ..policy import load_policy
from ..results import Asset
from ..taxonomy import TAXONOMY
from .detectors import DETECTORS, ColumnScan, scan_values
from .sources import Table

DECISIVE_RATE = 0.5
NOISE_RATE = 0.2  # below this, a checksum detector in a structured column is chance (1 in 10 for Luhn)
# platform vocabulary: name tokens -> (category, pi, what)
VOCABULARY: list[tuple[frozenset[str], str, str, str]] = [
    (frozenset({"idcard", "idno", "sfz", "identity", "identitycard", "certno", "cert", "身份证", "证件号"}),
     "personal", "sensitive", "resident ID number"),
    # "bank" alone is no card: a fuel-trim bank, a battery bank, a memory bank
    (frozenset({"bankcard", "cardno", "cardnumber", "card", "iban", "bankno", "bankacct", "bankaccount", "银行卡"}),
     "personal", "sensitive", "bank card"),
    (frozenset({"phone", "mobile", "tel", "telephone", "cellphone", "msisdn", "手机", "电话", "手机号"}),
     "personal", "pi", "phone number"),
    (frozenset({"email", "mail", "邮箱"}), "personal", "pi", "e-mail address"),
    (frozenset({"realname", "fullname", "username", "name", "姓名", "owner", "driver", "contact", "nickname", "nick",
                "displayname", "screenname", "昵称", "xingming", "nicheng"}),
     "personal", "pi", "person's name"),
    (frozenset({"address", "addr", "地址", "住址", "home"}), "personal", "pi", "address"),
    (frozenset({"birthday", "dob", "birth", "gender", "sex", "age", "usertype", "membertype", "membership", "member",
                "subscriber", "xingbie", "nianling", "性别", "年龄"}), "personal", "pi", "personal attribute"),
    (frozenset({"vin", "车架号", "chassis"}), "identifier", "pi", "VIN"),
    (frozenset({"plate", "plateno", "licenseplate", "车牌", "license"}), "identifier", "pi", "licence plate"),
    (frozenset({"imei", "iccid", "imsi", "deviceid", "sn", "serial", "serialno"}), "identifier", "pi", "device id"),
    (frozenset({"userid", "uid", "accountid", "customerid", "memberid"}), "identifier", "pi", "account id"),
    (frozenset({"vehid", "vehicleid", "carid", "cheliangid"}), "identifier", "pi", "vehicle id"),
    (frozenset({"lat", "latitude", "lng", "lon", "longitude", "gps", "coordinate", "coord", "position", "location",
                "track", "trajectory", "纬度", "经度", "位置", "轨迹"}), "location", "sensitive", "position"),
    (frozenset({"face", "faceimg", "photo", "avatar", "portrait", "人脸", "照片"}), "biometric", "sensitive",
     "face image"),
    (frozenset({"voice", "voiceprint", "audio", "recording", "声纹", "录音"}), "biometric", "sensitive", "voice"),
    (frozenset({"password", "passwd", "pwd", "secret", "token", "apikey", "privatekey", "salt", "hash"}),
     "security", "none", "credential"),
]
FREE_TEXT = frozenset({"remark", "remarks", "note", "notes", "comment", "comments", "content", "desc", "description",
                       "message", "msg", "log", "text", "memo", "detail", "details", "备注", "内容", "说明"})
# What a name or a detector says, in Chinese, for the reasons the zh catalogue and report print.
WHAT_ZH = {"resident ID number": "居民身份证号码", "bank card": "银行卡号", "phone number": "电话号码",
           "e-mail address": "电子邮箱", "person's name": "姓名", "address": "地址", "personal attribute": "个人属性",
           "VIN": "车辆识别代号（VIN）", "licence plate": "车牌号码", "device id": "设备标识", "account id": "账号标识",
           "position": "位置", "vehicle id": "车辆标识", "face image": "人脸图像", "voice": "声音", "credential": "凭据",
           "cn_resident_id": "居民身份证号码", "bank_card": "银行卡号", "iccid": "ICCID", "imei": "IMEI",
           "mobile": "手机号码", "landline": "固定电话号码", "email": "电子邮箱", "vin": "车辆识别代号（VIN）",
           "plate": "车牌号码", "coordinates": "经纬度坐标", "cn_name": "中文姓名", "cn_address": "中文地址"}
CATEGORY_ZH = {"personal": "个人信息", "identifier": "标识符", "location": "位置", "biometric": "生物识别",
               "security": "安全凭据", "other": "其他"}


def _zh(what: str) -> str:
    return "、".join(WHAT_ZH.get(w.strip(), w.strip()) for w in what.split(","))


PERSON_KEYS = {"cn_resident_id", "mobile", "email", "bank_card"}


def _name_says(column: str, table: str) -> tuple[str, str, str] | None:
    toks = tokens(column, frozenset())
    joined = column.lower().replace("_", "").replace("-", "")
    for words, cat, pi, what in VOCABULARY:
        hit = (toks & words) | ({joined} & words)
        if not hit:
            continue
        # "name" alone is a person's name only in a table about people ("product_name" is not)
        if what == "person's name" and hit <= {"name", "owner", "driver", "contact"} and \
                not (table_is_people(table) or hit - {"name"}):
            continue
        return cat, pi, what
    return None


def table_is_people(table: str) -> bool:
    return bool(tokens(table, frozenset()) & {"user", "users", "account", "accounts", "customer", "customers", "owner",
                                             "owners", "driver", "drivers", "member", "members", "person", "people",
                                             "contact", "contacts"})


def _content_says(scan: ColumnScan, non_null: int) -> tuple[str, float, list[str]]:
    """(best decisive detector, its match rate, every detector that fired)."""
    fired = sorted(scan.hits or {})
    best, rate = "", 0.0
    for d in DETECTORS:
        n = (scan.hits or {}).get(d.id, 0)
        r = n / non_null if non_null else 0.0
        if d.decisive and r > rate:
            best, rate = d.id, r
    return best, rate, fired


_DET = {d.id: d for d in DETECTORS}


_OPAQUE = re.compile(r"[A-Za-z0-9+/=_$.-]{16,}")


def at_rest(values: list[object], scan: ColumnScan) -> str:
    """How the sampled values sit in the store: ``readable`` (a detector validated them, a media file opens,
    or they are ordinary text and numbers), ``opaque`` (nine in ten are long unbroken tokens, or bytes no
    format recognises: ciphertext or hashes) or ``unknown`` (nothing sampled). Opaque is no proof of
    encryption; readable is proof of its absence."""
    if not values:
        return "unknown"
    if scan.media or any((scan.hits or {}).values()):
        return "readable"
    def opaque(v: object) -> bool:
        if isinstance(v, (bytes, bytearray, memoryview)):
            return True  # bytes no media signature recognised
        t = str(v)
        return bool(_OPAQUE.fullmatch(t)) and not t.isdigit() and len(set(t)) >= 10
    return "opaque" if sum(map(opaque, values)) >= 0.9 * len(values) else "readable"


PINYIN_COORDINATES = {"wd": 90.0, "jd": 180.0}  # 纬度 / 经度 abbreviated: positions only when the values are coordinates
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?")


def _share(values: list[object], test) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


def _coordinate(v: object, bound: float) -> bool:
    """A decimal degree as stores keep them: a number within ±bound with at least four decimals."""
    try:
        f = float(str(v))
    except ValueError:
        return False
    text = str(v)
    return abs(f) <= bound and "." in text and len(text.split(".")[1]) >= 4


def _timestamp(v: object) -> bool:
    import datetime as dt

    if isinstance(v, (dt.datetime, dt.date)):
        return True
    text = str(v).strip()
    if _ISO_TIME.match(text):
        return True
    return text.isdigit() and 10**9 <= int(text) < 10**13  # epoch seconds or milliseconds


def _name_against_content(col: str, name, values: list[object]):
    """The name as the content allows it, and why: a pinyin abbreviation of latitude/longitude (wd, jd) is a
    position only when nine in ten sampled values are coordinates ("coordinates"); a name that says position
    over values that are timestamps is no position (None, with the reason)."""
    toks = tokens(col, frozenset())
    if name is None and values:
        for abbr, bound in PINYIN_COORDINATES.items():
            if abbr in toks and _share(values, lambda v, b=bound: _coordinate(v, b)) >= 0.9:
                return ("location", "sensitive", "position"), "coordinates"
    if name is not None and name[0] == "location" and values and _share(values, _timestamp) >= 0.9:
        return None, "the name says position, but the sampled values are timestamps"
    return name, ""


def classify_column(table: Table, idx: int) -> dict[str, Any]:
    col = table.columns[idx]
    values = [r[idx] for r in table.rows if idx < len(r)]
    non_null = [v for v in values if v not in (None, "")]
    scan = scan_values(non_null)
    name, overruled = _name_against_content(col, _name_says(col, table.name), non_null)
    best, rate, fired = _content_says(scan, len(non_null))
    media = scan.media or {}
    free_text = bool(tokens(col, frozenset()) & FREE_TEXT)
    review, why, why_zh = False, [], []

    def say(en: str, zh: str) -> None:
        why.append(en)
        why_zh.append(zh)

    n = len(non_null)
    if rate >= DECISIVE_RATE:
        d = _DET[best]
        cat, pi, what = d.category, d.pi, best
        conf = round(min(0.99, 0.6 + 0.4 * rate), 2)
        say(f"{rate:.0%} of {n} sampled values are valid {best}", f"抽样{n}个值中{rate:.0%}为有效的{_zh(best)}")
        if name and name[0] != cat:
            review = True
            say(f"the name says {name[2]} ({name[0]}), the content says {best}: check",
                f"字段名指向{_zh(name[2])}（{CATEGORY_ZH.get(name[0], name[0])}），内容为{_zh(best)}，须核对")
    elif media:
        kind = max(media, key=media.get)
        voice = kind in ("wav", "mp3", "amr", "flac", "ogg")
        cat, pi, what = ("biometric", "sensitive", f"{'audio' if voice else 'image'} ({kind})")
        conf, review = (0.8, False) if name and name[0] == "biometric" else (0.6, True)
        say(f"{sum(media.values())} sampled values are {kind} files: may hold {'voices' if voice else 'faces'}",
            f"抽样值中{sum(media.values())}个为{kind}文件，可能含有{'声音' if voice else '人脸'}")
    elif name and overruled == "coordinates":  # the values confirmed what an abbreviation only hinted
        cat, pi, what = name
        conf = 0.85
        say("the name abbreviates latitude/longitude in pinyin (wd/jd) and nine in ten sampled values are coordinates",
            "字段名为纬度或经度的拼音缩写（wd/jd），且九成以上抽样值为经纬度坐标")
    elif name:
        cat, pi, what = name
        conf = 0.7
        say(f"the name says {what}", f"字段名指向{_zh(what)}")
        if non_null and name[0] in ("personal", "identifier", "location") and not fired and name[2] not in (
                "person's name", "address", "personal attribute", "account id", "device id"):
            review = True
            say(f"but no sampled value looks like one (detectors found nothing in {n} values)",
                f"但抽样的{n}个值均不符合其格式，须核对")
    elif fired and (free_text or any(_DET[f].decisive and (scan.hits or {})[f] >= NOISE_RATE * n for f in fired)):
        first = next(f for f in fired if _DET[f].decisive) if any(_DET[f].decisive for f in fired) else fired[0]
        d = _DET[first]
        cat, pi, what, conf, review = d.category, d.pi, f"{'free text containing ' if free_text else ''}{first}", 0.55, True
        hits = (scan.hits or {})[first]
        say(f"{', '.join(fired)} found in {hits} of {n} sampled values" + (" of a free-text column" if free_text else ""),
            f"{'自由文本字段' if free_text else ''}抽样{n}个值中有{hits}个含{_zh(', '.join(fired))}")
    elif fired:  # only names/addresses, never decisive alone
        cat, pi, what, conf, review = "personal", "pi", fired[0], 0.5, True
        say(f"looks like {', '.join(fired)} (no checksum: a person confirms)",
            f"疑似{_zh(', '.join(fired))}（无校验位，须人工确认）")
    elif overruled:  # a position's name over timestamps
        cat, pi, what, conf, review = "other", "none", "", 0.6, True
        say(overruled, "字段名指向位置，但抽样值为时间戳，未按字段名定级")
    else:
        cat, pi, what, conf = "other", "none", "", 0.5
        say("no name or content sign of personal data", "字段名和内容均无个人信息迹象")
    if free_text and fired and rate < DECISIVE_RATE:
        review = True
    basis = list(TAXONOMY.categories.get(cat, {}).get("basis", ["CN-ADR-3"])) if cat in TAXONOMY.categories else \
        ["CN-ADR-3"]
    return {
        "message": table.name, "signal": col, "unit": "", "source": f"{table.name}.{col}",
        "category": cat, "pi": pi, "grade": "general", "handling": "keep", "basis": basis,
        "rule": f"discover.{what.split(' ')[0] or 'none'}", "confidence": conf, "needs_review": review,
        "why": "; ".join(why), "why_zh": "；".join(why_zh), "at_rest": at_rest(non_null, scan),
        "detectors": fired, "match_rate": round(rate, 3),
        "examples": scan.examples or {}, "media": media, "sampled": len(non_null),
        "name_says": name[0] if name else None, "content_says": best or None,
    }


def _dataset(table: Table, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The table as a dataset: its dominant personal category, persons and vehicles, and its grade."""
    personal = [e for e in entries if e["category"] in ("personal", "identifier", "location", "biometric")]
    cats = Counter(e["category"] for e in personal)
    category = "location" if "location" in cats else cats.most_common(1)[0][0] if cats else "other"
    rows = table.row_count

    def unique_key(kinds: set[str]) -> bool:
        for i, e in enumerate(entries):
            if set(e["detectors"]) & kinds and e["match_rate"] >= DECISIVE_RATE:
                vals = [r[i] for r in table.rows if i < len(r) and r[i] not in (None, "")]
                if vals and len(set(map(str, vals))) >= 0.95 * len(vals):
                    return True
        return False

    persons = rows if rows is not None and unique_key(PERSON_KEYS) else None  # one row per person
    vehicles = rows if rows is not None and unique_key({"vin"}) else None
    d = Dataset(id=table.name, category="personal" if category == "personal" else category,
                records=rows, vehicles=vehicles, persons=persons, source="discovered")
    met, unknown = triggers(d, {})
    return {"id": table.name, "source": table.source, "category": d.category, "rows": rows,
            "rows_exact": table.row_count_exact, "persons": persons, "vehicles": vehicles,
            "grade": "important" if met else "general", "triggers": [t.__dict__ for t in met],
            "unknown": unknown if personal else []}


def discover(tables: list[Table], platform: str = "platform") -> dict[str, Any]:
    entries, datasets, sources = [], [], {}
    for t in tables:
        rows = [classify_column(t, i) for i in range(len(t.columns))]
        entries.extend(rows)
        datasets.append(_dataset(t, rows))
        s = sources.setdefault(t.source, {"path": t.source, "sha256": "", "messages": 0, "signals": 0})
        s["messages"] += 1
        s["signals"] += len(t.columns)
    policy = load_policy()
    return {"schema": CATALOG_SCHEMA, "asset": Asset("platform", platform).to_json(), "policy": policy.header(),
            "sources": list(sources.values()), "entries": entries, "combinations": [], "datasets": datasets,
            "discovery": {"tables": len(tables), "columns": len(entries),
                          "needs_review": sum(e["needs_review"] for e in entries),
                          "personal_columns": sum(e["pi"] != "none" for e in entries)}}
