"""The taxonomy (categories, pi classes, grades, handlings, obligations) and the legal-basis registry.

Both are data files shipped in the package; this module loads them once and gives every label in zh
and en, so the catalog, the edge agent and the report speak with one voice.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import resources
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

VERIFICATION = ("verified", "secondary", "unverified")


@dataclass(frozen=True)
class Basis:
    id: str
    status: str
    zh: str
    en: str
    scope: tuple[str, ...] = ("any",)  # categories or "role:<role>" a rule citing it may have
    cite: str = ""  # the formal Chinese citation: 《法规名称》第X条, or the standard's number, title and clause

    def covers(self, category: str, role: str) -> bool:
        return "any" in self.scope or category in self.scope or f"role:{role}" in self.scope


@dataclass(frozen=True)
class Taxonomy:
    categories: dict[str, dict[str, Any]]
    pi: dict[str, dict[str, str]]
    grades: dict[str, dict[str, str]]
    handling: dict[str, dict[str, str]]
    obligations: dict[str, dict[str, str]]
    basis: dict[str, Basis]

    def label(self, kind: str, key: str, lang: str = "en") -> str:
        """``label("categories", "location", "zh")`` -> ``"位置轨迹类"``; unknown keys come back as-is."""
        table = getattr(self, kind)
        item = table.get(key)
        if item is None:
            return key
        return item[lang] if isinstance(item, dict) else getattr(item, lang)


def _load(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files("vehicle_ds").joinpath(f"data/{name}").read_text("utf-8"))


def _taxonomy() -> Taxonomy:
    t = _load("taxonomy.toml")
    basis = {}
    for bid, raw in _load("legal_basis.toml").items():
        if raw["status"] not in VERIFICATION:  # a packaging error, caught by the tests
            raise ValueError(f"legal basis {bid}: bad status {raw['status']}")
        basis[bid] = Basis(bid, raw["status"], raw["zh"], raw["en"], tuple(raw.get("scope", ("any",))), raw["cite"])
    return Taxonomy(t["categories"], t["pi"], t["grades"], t["handling"], t["obligations"], basis)


TAXONOMY = _taxonomy()
