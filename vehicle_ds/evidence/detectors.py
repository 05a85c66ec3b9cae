"""The one registry of personal-data detectors: every pattern with its validator.

Masking (``masking.Masker``), the probes' exposure check, platform discovery, the edge agent's audit and
the hub's monitoring all iterate ``DETECTORS``; no other module holds a personal-data pattern.

Each detector finds candidates with one regular expression and keeps those its validator accepts
(checksum, check digit, range), so a near miss is not a hit. ``lenient`` is what masking uses: it hides a
value that merely looks like the identifier (mask rather than leak), while a finding needs ``valid``.

Digit runs (ID numbers, phones, cards, IMEI, ICCID) and VINs only count as whole tokens: never inside a
longer run of letters and digits, a hex digest, a base64 token or a decimal number, and never in front of
an ellipsis (a shortened digest). A sha256 digest can hold fifteen decimal digits in a row that pass the
Luhn check; reading them as an IMEI made a false leak."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..vocabulary import Pi

# Token boundaries for runs of ASCII letters and digits (CJK text around an identifier is a boundary).
_L = r"(?<![0-9A-Za-z])(?<![0-9]\.)"
_R = r"(?![0-9A-Za-z…]|\.[0-9])"

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

_VIN_VALUES = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
               **dict(zip("JKLMN", range(1, 6), strict=True)), "P": 7, "R": 9,
               **dict(zip("STUVWXYZ", range(2, 10), strict=True))}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """ISO 3779 check digit of a 17-character VIN (its 9th character when valid)."""
    r = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True)) % 11
    return "X" if r == 10 else str(r)


def vin_valid(vin: str) -> bool:
    """ISO 3779 check digit (position 9) of a VIN with letters in it (seventeen digits are a number)."""
    try:
        return len(vin) == 17 and not vin.isdigit() and vin[8] == vin_check_digit(vin)
    except KeyError:
        return False


def vin_shaped(vin: str) -> bool:
    """Seventeen VIN-alphabet characters with letters and digits, or a valid check digit: masked and audited
    even with a wrong check digit (mask rather than leak)."""
    return bool(_VIN_SHAPE.fullmatch(vin)) and (vin_valid(vin) or not (vin.isdigit() or vin.isalpha()))


def cn_id_valid(num: str) -> bool:
    """GB 11643 (ISO 7064 MOD 11-2) checksum of an 18-digit resident identity number."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    if len(num) != 18 or not num[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(num[:17], weights, strict=True))
    return "10X98765432"[total % 11] == num[17].upper()


def _id_like(num: str) -> bool:
    """A resident ID number: a valid checksum, or a plausible birth date at digits 7-14 (mask rather than leak)."""
    y, mo, d = int(num[6:10]), int(num[10:12]), int(num[12:14])
    return cn_id_valid(num) or (1900 <= y <= 2099 and 1 <= mo <= 12 and 1 <= d <= 31)


def luhn(digits: str) -> bool:
    """The Luhn (mod 10) check of bank cards, IMEIs and ICCIDs; separators are ignored."""
    total = 0
    digits = digits.replace(" ", "").replace("-", "")
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_ok(s: str) -> bool:
    digits = s.replace(" ", "").replace("-", "")
    return 16 <= len(digits) <= 19 and luhn(digits)


def plate_valid(p: str) -> bool:
    """A Chinese plate: province, issuing-office letter, then five characters (six for new-energy plates,
    D/F or A-K first, or D/F last); a separator (``·``, ``•`` or a space) after the office letter is allowed."""
    body = re.sub(r"[·•\s]", "", p[2:])
    if len(body) == 6:
        return body[0] in "DABCEFGHJK" or body[-1] in "DF"
    return len(body) == 5


def _coords_ok(text: str) -> bool:
    a, b = (float(x) for x in re.split(r"[,\s]+", text.strip())[:2])
    lat, lon = (a, b) if abs(a) <= 90 else (b, a)
    return abs(lat) <= 90 and abs(lon) <= 180 and (lat != 0 or lon != 0)


def _always(_: str) -> bool:
    return True


@dataclass(frozen=True)
class Detector:
    """One kind of personal data. ``category``/``pi`` are the taxonomy's; ``exposure`` the probes' group."""

    id: str
    category: str
    pi: Pi
    exposure: str
    pattern: re.Pattern[str]
    valid: Callable[[str], bool]
    decisive: bool = True  # names and addresses have no checksum: never decisive alone, never masked as text
    lenient: Callable[[str], bool] | None = None  # masking's test (default: valid)
    mask_keep: int = 3

    def accepts(self, candidate: str) -> bool:
        """The validator's verdict on one match (a finding needs it)."""
        return _safe(self.valid, candidate)

    def finds(self, text: str) -> list[str]:
        """Every valid match in ``text``."""
        return [m.group(0) for m in self.pattern.finditer(text) if self.accepts(m.group(0))]

    def fullmatch(self, value: str) -> bool:
        """``value`` as a whole is this identifier (lenient: what an audit of clear values must catch)."""
        m = self.pattern.fullmatch(value.strip())
        return bool(m) and _safe(self.lenient or self.valid, m.group(0))

    def should_mask(self, value: str) -> bool:
        return _safe(self.lenient or self.valid, value)


def _safe(fn: Callable[[str], bool], value: str) -> bool:
    try:
        return fn(value)
    except (ValueError, KeyError, IndexError):
        return False


_VIN_SHAPE = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜"
             "崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")

# Order matters for masking: the longer digit forms first, so a shorter pattern never eats part of one.
DETECTORS: tuple[Detector, ...] = (
    Detector("cn_resident_id", "personal", "sensitive", "national_id",
             re.compile(_L + r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}"
                        r"[0-9Xx]" + _R), cn_id_valid, lenient=_id_like),
    Detector("bank_card", "personal", "sensitive", "financial",
             re.compile(_L + r"(?:62|4[0-9]|5[1-5])[0-9]{2}(?:[ -]?[0-9]{4}){3}[0-9]{0,3}" + _R), _card_ok),
    Detector("iccid", "identifier", "pi", "identifier", re.compile(_L + r"89[0-9]{17,18}" + _R), luhn),
    Detector("imei", "identifier", "pi", "identifier", re.compile(_L + r"[0-9]{15}" + _R), luhn),
    Detector("mobile", "personal", "pi", "contact",
             re.compile(r"(?<![0-9A-Za-z+])(?<![0-9]\.)(?:(?:\+|00)?86[- ]?)?1[3-9][0-9]{9}" + _R), _always),
    Detector("landline", "personal", "pi", "contact", re.compile(_L + r"0[1-9][0-9]{1,2}-[2-9][0-9]{6,7}" + _R),
             _always),
    Detector("email", "personal", "pi", "contact",
             re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}"
                        r"(?![A-Za-z0-9-])"), lambda s: ".." not in s),
    Detector("vin", "identifier", "pi", "vehicle_identifier", re.compile(_L + _VIN_SHAPE.pattern + _R), vin_valid,
             lenient=vin_shaped),
    Detector("plate", "identifier", "pi", "vehicle_identifier",
             re.compile("[" + PROVINCES + "][A-HJ-NP-Z][·• ]?[A-HJ-NP-Z0-9]{5,6}(?![0-9A-Za-z])"), plate_valid,
             lenient=_always),
    Detector("coordinates", "location", "sensitive", "location",
             re.compile(r"(?<![0-9.])-?[0-9]{1,3}\.[0-9]{4,}[,\s]+-?[0-9]{1,3}\.[0-9]{4,}(?![0-9])"), _coords_ok),
    Detector("cn_name", "personal", "pi", "contact",
             re.compile("(?<![\u4e00-\u9fff])[" + _SURNAMES + "][\u4e00-\u9fff]{1,2}(?![\u4e00-\u9fff])"), _always,
             decisive=False),
    Detector("cn_address", "personal", "pi", "contact",
             re.compile(r"[\u4e00-\u9fff]{2,}(?:省|市|区|县|镇|街道|路|街|号|弄|小区)[\u4e00-\u9fff0-9]{0,20}"
                        r"(?:号|室|栋|单元|楼)"), _always, decisive=False),
)

BY_ID: dict[str, Detector] = {d.id: d for d in DETECTORS}

# A number with four or more decimals (a precise coordinate in text): masking rounds it to two.
PRECISE_NUMBER = re.compile(r"(?<![\d.])(-?\d{1,3}\.\d{2})\d{2,}(?![\d.])")
