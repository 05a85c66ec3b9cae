"""The important-data catalogue as XLSX (openpyxl: a cover sheet, the catalogue, the change log; cells a
person completes are shaded) and as CSV (UTF-8 with BOM, so spreadsheet programs show the Chinese)."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from .model import Document, Fields, Table, Value

TODO_FILL = PatternFill("solid", fgColor="FFF2CC")


def _put(ws, row: int, col: int, value: str | Value, bold: bool = False) -> None:
    cell = ws.cell(row=row, column=col, value=value.text if isinstance(value, Value) else value)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    if bold:
        cell.font = Font(bold=True)
    if isinstance(value, Value) and value.todo:
        cell.fill = TODO_FILL


def write_xlsx(d: Document, path: Path) -> Path:
    wb = Workbook()
    sheets = [wb.active]
    sheets[0].title = d.t("封面", "Cover")
    names = iter((d.t("目录", "Catalogue"), d.t("变更记录", "Changes")))
    ws = sheets[0]
    row = 1
    for block in d.blocks:
        if isinstance(block, Fields) and ws is sheets[0]:
            for label, value in block.rows:
                _put(ws, row, 1, label, bold=True)
                _put(ws, row, 2, value)
                _put(ws, row, 3, value.source or d.t("由人员填写", "a person writes it"))
                row += 1
        elif isinstance(block, Table):
            ws = wb.create_sheet(next(names, f"T{len(wb.sheetnames)}"))
            for col, head in enumerate(block.headers, 1):
                _put(ws, 1, col, head, bold=True)
                ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = 22
            for r, cells in enumerate(block.rows, 2):
                for col, value in enumerate(cells, 1):
                    _put(ws, r, col, value)
            ws.freeze_panes = "A2"
    sheets[0].column_dimensions["A"].width, sheets[0].column_dimensions["B"].width = 24, 48
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))
    return path


def write_csv(headers: list[str], rows: list[list[str]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        w.writerows(rows)
    return path
