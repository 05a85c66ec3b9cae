"""Validating detectors for personal data in platform stores. Each finds candidates with one regular-expression
pass over a column's sampled values joined into one text (not one match call per value), then validates
every candidate (checksum, check digit, range), so a near miss — a wrong check digit — is not a hit.

Names and addresses have no checksum: they are reported with a confidence and are never decisive alone.
Binary values are recognised by their magic numbers (images, audio: faces and voices)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..evidence.masking import cn_id_valid, vin_valid

SEP = "\x00"  # joins a column's values; matched by no pattern (not even \s), so no match spans two values


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
# WMI first characters of makers that sell in China; any letter/digit is plausible, "I O Q" never are.
_VIN_BODY = "[A-HJ-NPR-Z0-9]{17}"


def _plate_ok(p: str) -> bool:
    body = p[2:]
    if len(body) == 6:  # new-energy plates: D/F (or A-K) in the first or last place
        return body[0] in "DABCEFGHJK" or body[-1] in "DF"
    return len(body) == 5


def _coords_ok(text: str) -> bool:
    a, b = (float(x) for x in re.split(r"[,\s]+", text.strip())[:2])
    lat, lon = (a, b) if abs(a) <= 90 else (b, a)
    return abs(lat) <= 90 and abs(lon) <= 180 and (lat != 0 or lon != 0)


@dataclass(frozen=True)
class Detector:
    id: str
    category: str
    pi: str
    pattern: re.Pattern[str]
    valid: Callable[[str], bool]
    decisive: bool = True  # names and addresses are not
    mask_keep: int = 3


_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜"
             "崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")

DETECTORS: tuple[Detector, ...] = (
    Detector("cn_resident_id", "personal", "sensitive",
             re.compile(r"(?<![0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}"
                        r"[0-9Xx](?![0-9])"), cn_id_valid),
    Detector("bank_card", "personal", "sensitive", re.compile(r"(?<![0-9.])(?:62|4[0-9]|5[1-5])[0-9]{14,17}(?![0-9.])"),
             luhn),
    Detector("mobile", "personal", "pi", re.compile(r"(?<![0-9])(?:\+?86[- ]?)?1[3-9][0-9]{9}(?![0-9])"),
             lambda s: True),
    Detector("landline", "personal", "pi", re.compile(r"(?<![0-9])0[1-9][0-9]{1,2}-[2-9][0-9]{6,7}(?![0-9])"),
             lambda s: True),
    Detector("email", "personal", "pi", re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}"),
             lambda s: ".." not in s),
    Detector("vin", "identifier", "pi", re.compile(r"(?<![A-Z0-9])" + _VIN_BODY + r"(?![A-Z0-9])"),
             lambda s: vin_valid(s) and not s.isdigit()),
    Detector("plate", "identifier", "pi",
             re.compile("[" + _PROVINCES + "][A-HJ-NP-Z][A-HJ-NP-Z0-9]{5,6}"), _plate_ok),
    Detector("imei", "identifier", "pi", re.compile(r"(?<![0-9.])[0-9]{15}(?![0-9.])"), luhn),
    Detector("iccid", "identifier", "pi", re.compile(r"(?<![0-9])89[0-9]{17,18}(?![0-9])"), luhn),
    Detector("coordinates", "location", "sensitive",
             re.compile(r"(?<![0-9.])-?[0-9]{1,3}\.[0-9]{4,}[,\s]+-?[0-9]{1,3}\.[0-9]{4,}(?![0-9])"), _coords_ok),
    Detector("cn_name", "personal", "pi", re.compile("(?<![\u4e00-\u9fff])[" + _SURNAMES + "][\u4e00-\u9fff]{1,2}"
                                                      "(?![\u4e00-\u9fff])"), lambda s: True, decisive=False),
    Detector("cn_address", "personal", "pi",
             re.compile(r"[\u4e00-\u9fff]{2,}(?:省|市|区|县|镇|街道|路|街|号|弄|小区)[\u4e00-\u9fff0-9]{0,20}"
                        r"(?:号|室|栋|单元|楼)"), lambda s: True, decisive=False),
)

_MAGIC = ((b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"RIFF", "riff"), (b"ID3", "mp3"),
          (b"#!AMR", "amr"), (b"fLaC", "flac"), (b"OggS", "ogg"), (b"GIF8", "gif"))


def media_kind(value: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if value[:len(magic)] == magic:
            if kind == "riff":
                return "wav" if value[8:12] == b"WAVE" else "webp" if value[8:12] == b"WEBP" else None
            return kind
    return None


@dataclass
class ColumnScan:
    """What the detectors found in one column's sample."""

    values: int = 0
    hits: dict[str, int] | None = None  # detector -> values with at least one valid match
    examples: dict[str, str] | None = None  # detector -> one example, masked
    media: dict[str, int] | None = None


def mask(text: str, keep: int = 3) -> str:
    """Never a raw value: the first and last characters around the length."""
    if len(text) <= 2 * keep:
        return "*" * len(text)
    return f"{text[:keep]}{'*' * (len(text) - 2 * keep)}{text[-keep:]}"


def scan_values(values: Sequence[object]) -> ColumnScan:
    """Run every detector over a sample of values (strings, numbers, bytes); counts are per value."""
    out = ColumnScan(values=len(values), hits={}, examples={}, media={})
    texts: list[str] = []
    for v in values:
        if v is None:
            continue
        if isinstance(v, (bytes, bytearray, memoryview)):
            kind = media_kind(bytes(v[:16]))
            if kind:
                out.media[kind] = out.media.get(kind, 0) + 1
            continue
        texts.append(str(v).replace(SEP, " "))
    if not texts:
        return out
    joined = SEP.join(texts)
    starts = [0]
    for t in texts[:-1]:
        starts.append(starts[-1] + len(t) + 1)
    import bisect

    for d in DETECTORS:
        rows: set[int] = set()
        for m in d.pattern.finditer(joined):
            s = m.group(0)
            try:
                ok = d.valid(s)
            except (ValueError, KeyError, IndexError):
                ok = False
            if ok:
                row = bisect.bisect_right(starts, m.start()) - 1
                if row not in rows:
                    rows.add(row)
                    if d.id not in out.examples:
                        out.examples[d.id] = mask(s, d.mask_keep)
        if rows:
            out.hits[d.id] = len(rows)
    return out


def scan_values_baseline(values: Sequence[object]) -> dict[str, int]:
    """The benchmark's baseline: every detector's pattern matched value by value (what a plain script does)."""
    hits: dict[str, int] = {}
    for v in values:
        if v is None or isinstance(v, (bytes, bytearray, memoryview)):
            continue
        t = str(v)
        for d in DETECTORS:
            if any(d.valid(m.group(0)) for m in d.pattern.finditer(t)):
                hits[d.id] = hits.get(d.id, 0) + 1
    return hits
