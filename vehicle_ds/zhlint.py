"""Lint of Chinese output in the register of regulatory texts: no English sentence outside identifiers,
code, units and quoted evidence; full-width punctuation next to Chinese; the law's terms, not GDPR's or
colloquial ones. Used by the tests on the zh report and every zh document, and by ``vehicle-ds documents``
to warn about what a user's own texts (org.toml, datasets.toml) bring in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

# Text in these elements is code, an identifier or quoted evidence, not prose.
_SKIP_TAGS = {"code", "pre", "script", "style", "kbd", "samp"}
_QUOTED = re.compile(r"「[^」]*」|`[^`]*`|https?://\S+|[\w.-]+@[\w.-]+")
# Four Latin words in a row (a sentence, not a name such as "Test vehicle platform" or "alg none").
_ENGLISH = re.compile(r"(?<![\w/.-])(?:[A-Za-z][A-Za-z'’-]+[ ,]+){3,}[A-Za-z][A-Za-z'’-]+")
_CJK = r"[\u3400-\u9fff]"
_HALF_WIDTH = re.compile(rf"{_CJK}[,:;!?]|[,;!?]{_CJK}|:{_CJK}|{_CJK}\(|\){_CJK}|\({_CJK}[^()]*\)")
# Terms a Chinese regulator would not write: GDPR's 假名化 for PIPL's 去标识化, colloquial 出车.
FORBIDDEN_TERMS = {"假名化": "去标识化（《中华人民共和国个人信息保护法》第七十三条）", "出车": "向车外传输 / 向车外提供",
                   "数据主体": "个人信息主体（个人）", "数据控制者": "个人信息处理者 / 数据处理者"}


@dataclass(frozen=True)
class Finding:
    rule: str  # english | punctuation | term
    text: str
    context: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.text!r} in …{self.context}…"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag in ("br", "p", "div", "td", "th", "li", "tr", "h1", "h2", "h3", "h4", "summary"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self.skip:
            self.skip -= 1
        elif tag in ("td", "th", "p", "li", "div"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The prose of an HTML page: text nodes outside code, pre, script and style."""
    p = _Text()
    p.feed(html)
    return "".join(p.parts)


def markdown_text(md: str) -> str:
    """The prose of Markdown: fenced and inline code removed."""
    return re.sub(r"```.*?```", " ", md, flags=re.S)


def lint(text: str) -> list[Finding]:
    """Everything in ``text`` (prose already separated from code) that breaks the Chinese register."""
    out: list[Finding] = []
    for line in text.splitlines():
        prose = _QUOTED.sub(" ", line)
        for m in _ENGLISH.finditer(prose):
            out.append(Finding("english", m.group(0), _around(prose, m)))
        for m in _HALF_WIDTH.finditer(prose):
            out.append(Finding("punctuation", m.group(0), _around(prose, m)))
        for term, better in FORBIDDEN_TERMS.items():
            i = prose.find(term)
            if i >= 0:
                out.append(Finding("term", f"{term} → {better}", prose[max(0, i - 20):i + 20]))
    return out


def _around(text: str, m: re.Match[str]) -> str:
    return text[max(0, m.start() - 20):m.end() + 20].strip()


def lint_html(html: str) -> list[Finding]:
    return lint(html_text(html))


def lint_markdown(md: str) -> list[Finding]:
    return lint(markdown_text(md))
