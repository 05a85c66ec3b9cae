"""The Chinese register: check titles and criteria, the sentences components write, and formal citations.

Components write their checks in English; the Chinese report and documents are written from
``data/zh.toml`` (keyed by check id, so a reviewer edits one file) with every figure taken from the check
itself, never retyped. :func:`sentence` returns ``None`` for an English sentence the register does not know:
the caller then quotes it as evidence (「…」), and the register test fails on the demo's outputs."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from .taxonomy import TAXONOMY

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_FIELD = re.compile(r"\{([tc])(\d+)\}")


@dataclass(frozen=True)
class Register:
    title: dict[str, str]
    criterion: dict[str, str]
    term: dict[str, str]
    sentences: tuple[tuple[re.Pattern[str], str], ...]


@cache
def register() -> Register:
    raw = tomllib.loads(resources.files("vehicle_ds").joinpath("data/zh.toml").read_text("utf-8"))
    return Register(raw["title"], raw["criterion"], raw["term"],
                    tuple((re.compile(s["en"]), s["zh"]) for s in raw["sentence"]))


def _lookup(table: dict[str, str], check_id: str) -> tuple[str, str] | None:
    """The template for ``check_id`` and the tail a ``prefix.*`` entry matched ("" for an exact entry)."""
    if check_id in table:
        return table[check_id], ""
    head, _, tail = check_id.rpartition(".")
    if head and f"{head}.*" in table:
        return table[f"{head}.*"], tail
    return None


def _fill(template: str, tail: str, title: str, criterion: str) -> str | None:
    numbers = {"t": _NUMBER.findall(title), "c": _NUMBER.findall(criterion)}

    def field(m: re.Match[str]) -> str:
        found = numbers[m.group(1)]
        n = int(m.group(2))
        if n >= len(found):
            raise LookupError
        return found[n]

    try:
        text = _FIELD.sub(field, template)
    except LookupError:  # the English text changed shape: better no translation than a wrong figure
        return None
    return text.replace("{tail}", term(tail))


def known(check_id: str) -> bool:
    """Whether the register has a Chinese title for ``check_id``."""
    return _lookup(register().title, check_id) is not None


def term(word: str) -> str:
    """A name in Chinese ("probes" -> 接口探测; "catalog or edge" -> 数据目录或车端); unknown names stay as given."""
    for en, zh in ((" or ", "或"), (" and ", "和")):
        if en in word:
            return zh.join(term(w) for w in word.split(en))
    return register().term.get(word, word)


def title(check: dict[str, Any]) -> str | None:
    """The Chinese title of a check; a probe's " — METHOD /path" suffix is kept as the identifier it is."""
    en = str(check.get("title", ""))
    found = _lookup(register().title, check["id"])
    if found is None:
        return None
    _, sep, suffix = en.partition(" — ")
    text = _fill(found[0], found[1], en, (check.get("criterion") or {}).get("text", ""))
    if text is None:
        return None
    return f"{text} — {suffix}" if sep and check["id"].startswith("probes.") else text


def criterion(check: dict[str, Any]) -> str | None:
    crit = check.get("criterion") or {}
    en = str(crit.get("text", ""))
    if not en:
        return None
    found = _lookup(register().criterion, check["id"])
    if found is not None:
        return _fill(found[0], found[1], str(check.get("title", "")), en)
    if en == str(check.get("title", "")).partition(" — ")[0]:  # the probes state their title as the criterion
        return title({**check, "title": en})
    return sentence(en) or None  # a criterion built from declared thresholds, one sentence per threshold


def sentence(en: str) -> str | None:
    """The Chinese of one sentence a component wrote (a reason, a trigger, a note), or None."""
    if not en:
        return ""
    whole = _one(en)
    if whole is not None or "; " not in en:
        return whole
    parts = [_one(p.strip()) for p in en.split("; ")]  # reasons joined by "; " (a dataset's unknown facts)
    return None if None in parts else "；".join(p for p in parts if p is not None)


def _substitute(template: str, groups: tuple[str | None, ...]) -> str:
    return re.sub(r"\{(\d+)\}", lambda g: term(groups[int(g.group(1)) - 1] or ""), template)


def _one(en: str) -> str | None:
    for pattern, zh in register().sentences:
        m = pattern.match(en)
        if m:
            return _substitute(zh, m.groups())
    return None


def sentence_or_quote(en: str) -> str:
    """The Chinese of ``en``, or ``en`` quoted as evidence (「…」) when the register does not know it."""
    zh = sentence(en)
    return zh if zh is not None else f"「{en}」"


def cite(basis_id: str) -> str:
    """``cite("CN-ADR-3")`` -> ``《汽车数据安全管理若干规定（试行）》第三条``; a [S]/[U] basis says it is unverified."""
    b = TAXONOMY.basis.get(basis_id)
    if b is None:
        return basis_id
    return b.cite + ("（条文未经原文核实）" if b.status != "verified" else "")


def zh_fields(check: dict[str, Any]) -> dict[str, str]:
    """The Chinese of a check's title, criterion and reason, for the report model (``check["zh"]``); a
    field the register does not know is quoted as evidence."""
    out = {"title": title(check) or f"「{check.get('title', check['id'])}」"}
    crit = criterion(check)
    if crit is not None or check.get("criterion"):
        out["criterion"] = crit if crit is not None else f"「{check['criterion']['text']}」"
    if check.get("reason"):
        out["reason"] = sentence_or_quote(check["reason"])
    return out


def number(n: int) -> str:
    """``7`` -> ``七``, ``13`` -> ``十三``, ``29`` -> ``二十九``: article numbers as the laws write them (1-99)."""
    digits = "零一二三四五六七八九"
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else digits[tens]) + "十" if tens else "") + (digits[ones] if ones else "")
