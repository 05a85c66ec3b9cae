"""A :class:`Document` as DOCX (python-docx): a title block, real headings (the navigation pane and a table of
contents see them), tables with a header row, form fields in a three-column layout (field, content,
evidence), 待填写 cells shaded for the person who completes them, wide tables on landscape pages, and
page numbers in the footer ("第 X 页 共 Y 页")."""

from __future__ import annotations

from pathlib import Path

from docx import Document as Docx
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from .model import Document, Fields, Heading, Para, Signature, Table, Value

CJK_FONT = "SimSun"  # 宋体, the body face of Chinese official documents; Word substitutes where it is missing
CJK_HEADING_FONT = "SimHei"  # 黑体
TODO_FILL = "FFF2CC"
GREY = RGBColor(0x57, 0x60, 0x6A)


def _east_asian(run, font: str) -> None:
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), font)


def _field(paragraph, code: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word computes when it lays the document out."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, code), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def _page_numbers(section, lang: str) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    before, middle, after = ("第 ", " 页 共 ", " 页") if lang == "zh" else ("Page ", " of ", "")
    p.add_run(before)
    _field(p, "PAGE")
    p.add_run(middle)
    _field(p, "NUMPAGES")
    p.add_run(after)


def _shade(cell, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _write_cell(cell, value: str | Value, bold: bool = False, size: float = 9) -> None:
    text = value.text if isinstance(value, Value) else value
    cell.text = ""
    run = cell.paragraphs[0].add_run(text)
    run.font.size = Pt(size)
    run.bold = bold
    _east_asian(run, CJK_FONT)
    if isinstance(value, Value) and value.todo:
        _shade(cell, TODO_FILL)


def _orient(doc, landscape: bool) -> None:
    """Start a new section in the given orientation (only when it changes)."""
    current = doc.sections[-1]
    if (current.orientation == WD_ORIENT.LANDSCAPE) == landscape:
        return
    from docx.enum.section import WD_SECTION

    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = section.page_height, section.page_width


def write_docx(d: Document, path: Path, org_name: str = "", submission: bool = False) -> Path:
    """The working copy has a 来源 column naming each value's evidence; the submission copy does not."""
    doc = Docx()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)  # A4
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.2))
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), CJK_FONT)
    for level in (1, 2, 3):
        hs = doc.styles[f"Heading {level}"]
        hs.element.get_or_add_rPr()
        fonts = hs.element.rPr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            hs.element.rPr.append(fonts)
        fonts.set(qn("w:eastAsia"), CJK_HEADING_FONT)
    _page_numbers(section, d.lang)
    if org_name:
        section.header.paragraphs[0].text = org_name
    title = doc.add_heading(d.title, level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if d.subtitle:
        p = doc.add_paragraph(d.subtitle)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for block in d.blocks:
        if isinstance(block, Heading):
            _orient(doc, False)
            doc.add_heading(block.text, level=min(block.level, 3))
        elif isinstance(block, Para):
            p = doc.add_paragraph()
            run = p.add_run(block.text)
            if block.style:
                run.font.size = Pt(9.5)
                run.font.color.rgb = GREY if block.style == "note" else RGBColor(0xA4, 0x0E, 0x26)
        elif isinstance(block, Fields):
            heads = ("栏目", "内容", "来源") if d.lang == "zh" else ("Field", "Content", "Evidence")
            heads = heads[:2] if submission else heads
            table = doc.add_table(rows=1, cols=len(heads))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, heads, strict=True):
                _write_cell(cell, text, bold=True)
            for label, value in block.rows:
                cells = table.add_row().cells
                _write_cell(cells[0], label, bold=True)
                _write_cell(cells[1], value, size=10)
                if not submission:
                    _write_cell(cells[2], value.source or ("由人员填写" if d.lang == "zh" else "a person writes it"),
                                size=8)
            widths = (Cm(5.0), Cm(11.6)) if submission else (Cm(4.2), Cm(7.4), Cm(5.0))
            for row in table.rows:
                for cell, width in zip(row.cells, widths, strict=True):
                    cell.width = width
        elif isinstance(block, Signature):
            _orient(doc, False)
            for line in block.lines:
                p = doc.add_paragraph(line)
                p.paragraph_format.left_indent = Cm(9)
                p.paragraph_format.space_before = Pt(14)
        elif isinstance(block, Table):
            _orient(doc, block.wide)
            table = doc.add_table(rows=1, cols=len(block.headers))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, block.headers, strict=True):
                _write_cell(cell, text, bold=True, size=8 if block.wide else 9)
            for row in block.rows:
                cells = table.add_row().cells
                for cell, value in zip(cells, row, strict=True):
                    _write_cell(cell, value, size=7.5 if block.wide else 9)
            doc.add_paragraph()
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path
