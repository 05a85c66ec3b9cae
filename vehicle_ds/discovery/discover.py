"""Classify and grade what a platform stores: column and table names through a platform vocabulary (the
same tokenizer as the signal classifier), a bounded sample of values through the validating detectors, and
the two compared. The result is a catalog document (the schema DBC catalogs use; each entry names its
source ``table.column``), plus per table the dataset facts and the dataset grade (vehicle_ds.datasets).

A column's verdict: content decides when a validating detector matches at least ``DECISIVE_RATE`` of its
sampled values; the name decides otherwise; when they disagree (a ``remark`` full of phone numbers, a
``lat`` holding timestamps) the entry needs review and says why. Names and addresses are never decisive
alone. No value is ever written out: examples are masked."""

from __future__ import annotations

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
    (frozenset({"bankcard", "cardno", "card", "iban", "银行卡", "bank"}), "personal", "sensitive", "bank card"),
    (frozenset({"phone", "mobile", "tel", "telephone", "cellphone", "msisdn", "手机", "电话", "手机号"}),
     "personal", "pi", "phone number"),
    (frozenset({"email", "mail", "邮箱"}), "personal", "pi", "e-mail address"),
    (frozenset({"realname", "fullname", "username", "name", "姓名", "owner", "driver", "contact"}),
     "personal", "pi", "person's name"),
    (frozenset({"address", "addr", "地址", "住址", "home"}), "personal", "pi", "address"),
    (frozenset({"birthday", "dob", "birth", "gender", "sex", "age"}), "personal", "pi", "personal attribute"),
    (frozenset({"vin", "车架号", "chassis"}), "identifier", "pi", "VIN"),
    (frozenset({"plate", "plateno", "licenseplate", "车牌", "license"}), "identifier", "pi", "licence plate"),
    (frozenset({"imei", "iccid", "imsi", "deviceid", "sn", "serial", "serialno"}), "identifier", "pi", "device id"),
    (frozenset({"userid", "uid", "accountid", "customerid", "memberid"}), "identifier", "pi", "account id"),
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


def classify_column(table: Table, idx: int) -> dict[str, Any]:
    col = table.columns[idx]
    values = [r[idx] for r in table.rows if idx < len(r)]
    non_null = [v for v in values if v not in (None, "")]
    scan = scan_values(non_null)
    name = _name_says(col, table.name)
    best, rate, fired = _content_says(scan, len(non_null))
    media = scan.media or {}
    free_text = bool(tokens(col, frozenset()) & FREE_TEXT)
    review, why = False, []
    if rate >= DECISIVE_RATE:
        d = _DET[best]
        cat, pi, what = d.category, d.pi, best
        conf = round(min(0.99, 0.6 + 0.4 * rate), 2)
        why.append(f"{rate:.0%} of {len(non_null)} sampled values are valid {best}")
        if name and name[0] != cat:
            review = True
            why.append(f"the name says {name[2]} ({name[0]}), the content says {best}: check")
    elif media:
        kind = max(media, key=media.get)
        voice = kind in ("wav", "mp3", "amr", "flac", "ogg")
        cat, pi, what = ("biometric", "sensitive", f"{'audio' if voice else 'image'} ({kind})")
        conf, review = (0.8, False) if name and name[0] == "biometric" else (0.6, True)
        why.append(f"{sum(media.values())} sampled values are {kind} files: may hold {'voices' if voice else 'faces'}")
    elif name:
        cat, pi, what = name
        conf = 0.7
        why.append(f"the name says {what}")
        if non_null and name[0] in ("personal", "identifier", "location") and not fired and name[2] not in (
                "person's name", "address", "personal attribute", "account id", "device id"):
            review = True
            why.append(f"but no sampled value looks like one (detectors found nothing in {len(non_null)} values)")
    elif fired and (free_text or any(_DET[f].decisive and (scan.hits or {})[f] >= NOISE_RATE * len(non_null)
                                     for f in fired)):
        first = next(f for f in fired if _DET[f].decisive) if any(_DET[f].decisive for f in fired) else fired[0]
        d = _DET[first]
        cat, pi, what, conf, review = d.category, d.pi, f"{'free text containing ' if free_text else ''}{first}", 0.55, True
        why.append(f"{', '.join(fired)} found in {(scan.hits or {})[first]} of {len(non_null)} sampled values"
                   + (" of a free-text column" if free_text else ""))
    elif fired:  # only names/addresses, never decisive alone
        cat, pi, what, conf, review = "personal", "pi", fired[0], 0.5, True
        why.append(f"looks like {', '.join(fired)} (no checksum: a person confirms)")
    else:
        cat, pi, what, conf = "other", "none", "", 0.5
        why.append("no name or content sign of personal data")
    if free_text and fired and rate < DECISIVE_RATE:
        review = True
    basis = list(TAXONOMY.categories.get(cat, {}).get("basis", ["CN-ADR-3"])) if cat in TAXONOMY.categories else \
        ["CN-ADR-3"]
    return {
        "message": table.name, "signal": col, "unit": "", "source": f"{table.name}.{col}",
        "category": cat, "pi": pi, "grade": "general", "handling": "keep", "basis": basis,
        "rule": f"discover.{what.split(' ')[0] or 'none'}", "confidence": conf, "needs_review": review,
        "why": "; ".join(why), "detectors": fired, "match_rate": round(rate, 3),
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
