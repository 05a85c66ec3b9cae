"""What every document generator reads: the report model (built from the same inputs as the report), the
organisation profile and the hub's incidents, with a source string for every fact so each auto-filled
field can say where it came from."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from .. import zh
from ..org import get
from ..taxonomy import TAXONOMY
from ..vocabulary import asset_key

# The profile's facts the documents ask for, each under one label wherever it appears.
PROFILE_FIELDS = {
    "legal_name": ("单位名称", "Legal name", "organisation.legal_name"),
    "credit_code": ("统一社会信用代码", "Unified social credit code", "organisation.credit_code"),
    "address": ("住所", "Address", "organisation.address"),
    "regulator": ("监管部门", "Regulator", "organisation.regulator"),
    "rights_contact": ("用户权益事务联系人", "Contact for users' rights", "organisation.rights_contact"),
    "security_body": ("数据安全管理机构", "Data-security body", "security_body.name"),
    "officer": ("数据安全负责人", "Data-security officer", "security_officer.name"),
    "officer_title": ("数据安全负责人职务", "Officer's title", "security_officer.title"),
    "officer_phone": ("数据安全负责人联系电话", "Officer's phone", "security_officer.phone"),
    "officer_email": ("数据安全负责人电子邮箱", "Officer's e-mail", "security_officer.email"),
}
PI_CATEGORIES = ("location", "identifier", "personal", "cabin", "biometric", "exterior_perception")


@dataclass
class Context:
    report: dict[str, Any]
    profile: dict[str, Any]
    lang: str
    today: dt.date
    org_path: str = "org.toml"
    incidents: list[dict[str, Any]] = field(default_factory=list)
    incidents_path: str | None = None

    def t(self, zh_text: str, en_text: str) -> str:
        return zh_text if self.lang == "zh" else en_text

    # -- the organisation profile -------------------------------------------------------------------------
    @property
    def org_name(self) -> str:
        """How sources name the profile: its file name (org.toml), wherever it lies."""
        return PurePath(self.org_path).name

    def org(self, dotted: str) -> tuple[Any, str | None]:
        """A profile value and its source, ``(None, None)`` when org.toml does not give it."""
        value = get(self.profile, dotted)
        return value, (f"{self.org_name} › {dotted}" if value is not None else None)

    def profile_rows(self, *names: str) -> list[tuple[str, Any, str | None]]:
        """Form rows (label, value, source) for the named :data:`PROFILE_FIELDS`."""
        rows = []
        for name in names:
            zh_label, en_label, dotted = PROFILE_FIELDS[name]
            rows.append((self.t(zh_label, en_label), *self.org(dotted)))
        return rows

    def org_list(self, key: str) -> list[dict[str, Any]]:
        value = self.profile.get(key, [])
        return value if isinstance(value, list) else []

    # -- evidence from the report's inputs ----------------------------------------------------------------
    def input_path(self, index: int) -> str:
        return PurePath(self.report["inputs"][index]["path"]).as_posix()

    def check_source(self, c: dict[str, Any]) -> str:
        return f"{self.input_path(c['input'])} › {c['id']}"

    def datasets(self) -> list[tuple[dict[str, Any], str]]:
        """Every graded dataset with the results document it comes from; ``_holder`` is the asset that holds it
        (the datasets document's platform), whose verdicts alone speak for its protection."""
        out = []
        for ds in self.report.get("datasets", []):
            holder = self.report["inputs"][ds["input"]].get("asset")
            for d in ds["summary"].get("datasets", []):
                out.append(({**d, "_holder": holder}, f"{self.input_path(ds['input'])} › summary.datasets[{d['id']}]"))
        return out

    def asset_statuses(self, asset: dict[str, str] | None, requirements: tuple[tuple[str, str, str], ...]
                       ) -> tuple[str, str] | None:
        """``(text, source)`` stating each named requirement's verdict *for this asset only* (labels given as
        ``(id, zh, en)``), leaving out those not assessed for it; None when none was, so the field reads 待填写
        rather than borrowing another asset's verdict."""
        if not asset:
            return None
        key = asset_key(asset)
        parts, sources = [], []
        for rid, zh_label, en_label in requirements:
            r = self.requirement(rid)
            mine = next((a for a in (r or {}).get("by_asset", []) if a["key"] == key), None)
            if mine and mine["status"] != "not_assessed":
                parts.append(f"{self.t(zh_label, en_label)}{self.t('：', ': ')}{self.word(mine['status'])}")
                sources.append(rid)
        if not parts:
            return None
        return self.t("；", "; ").join(parts), f"requirements › {', '.join(sources)} › by_asset[{key}]"

    def export_route(self) -> tuple[dict[str, Any], str] | None:
        for ds in self.report.get("datasets", []):
            e = ds["summary"].get("export_route")
            if e:
                return e, f"{self.input_path(ds['input'])} › summary.export_route"
        return None

    def important_signals(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """Important (or core) signals per (asset name, category), from the catalogs."""
        out: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for inv in self.report.get("inventory", []):
            for e in inv.get("important", []):
                out[(inv["asset"]["name"], e["category"])].append({**e, "_source": self.input_path(inv["input"]),
                                                                   "_asset": inv["asset"]})
        return dict(out)

    def pi_signals(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """Signals of personal information (sensitive first) per (asset, category), from the catalogs."""
        out: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for inv in self.report.get("inventory", []):
            for e in inv.get("entries", []):
                if e["pi"] != "none":
                    out[(inv["asset"]["name"], e["category"])].append({**e, "_source": self.input_path(inv["input"]),
                                                                       "_asset": inv["asset"]})
        return dict(out)

    def checks(self, component: str | None = None, statuses: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        return [c for c in self.report["checks"] if (component is None or c["component"] == component)
                and (not statuses or c["status"] in statuses)]

    def requirement(self, req_id: str) -> dict[str, Any] | None:
        return next((r for r in self.report["requirements"] if r["id"] == req_id), None)

    def deadline(self, did: str) -> dict[str, Any] | None:
        return next((d for d in self.report.get("deadlines", []) if d["id"] == did), None)

    # -- words --------------------------------------------------------------------------------------------
    def date(self, value: dt.date | str | None) -> str | None:
        """A date as the document's language writes it: 2026年12月6日 in Chinese, ISO in English."""
        if value is None or value == "":
            return None
        d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        return f"{d.year}年{d.month}月{d.day}日" if self.lang == "zh" else d.isoformat()

    def label(self, kind: str, key: str) -> str:
        return TAXONOMY.label(kind, key, self.lang)

    def word(self, key: str) -> str:
        """A verdict or a severity in words, as the report says it (符合, 不符合, 需复核, 未评估; 严重, 高 …)."""
        from ..report.words import label

        return label(key, self.lang)

    def cite(self, basis_id: str) -> str:
        return zh.cite(basis_id) if self.lang == "zh" else basis_id

    def route_basis(self, basis: str | None) -> str | None:
        """The export route's article ("CN-CBDF Art. 7", "Arts. 3-6", "Art. 5(4)") as a citation, never a raw id."""
        if not basis or self.lang != "zh":
            return basis
        import re

        b = TAXONOMY.basis["CN-CBDF"]
        law, note = b.cite, ("（条文未经原文核实）" if b.status != "verified" else "")
        m = re.fullmatch(r"CN-CBDF(?: Arts?\. (\d+)(?:-(\d+))?(?:\((\d+)\))?)?", basis)
        first, last, item = m.groups() if m else (None, None, None)
        if not first:
            return law + note
        out = f"{law}第{zh.number(int(first))}条" + (f"至第{zh.number(int(last))}条" if last else "")
        return out + (f"第（{zh.number(int(item))}）项" if item else "") + note

    def sentence(self, text: str) -> str:
        return zh.sentence_or_quote(text) if self.lang == "zh" else text

    def check_title(self, c: dict[str, Any]) -> str:
        return (c.get("zh", {}).get("title") or zh.zh_fields(c)["title"]) if self.lang == "zh" else c["title"]

    def asset(self, a: dict[str, str]) -> str:
        kinds = {"vehicle": ("车辆", "vehicle"), "platform": ("平台", "platform"), "model": ("模型", "model")}
        zh_kind, en_kind = kinds.get(a["kind"], (a["kind"], a["kind"]))
        return f"{self.t(zh_kind, en_kind)} {a['name']}"

    def dataset_name(self, d: dict[str, Any]) -> str:
        """A dataset's title as declared (``title_zh`` in Chinese documents), else its id."""
        return (d.get("title_zh") if self.lang == "zh" else None) or d.get("title") or d["id"]

    def tag_note(self, tag: str) -> str:
        """How a figure's verification tag is said in a document: [U] is never presented as law."""
        if tag == "U":
            return self.t("（待与官方文本核对）", " (to be confirmed against the official text)")
        if tag == "S":
            return self.t("（依据二手资料，待与官方文本核对）", " (from secondary sources; confirm against the official text)")
        return ""


def fmt_int(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else str(n)
