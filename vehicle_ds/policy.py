"""Policy: the rules that decide what a vehicle signal is and how it must be handled.

A policy is a TOML file (format documented in README.md, default in ``data/default_policy.toml``).
A user policy is layered on the default unless it says ``extends = "none"``: rules with the same id
replace the default's, ``disable = true`` removes one, ``[[overrides]]`` pin single signals, and
``[purposes.*]``, ``[settings]`` and ``[vocab]`` entries replace the default's key by key.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import PolicyError
from .taxonomy import TAXONOMY
from .tomlfile import parse_toml, read_toml
from .vocabulary import GRADES, HANDLINGS, PI_CLASSES

_TOKEN_FIELDS = ("name_any", "name_all", "name_none", "message_any", "message_none",
                 "context_any", "context_none")
_CONDITION_KEYS = {*_TOKEN_FIELDS, "name_each", "units_any", "units_none", "comment_any", "range_within",
                   "multiplexer", "multiplexed", "attrs", "confidence", "why", "why_zh"}
_ASSIGNABLE = ("category", "pi", "grade", "handling", "basis", "obligations", "role", "why", "why_zh")


@dataclass(frozen=True)
class Condition:
    """One way a rule can match; every field that is set must hold (AND). Token sets are lower-case."""

    name_any: frozenset[str] = frozenset()
    name_all: frozenset[str] = frozenset()
    name_none: frozenset[str] = frozenset()
    name_each: tuple[frozenset[str], ...] = ()  # the name has a token of every group
    message_any: frozenset[str] = frozenset()
    message_none: frozenset[str] = frozenset()
    context_any: frozenset[str] = frozenset()
    context_none: frozenset[str] = frozenset()
    units_any: frozenset[str] | None = None
    units_none: frozenset[str] = frozenset()
    comment_any: tuple[re.Pattern[str], ...] = ()
    range_within: tuple[float, float] | None = None
    multiplexer: bool | None = None
    multiplexed: bool | None = None
    attrs: tuple[tuple[str, frozenset[str]], ...] = ()
    confidence: float | None = None
    why: str | None = None
    why_zh: str | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    pi: str
    grade: str
    handling: str
    basis: tuple[str, ...]
    obligations: tuple[str, ...]
    priority: int
    confidence: float
    why: str
    match: tuple[Condition, ...]
    why_zh: str = ""  # the same reason in Chinese, for the zh ledger and documents
    role: str = ""
    review: bool = False


@dataclass(frozen=True)
class Override:
    """A person's decision about signals matching ``message``/``signal`` globs; wins over every rule."""

    message: str
    signal: str
    values: Mapping[str, Any]

    def matches(self, message: str, signal: str) -> bool:
        return fnmatch.fnmatchcase(message, self.message) and fnmatch.fnmatchcase(signal, self.signal)


@dataclass(frozen=True)
class Purpose:
    """A processing purpose: the data it needs, whether it needs consent, precision and retention."""

    id: str
    zh: str
    en: str
    consent_required: bool
    location_decimals: int | None
    retention_days: int | None
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Combination:
    """Signals that together are more than their parts (trajectory, offence-related, surveying). Fleet-scale
    triggers (more than 100,000 persons, ...) grade datasets, not signals: see ``vehicle_ds.datasets``."""

    id: str
    zh: str
    en: str
    all_roles: tuple[str, ...]
    any_roles: tuple[str, ...]
    any_categories: tuple[str, ...]
    scope: str  # "vehicle": whatever the vehicle collects; "uplink": whatever leaves it, in any form
    exempt_at_most_decimals: int | None  # positions leaving this coarse do not fire it (the policy's cited figure)
    threshold_basis: str  # where that figure comes from ("[U] ..." when the reference has none)
    applies_to_roles: tuple[str, ...]
    applies_to_categories: tuple[str, ...]
    applies_to_pi: tuple[str, ...]
    raises: Mapping[str, str]
    flag: str
    basis: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    id: str
    version: str
    sha256: str
    settings: Mapping[str, Any]
    rules: tuple[Rule, ...]
    overrides: tuple[Override, ...]
    purposes: Mapping[str, Purpose]
    combinations: tuple[Combination, ...]
    sources: tuple[str, ...] = field(default=())

    def header(self) -> dict[str, str]:
        return {"id": self.id, "version": self.version, "sha256": self.sha256}

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def _default_text() -> str:
    return resources.files("vehicle_ds").joinpath("data/default_policy.toml").read_text("utf-8")


def _merge(base: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    out = {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
           for k, v in base.items()}
    for section in ("settings", "vocab", "purposes"):
        out.setdefault(section, {}).update(user.get(section, {}))
    out["policy"] = {**base.get("policy", {}), **user.get("policy", {})}
    rules = {r["id"]: r for r in base.get("rules", [])}
    for r in user.get("rules", []):
        if "id" not in r:
            raise PolicyError("a [[rules]] entry has no id")
        if r.get("disable"):
            rules.pop(r["id"], None)
        else:
            rules[r["id"]] = r
    out["rules"] = list(rules.values())
    combos = {c["id"]: c for c in base.get("combinations", [])}
    for c in user.get("combinations", []):
        if c.get("disable"):
            combos.pop(c["id"], None)
        else:
            combos[c["id"]] = c
    out["combinations"] = list(combos.values())
    out["overrides"] = [*base.get("overrides", []), *user.get("overrides", [])]
    return out


def load_policy(path: str | Path | None = None) -> Policy:
    """The default policy, or ``path`` layered on it (or standalone with ``extends = "none"``)."""
    doc = parse_toml(_default_text(), "vehicle_ds/data/default_policy.toml", PolicyError)
    sources = ["default"]
    if path is not None:
        p = Path(path)
        user = read_toml(p, "policy", PolicyError)
        extends = user.get("policy", {}).get("extends", "default")
        if extends not in ("default", "none"):
            raise PolicyError(f"extends must be 'default' or 'none', not {extends!r}", path=str(p))
        doc = _merge(doc, user) if extends == "default" else _merge({}, user)
        sources.append(str(p))
        origin = str(p)
    else:
        origin = "default policy"
    return _build(doc, origin, tuple(sources))


def _canonical_hash(doc: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class _Validator:
    """Checks a policy document's values against the taxonomy, naming the entry and the file on failure."""

    origin: str
    vocab: dict[str, list[str]]

    def fail(self, message: str) -> PolicyError:
        return PolicyError(message, path=self.origin)

    def one_of(self, value: str, allowed: tuple[str, ...] | set[str], what: str, where: str) -> str:
        if value not in allowed:
            raise self.fail(f"{where}: unknown {what} {value!r} (one of {', '.join(sorted(allowed))})")
        return value

    def tokens(self, values: Any, where: str) -> frozenset[str]:
        """Lower-cased tokens, ``@name`` expanded from the ``[vocab]`` table."""
        out: set[str] = set()
        for v in [values] if isinstance(values, str) else values:
            v = str(v)
            if not v.startswith("@"):
                out.add(v.lower())
            elif v[1:] in self.vocab:
                out.update(self.vocab[v[1:]])
            else:
                raise self.fail(f"{where}: unknown vocabulary {v}")
        return frozenset(out)

    def basis(self, ids: Any, where: str) -> tuple[str, ...]:
        ids = tuple(ids or ())
        for b in ids:
            self.one_of(b, set(TAXONOMY.basis), "legal basis", where)
        return ids

    def assignable(self, values: dict[str, Any], where: str, grades: tuple[str, ...] | set[str] = GRADES) -> None:
        """The category, pi class, grade and handling an override or combination sets, if it sets them."""
        for key, allowed, what in (("category", set(TAXONOMY.categories), "category"), ("pi", PI_CLASSES, "pi class"),
                                   ("grade", grades, "grade"), ("handling", HANDLINGS, "handling")):
            if key in values:
                self.one_of(values[key], allowed, what, where)


def _condition(m: dict[str, Any], where: str, v: _Validator) -> Condition:
    unknown = set(m) - _CONDITION_KEYS
    if unknown:
        raise v.fail(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    rng = m.get("range_within")
    return Condition(
        **{k: v.tokens(m[k], where) for k in _TOKEN_FIELDS if k in m},
        name_each=tuple(v.tokens(g, where) for g in m.get("name_each", ())),
        units_any=v.tokens(m["units_any"], where) if "units_any" in m else None,
        units_none=v.tokens(m.get("units_none", ()), where),
        comment_any=tuple(re.compile(p, re.IGNORECASE) for p in m.get("comment_any", ())),
        range_within=(float(rng[0]), float(rng[1])) if rng else None,
        multiplexer=m.get("multiplexer"),
        multiplexed=m.get("multiplexed"),
        attrs=tuple((k, frozenset(map(str, x if isinstance(x, list) else [x]))) for k, x in m.get("attrs", {}).items()),
        confidence=m.get("confidence"),
        why=m.get("why"),
        why_zh=m.get("why_zh"),
    )


def _rule(raw: dict[str, Any], v: _Validator) -> Rule:
    rid = raw["id"]
    where = f"rule {rid}"
    grade = v.one_of(raw.get("grade", "general"), GRADES, "grade", where)
    if grade == "core":
        raise v.fail(f"{where}: no rule may grade data 'core'; that needs a person (use an [[overrides]] entry)")
    conds = tuple(_condition(m, f"{where} match {i + 1}", v) for i, m in enumerate(raw.get("match", [])))
    if not conds:
        raise v.fail(f"{where}: no [[rules.match]] condition")
    return Rule(
        id=rid,
        category=v.one_of(raw.get("category", ""), set(TAXONOMY.categories), "category", where),
        pi=v.one_of(raw.get("pi", "pi"), PI_CLASSES, "pi class", where),
        grade=grade,
        handling=v.one_of(raw.get("handling", "keep"), HANDLINGS, "handling", where),
        basis=v.basis(raw.get("basis"), where),
        obligations=tuple(v.one_of(o, set(TAXONOMY.obligations), "obligation", where)
                          for o in raw.get("obligations", ())),
        priority=int(raw.get("priority", 50)),
        confidence=float(raw.get("confidence", 0.8)),
        why=str(raw.get("why", "")),
        why_zh=str(raw.get("why_zh", "")),
        match=conds,
        role=str(raw.get("role", "")),
        review=bool(raw.get("review", False)),
    )


def _rules(raws: list[dict[str, Any]], v: _Validator) -> tuple[Rule, ...]:
    seen: set[str] = set()
    for raw in raws:
        rid = raw.get("id")
        if not rid:
            raise v.fail("a [[rules]] entry has no id")
        if rid in seen:
            raise v.fail(f"rule {rid}: duplicate id")
        seen.add(rid)
    return tuple(_rule(raw, v) for raw in raws)


def _override(raw: dict[str, Any], where: str, v: _Validator) -> Override:
    values = {k: raw[k] for k in _ASSIGNABLE if k in raw}
    v.assignable(values, where)
    if "basis" in values:
        values["basis"] = v.basis(values["basis"], where)
    return Override(str(raw.get("message", "*")), str(raw.get("signal", "*")), values)


def _purpose(pid: str, raw: dict[str, Any], v: _Validator) -> Purpose:
    return Purpose(
        id=pid, zh=str(raw.get("zh", pid)), en=str(raw.get("en", pid)),
        consent_required=bool(raw.get("consent_required", True)),
        location_decimals=raw.get("location_decimals"),
        retention_days=raw.get("retention_days"),
        categories=tuple(v.one_of(c, set(TAXONOMY.categories), "category", f"purpose {pid}")
                         for c in raw.get("categories", ())),
    )


def _combination(raw: dict[str, Any], v: _Validator) -> Combination:
    where = f"combination {raw.get('id')}"
    if "fleet_subjects_over" in raw:
        raise PolicyError(f"{where}: fleet-scale triggers grade datasets, not signals (a vehicle's signal is not "
                          "a fleet's dataset): declare the fleet's datasets in datasets.toml (vehicle-ds datasets)")
    raises = dict(raw.get("raises", {}))
    v.assignable({k: x for k, x in raises.items() if k not in ("category", "review")}, where,
                 grades=("general", "important"))
    if "review" in raises and raises["review"] is not True:
        raise v.fail(f"{where}: raises.review can only be true (a person reviews what fired)")
    return Combination(
        id=str(raw["id"]), zh=str(raw.get("zh", raw["id"])), en=str(raw.get("en", raw["id"])),
        all_roles=tuple(raw.get("all_roles", ())), any_roles=tuple(raw.get("any_roles", ())),
        any_categories=tuple(raw.get("any_categories", ())),
        scope=v.one_of(raw.get("scope", "vehicle"), ("vehicle", "uplink"), "scope", where),
        exempt_at_most_decimals=raw.get("exempt_at_most_decimals"),
        threshold_basis=str(raw.get("threshold_basis", "")),
        applies_to_roles=tuple(raw.get("applies_to_roles", ())),
        applies_to_categories=tuple(raw.get("applies_to_categories", ())),
        applies_to_pi=tuple(raw.get("applies_to_pi", ())),
        raises=raises, flag=str(raw.get("flag", "")),
        basis=v.basis(raw.get("basis"), where),
    )


def _settings(doc: dict[str, Any], v: _Validator) -> dict[str, Any]:
    if "fleet_subjects" in doc.get("settings", {}):
        raise PolicyError("settings.fleet_subjects is gone: the 100,000-person rule grades datasets, not signals; "
                          "declare persons per dataset in datasets.toml (vehicle-ds datasets)")
    settings = {"review_threshold": 0.6, "unclassified_handling": "drop",
                "timestamped_capture": True, **doc.get("settings", {})}
    v.one_of(settings["unclassified_handling"], HANDLINGS, "handling", "settings.unclassified_handling")
    return settings


def _build(doc: dict[str, Any], origin: str, sources: tuple[str, ...]) -> Policy:
    v = _Validator(origin, {k: [str(t).lower() for t in x] for k, x in doc.get("vocab", {}).items()})
    meta = doc.get("policy", {})
    return Policy(
        id=str(meta.get("id", "custom")), version=str(meta.get("version", "0")),
        sha256=_canonical_hash(doc), settings=_settings(doc, v), rules=_rules(doc.get("rules", []), v),
        overrides=tuple(_override(raw, f"override {i + 1}", v) for i, raw in enumerate(doc.get("overrides", []))),
        purposes={pid: _purpose(pid, raw, v) for pid, raw in doc.get("purposes", {}).items()},
        combinations=tuple(_combination(raw, v) for raw in doc.get("combinations", [])), sources=sources,
    )
