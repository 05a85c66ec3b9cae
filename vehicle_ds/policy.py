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


def _build(doc: dict[str, Any], origin: str, sources: tuple[str, ...]) -> Policy:
    vocab = {k: [str(t).lower() for t in v] for k, v in doc.get("vocab", {}).items()}

    def expand(values: Any, where: str) -> frozenset[str]:
        if isinstance(values, str):
            values = [values]
        out: set[str] = set()
        for v in values:
            v = str(v)
            if v.startswith("@"):
                if v[1:] not in vocab:
                    raise PolicyError(f"{where}: unknown vocabulary {v}", path=origin)
                out.update(vocab[v[1:]])
            else:
                out.add(v.lower())
        return frozenset(out)

    def check(value: str, allowed: tuple[str, ...] | set[str], what: str, where: str) -> str:
        if value not in allowed:
            raise PolicyError(f"{where}: unknown {what} {value!r} (one of {', '.join(sorted(allowed))})",
                              path=origin)
        return value

    basis_ids = set(TAXONOMY.basis)

    def check_basis(ids: Any, where: str) -> tuple[str, ...]:
        ids = tuple(ids or ())
        for b in ids:
            check(b, basis_ids, "legal basis", where)
        return ids

    rules: list[Rule] = []
    seen: set[str] = set()
    for raw in doc.get("rules", []):
        rid = raw.get("id")
        if not rid:
            raise PolicyError("a [[rules]] entry has no id", path=origin)
        if rid in seen:
            raise PolicyError(f"rule {rid}: duplicate id", path=origin)
        seen.add(rid)
        where = f"rule {rid}"
        grade = check(raw.get("grade", "general"), GRADES, "grade", where)
        if grade == "core":
            raise PolicyError(f"{where}: no rule may grade data 'core'; that needs a person "
                              "(use an [[overrides]] entry)", path=origin)
        conds = []
        for i, m in enumerate(raw.get("match", [])):
            cw = f"{where} match {i + 1}"
            unknown = set(m) - _CONDITION_KEYS
            if unknown:
                raise PolicyError(f"{cw}: unknown key(s) {', '.join(sorted(unknown))}", path=origin)
            rng = m.get("range_within")
            conds.append(Condition(
                **{k: expand(m[k], cw) for k in _TOKEN_FIELDS if k in m},
                name_each=tuple(expand(g, cw) for g in m.get("name_each", ())),
                units_any=expand(m["units_any"], cw) if "units_any" in m else None,
                units_none=expand(m.get("units_none", ()), cw),
                comment_any=tuple(re.compile(p, re.IGNORECASE) for p in m.get("comment_any", ())),
                range_within=(float(rng[0]), float(rng[1])) if rng else None,
                multiplexer=m.get("multiplexer"),
                multiplexed=m.get("multiplexed"),
                attrs=tuple((k, frozenset(map(str, v if isinstance(v, list) else [v])))
                            for k, v in m.get("attrs", {}).items()),
                confidence=m.get("confidence"),
                why=m.get("why"),
                why_zh=m.get("why_zh"),
            ))
        if not conds:
            raise PolicyError(f"{where}: no [[rules.match]] condition", path=origin)
        rules.append(Rule(
            id=rid,
            category=check(raw.get("category", ""), set(TAXONOMY.categories), "category", where),
            pi=check(raw.get("pi", "pi"), PI_CLASSES, "pi class", where),
            grade=grade,
            handling=check(raw.get("handling", "keep"), HANDLINGS, "handling", where),
            basis=check_basis(raw.get("basis"), where),
            obligations=tuple(check(o, set(TAXONOMY.obligations), "obligation", where)
                              for o in raw.get("obligations", ())),
            priority=int(raw.get("priority", 50)),
            confidence=float(raw.get("confidence", 0.8)),
            why=str(raw.get("why", "")),
            why_zh=str(raw.get("why_zh", "")),
            match=tuple(conds),
            role=str(raw.get("role", "")),
            review=bool(raw.get("review", False)),
        ))

    overrides = []
    for i, raw in enumerate(doc.get("overrides", [])):
        where = f"override {i + 1}"
        values = {k: raw[k] for k in _ASSIGNABLE if k in raw}
        if "category" in values:
            check(values["category"], set(TAXONOMY.categories), "category", where)
        if "pi" in values:
            check(values["pi"], PI_CLASSES, "pi class", where)
        if "grade" in values:
            check(values["grade"], GRADES, "grade", where)
        if "handling" in values:
            check(values["handling"], HANDLINGS, "handling", where)
        if "basis" in values:
            values["basis"] = check_basis(values["basis"], where)
        overrides.append(Override(str(raw.get("message", "*")), str(raw.get("signal", "*")), values))

    purposes = {}
    for pid, raw in doc.get("purposes", {}).items():
        purposes[pid] = Purpose(
            id=pid, zh=str(raw.get("zh", pid)), en=str(raw.get("en", pid)),
            consent_required=bool(raw.get("consent_required", True)),
            location_decimals=raw.get("location_decimals"),
            retention_days=raw.get("retention_days"),
            categories=tuple(check(c, set(TAXONOMY.categories), "category", f"purpose {pid}")
                             for c in raw.get("categories", ())),
        )

    combos = []
    for raw in doc.get("combinations", []):
        where = f"combination {raw.get('id')}"
        raises = dict(raw.get("raises", {}))
        if "fleet_subjects_over" in raw:
            raise PolicyError(f"{where}: fleet-scale triggers grade datasets, not signals (a vehicle's signal is not "
                              "a fleet's dataset): declare the fleet's datasets in datasets.toml (vehicle-ds datasets)")
        if "pi" in raises:
            check(raises["pi"], PI_CLASSES, "pi class", where)
        if "grade" in raises:
            check(raises["grade"], ("general", "important"), "grade", where)
        if "handling" in raises:
            check(raises["handling"], HANDLINGS, "handling", where)
        combos.append(Combination(
            id=str(raw["id"]), zh=str(raw.get("zh", raw["id"])), en=str(raw.get("en", raw["id"])),
            all_roles=tuple(raw.get("all_roles", ())), any_roles=tuple(raw.get("any_roles", ())),
            any_categories=tuple(raw.get("any_categories", ())),
            scope=check(raw.get("scope", "vehicle"), ("vehicle", "uplink"), "scope", where),
            exempt_at_most_decimals=raw.get("exempt_at_most_decimals"),
            threshold_basis=str(raw.get("threshold_basis", "")),
            applies_to_roles=tuple(raw.get("applies_to_roles", ())),
            applies_to_categories=tuple(raw.get("applies_to_categories", ())),
            applies_to_pi=tuple(raw.get("applies_to_pi", ())),
            raises=raises, flag=str(raw.get("flag", "")),
            basis=check_basis(raw.get("basis"), where),
        ))

    if "fleet_subjects" in doc.get("settings", {}):
        raise PolicyError("settings.fleet_subjects is gone: the 100,000-person rule grades datasets, not signals; "
                          "declare persons per dataset in datasets.toml (vehicle-ds datasets)")
    settings = {"review_threshold": 0.6, "unclassified_handling": "drop",
                "timestamped_capture": True, **doc.get("settings", {})}
    check(settings["unclassified_handling"], HANDLINGS, "handling", "settings.unclassified_handling")
    meta = doc.get("policy", {})
    return Policy(
        id=str(meta.get("id", "custom")), version=str(meta.get("version", "0")),
        sha256=_canonical_hash(doc), settings=settings, rules=tuple(rules),
        overrides=tuple(overrides), purposes=purposes, combinations=tuple(combos), sources=sources,
    )
