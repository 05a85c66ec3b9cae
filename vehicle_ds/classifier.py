"""The classifier: one answer to "what is this data and how must it be handled, and why?".

The catalog, the edge agent and the probes' exposure checks all call :class:`Classifier`. It is
deterministic (same policy + same field -> same answer) and fast: every condition is indexed by the
tokens it needs, so a field is only tested against the few rules that could match it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .naming import normalize_unit, tokens
from .policy import Condition, Policy, Rule


@dataclass(frozen=True)
class Field:
    """A named piece of data: a DBC signal, a JSON key in an API response, a model output."""

    name: str
    message: str = ""
    unit: str = ""
    comment: str = ""
    context: tuple[str, ...] = ()  # extra context words: sender nodes, message comment keywords
    minimum: float | None = None
    maximum: float | None = None
    multiplexer: bool = False
    multiplexed: bool = False
    attrs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Classification:
    category: str
    pi: str
    grade: str
    handling: str
    basis: tuple[str, ...]
    rule: str
    confidence: float
    needs_review: bool
    why: str
    obligations: tuple[str, ...] = ()
    role: str = ""
    flags: tuple[str, ...] = ()
    why_zh: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "pi": self.pi, "grade": self.grade, "handling": self.handling,
                "basis": list(self.basis), "rule": self.rule, "confidence": self.confidence,
                "needs_review": self.needs_review, "why": self.why,
                **({"why_zh": self.why_zh} if self.why_zh else {})}


def _holds(c: Condition, f: Field, name: frozenset[str], msg: frozenset[str], unit: str) -> bool:
    ctx = name | msg
    # Empty token sets mean "not asked"; every asked field must hold.
    if c.name_any and name.isdisjoint(c.name_any):
        return False
    if c.name_all and not c.name_all <= name:
        return False
    if c.name_none and not name.isdisjoint(c.name_none):
        return False
    for group in c.name_each:
        if name.isdisjoint(group):
            return False
    if c.message_any and msg.isdisjoint(c.message_any):
        return False
    if c.message_none and not msg.isdisjoint(c.message_none):
        return False
    if c.context_any and ctx.isdisjoint(c.context_any):
        return False
    if c.context_none and not ctx.isdisjoint(c.context_none):
        return False
    if c.units_any is not None and unit not in c.units_any:
        return False
    if unit in c.units_none:
        return False
    if c.multiplexer is not None and c.multiplexer != f.multiplexer:
        return False
    if c.multiplexed is not None and c.multiplexed != f.multiplexed:
        return False
    if c.range_within is not None:
        if f.minimum is None or f.maximum is None:
            return False
        lo, hi = c.range_within
        if f.minimum < lo or f.maximum > hi:
            return False
    for key, values in c.attrs:
        if str(f.attrs.get(key, "")) not in values:
            return False
    return not (c.comment_any and not any(p.search(f.comment) for p in c.comment_any))


class Classifier:
    """Classifies :class:`Field` s with a :class:`Policy` (see ``data/default_policy.toml``)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.threshold = float(policy.settings["review_threshold"])
        self.unclassified_handling = str(policy.settings["unclassified_handling"])
        self._compounds: set[str] = set()
        # token -> conditions that need it; conditions with no token anchor are always tried.
        self._index: dict[str, list[tuple[int, Rule, Condition]]] = {}
        self._always: list[tuple[int, Rule, Condition]] = []
        for order, rule in enumerate(policy.rules):
            for cond in rule.match:
                each = cond.name_each[0] if cond.name_each else frozenset()
                anchor = cond.name_any or cond.name_all or each or cond.message_any or cond.context_any
                every = (*cond.name_any, *cond.name_all, *cond.message_any, *cond.context_any,
                         *(t for g in cond.name_each for t in g))
                for tok in every:
                    if len(tok) >= 4 or tok[0] >= "\u4e00":
                        self._compounds.add(tok)
                entry = (order, rule, cond)
                if anchor:
                    for tok in anchor:
                        self._index.setdefault(tok, []).append(entry)
                else:
                    self._always.append(entry)
        self._frozen_compounds = frozenset(self._compounds)
        # Long unambiguous words ("latitude", "odometer") are also found inside words that could not be
        # split, such as "GPSLATITUDE"; short ones ("lat", "vin") never are.
        self._long_words = tuple(sorted(t for t in self._compounds if len(t) >= 6 and t.isascii()))
        self._token_cache: dict[str, frozenset[str]] = {}

    def tokens(self, name: str) -> frozenset[str]:
        cached = self._token_cache.get(name)
        if cached is not None:
            return cached
        toks = tokens(name, self._frozen_compounds)
        long_words = [w for w in toks if len(w) > 6 and w not in self._frozen_compounds]
        if long_words:
            toks = toks | {c for w in long_words for c in self._long_words if c in w}
        if len(self._token_cache) < 200_000:
            self._token_cache[name] = toks
        return toks

    def classify(self, f: Field) -> Classification:
        name = self.tokens(f.name)
        msg = self.tokens(f.message)
        for extra in f.context:
            msg = msg | self.tokens(extra)
        unit = normalize_unit(f.unit).lower()  # policy unit sets are lower-cased too
        best: tuple[int, float, int] | None = None
        chosen: tuple[Rule, Condition] | None = None
        seen: set[int] = set()
        candidates = [e for tok in name | msg for e in self._index.get(tok, ())]
        for order, rule, cond in (*candidates, *self._always):
            if id(cond) in seen:
                continue
            seen.add(id(cond))
            conf = cond.confidence if cond.confidence is not None else rule.confidence
            key = (rule.priority, conf, -order)
            if best is not None and key <= best:
                continue
            if _holds(cond, f, name, msg, unit):
                best, chosen = key, (rule, cond)
        result = self._from_rule(*chosen) if chosen else self._unclassified()
        return self._apply_overrides(f, result)

    def _from_rule(self, rule: Rule, cond: Condition) -> Classification:
        conf = cond.confidence if cond.confidence is not None else rule.confidence
        return Classification(
            category=rule.category, pi=rule.pi, grade=rule.grade, handling=rule.handling,
            basis=rule.basis, rule=rule.id, confidence=round(conf, 3),
            needs_review=rule.review or conf < self.threshold, why=cond.why or rule.why,
            why_zh=(cond.why_zh or rule.why_zh) if cond.why else rule.why_zh,
            obligations=rule.obligations, role=rule.role,
        )

    def _unclassified(self) -> Classification:
        return Classification(
            category="unclassified", pi="pi", grade="general", handling=self.unclassified_handling,
            basis=("CN-ADR-6",), rule="", confidence=0.0, needs_review=True,
            why="no rule explains this signal; it stays in the vehicle until a person reviews it",
            why_zh="无规则能够说明该信号；在人员复核之前留存于车内",
            obligations=("human_review", "local_only"),
        )

    def _apply_overrides(self, f: Field, c: Classification) -> Classification:
        for ov in self.policy.overrides:
            if not ov.matches(f.message, f.name):
                continue
            v = ov.values
            c = Classification(
                category=v.get("category", c.category), pi=v.get("pi", c.pi), grade=v.get("grade", c.grade),
                handling=v.get("handling", c.handling), basis=tuple(v.get("basis", c.basis)),
                rule=f"override:{ov.message}.{ov.signal}", confidence=1.0, needs_review=False,
                why=str(v.get("why", "set by the user's policy")),
                why_zh=str(v.get("why_zh", "由用户政策设定")),
                obligations=tuple(v.get("obligations", c.obligations)), role=v.get("role", c.role),
            )
        return c
