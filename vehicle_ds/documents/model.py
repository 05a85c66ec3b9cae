"""What a regulatory document is made of, independent of DOCX or HTML: headings, paragraphs, tables and
form fields. A field is either filled from evidence (and says which) or left to a person (待填写); the
document keeps both lists, so the generator can say what a person still has to write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TODO = {"zh": "待填写", "en": "to be completed"}
UNVERIFIED = {"zh": "待与官方文本核对", "en": "to be confirmed against the official text"}


@dataclass(frozen=True)
class Value:
    """One filled value: its text, and the evidence it comes from (None: a person must write it)."""

    text: str
    source: str | None

    @property
    def todo(self) -> bool:
        return self.source is None


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Para:
    text: str
    style: str = ""  # "" | "note" | "warning"


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str | Value]]
    widths: list[float] | None = None  # relative column widths
    wide: bool = False  # printed on a landscape page


@dataclass(frozen=True)
class Fields:
    """A form: label, value, and where the value comes from."""

    rows: list[tuple[str, Value]]


Block = Heading | Para | Table | Fields


@dataclass
class Document:
    id: str
    title: str
    lang: str
    subtitle: str = ""
    blocks: list[Block] = field(default_factory=list)
    filled: list[dict[str, str]] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    section: str = ""

    def t(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en

    def h(self, zh: str, en: str, level: int = 1) -> None:
        self.section = self.t(zh, en)
        self.blocks.append(Heading(self.section, level))

    def p(self, zh: str, en: str | None = None, style: str = "") -> None:
        """A paragraph: ``zh`` and ``en``, or one text already in the document's language (``en`` None)."""
        self.blocks.append(Para(zh if en is None else self.t(zh, en), style))

    def value(self, label: str, text: Any, source: str | None) -> Value:
        """A field's value: from evidence when ``text`` is known and ``source`` names it, else 待填写."""
        if text in (None, "", [], {}) or source is None:
            self.todo.append(f"{self.section} / {label}" if self.section else label)
            return Value(TODO[self.lang], None)
        self.filled.append({"section": self.section, "field": label, "value": str(text), "source": source})
        return Value(str(text), source)

    def fields(self, rows: list[tuple[str, Any, str | None]]) -> None:
        self.blocks.append(Fields([(label, self.value(label, text, src)) for label, text, src in rows]))

    def table(self, headers: list[str], rows: list[list[str | Value]], widths: list[float] | None = None,
              wide: bool = False) -> None:
        self.blocks.append(Table(headers, rows, widths, wide))

    def manifest(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "lang": self.lang, "filled": self.filled, "todo": self.todo}
