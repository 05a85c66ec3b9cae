"""Tokenise DBC signal and message names, and normalise units.

Matching on tokens rather than substrings is what keeps ``Lat_Accel`` (lateral acceleration) apart from
``PosLat`` (a latitude): the classifier asks "is there a token ``lat``, and what other tokens and which
unit come with it?", never "does the name contain 'lat'?".
"""

from __future__ import annotations

import re
from functools import lru_cache

# Split points: separators, lower->Upper ("PosLat"), acronym end ("GPSLatitude" -> GPS|Latitude),
# letter<->digit ("Char1", "2017_5"). CJK runs become tokens of their own.
_SEPARATORS = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+|[\u4e00-\u9fff]+")


@lru_cache(maxsize=65536)
def split_words(name: str) -> tuple[str, ...]:
    """Words of an identifier, lower-cased: ``"VehLatAActl"`` -> ``("veh", "lat", "a", "actl")``."""
    words: list[str] = []
    for part in _SEPARATORS.split(name):
        if part:
            words.extend(w.lower() for w in _CAMEL.findall(part))
    return tuple(words)


def tokens(name: str, compounds: frozenset[str] = frozenset()) -> frozenset[str]:
    """The words of ``name`` plus joined neighbours that form a known compound.

    ``compounds`` holds the multi-word tokens rules ask for (pinyin ``weidu``, ``chejiahao``, English
    ``vehspd``); two or three neighbouring words of at least two letters each are joined only when the
    result is one of them, so noise never glues itself onto a word.
    """
    words = split_words(name)
    out = set(words)
    for w in words:
        if w[0] >= "\u4e00":  # a CJK run: every known CJK term inside it counts as a token
            out.update(c for c in compounds if c[0] >= "\u4e00" and c in w)
    if compounds:
        n = len(words)
        for i in range(n):
            if len(words[i]) < 2:
                continue
            joined = words[i]
            for j in range(i + 1, min(i + 3, n)):
                if len(words[j]) < 2:
                    break
                joined += words[j]
                if joined in compounds:
                    out.add(joined)
    return frozenset(out)


_UNIT_ALIASES = {
    "deg": "deg", "degree": "deg", "degrees": "deg", "°": "deg", "grad": "deg", "dd": "deg",
    "1e-7deg": "deg", "deg*1e-7": "deg", "deg/1e7": "deg", "1e-6deg": "deg", "microdeg": "deg",
    "udeg": "deg", "µdeg": "deg", "mdeg": "deg", "minute": "arcmin", "min": "min", "arcmin": "arcmin",
    "'": "arcmin", "arcsec": "arcsec", "\"": "arcsec", "sec": "s",
    "mas": "mas", "milliarcsecond": "mas", "milliarcseconds": "mas", "milli-arcsecond": "mas",
    "rad": "rad", "radian": "rad", "radians": "rad", "mrad": "rad",
    "°c": "degc", "degc": "degc", "c": "degc", "celsius": "degc", "℃": "degc", "k": "kelvin",
    "deg c": "degc", "deg_c": "degc", "°f": "degf", "degf": "degf",
    "deg/s": "deg/s", "°/s": "deg/s", "rad/s": "rad/s", "degree/s": "deg/s", "deg/sec": "deg/s",
    "m/s^2": "m/s2", "m/s2": "m/s2", "m/s²": "m/s2", "m/s/s": "m/s2", "m/sec2": "m/s2", "g": "g",
    "km/h": "km/h", "kph": "km/h", "kmh": "km/h", "kmph": "km/h", "km/hr": "km/h", "mph": "mph",
    "m/s": "m/s", "mps": "m/s", "m": "m", "cm": "m", "mm": "m", "km": "km", "mi": "km", "miles": "km",
    "%": "%", "pct": "%", "percent": "%", "v": "V", "mv": "V", "a": "A", "ma": "A",
    "w": "W", "kw": "W", "nm": "Nm", "n": "N", "bar": "bar", "kpa": "kPa", "pa": "kPa", "psi": "kPa",
    "mbar": "bar", "hpa": "kPa", "rpm": "rpm", "1/min": "rpm", "s": "s", "ms": "s", "us": "s",
    "h": "h", "hr": "h", "l": "l", "l/h": "l/h", "kwh": "kWh", "wh": "kWh", "ah": "Ah", "hz": "Hz",
}


@lru_cache(maxsize=4096)
def normalize_unit(unit: str | None) -> str:
    """A canonical unit name: ``"°"``, ``"Deg"``, ``"degrees"`` -> ``"deg"``; ``"°C"`` -> ``"degc"``."""
    if not unit:
        return ""
    u = unit.strip().lower().replace(" ", "")
    if u in _UNIT_ALIASES:
        return _UNIT_ALIASES[u]
    if "deg" in u and ("e-" in u or "1e" in u or "/10" in u):  # scaled degrees such as "deg*10^-7"
        return "deg"
    return _UNIT_ALIASES.get(u.strip("[]()"), u)
