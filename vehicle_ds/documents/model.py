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
    working: tuple[int, ...] = ()  # columns for the engineer (check ids, evidence files): not in the submission
    internal: bool = False  # the whole table is for the engineer (an evidence index)

    def filed(self) -> Table:
        keep = [i for i in range(len(self.headers)) if i not in self.working]
        return Table([self.headers[i] for i in keep], [[row[i] for i in keep] for row in self.rows],
                     [self.widths[i] for i in keep] if self.widths else None, self.wide)


@dataclass(frozen=True)
class Fields:
    """A form: label, value, and where the value comes from."""

    rows: list[tuple[str, Value]]


@dataclass(frozen=True)
class Signature:
    """The authority forms' closing block: the organisation's seal, the responsible person's signature, a date."""

    lines: tuple[str, ...]


Block = Heading | Para | Table | Fields | Signature
SIGNATURE = {"zh": ("填报单位（盖章）：", "负责人（签字）：", "日期：　　　　年　　月　　日"),
             "en": ("Organisation (seal):", "Responsible person (signature):", "Date:")}


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
        if isinstance(text, (list, tuple)):  # a profile's list, said as a list is written, never its repr
            text = ("、" if self.lang == "zh" else ", ").join(map(str, text))
        elif isinstance(text, bool):
            text = self.t("是", "yes") if text else self.t("否", "no")
        self.filled.append({"section": self.section, "field": label, "value": str(text), "source": source})
        return Value(str(text), source)

    def fields(self, rows: list[tuple[str, Any, str | None]]) -> None:
        self.blocks.append(Fields([(label, self.value(label, text, src)) for label, text, src in rows]))

    def table(self, headers: list[str], rows: list[list[str | Value]], widths: list[float] | None = None,
              wide: bool = False, working: tuple[int, ...] = (), internal: bool = False) -> None:
        self.blocks.append(Table(headers, rows, widths, wide, working, internal))

    def submission(self) -> Document:
        """The copy an organisation files: no notes or warnings meant for the engineer (they stay in the working
        copy and documents.json), and the seal, signature and date block the authorities' forms end with."""
        blocks = [b.filed() if isinstance(b, Table) else b for b in self.blocks
                  if not (isinstance(b, Para) and b.style) and not (isinstance(b, Table) and b.internal)]
        return Document(self.id, self.title, self.lang, self.subtitle, [*blocks, Signature(SIGNATURE[self.lang])],
                        self.filled, self.todo)

    def manifest(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "lang": self.lang, "filled": self.filled, "todo": self.todo}
