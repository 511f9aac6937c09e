"""The roster template offered on the upload page: the Chinese headers (required ones
marked ``*``, which header matching ignores), one example row that imports as it is, and,
in the XLSX, a second sheet 填写说明 with each column's rule. The text columns are
formatted as text, so that an ID number typed into Excel keeps its 18 digits."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fieldapp.roster.columns import COLUMNS
from fieldapp.roster.writer import NUMERIC

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILENAME = "花名册模板"


def headers() -> list[str]:
    return [c.label + ("*" if c.required else "") for c in COLUMNS]


def example_row() -> list[str | int]:
    return [c.example for c in COLUMNS]


def template_csv() -> bytes:
    """UTF-8 with a BOM, so that Excel opens the Chinese headers correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers())
    writer.writerow(example_row())
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its first sheet
    sheet.title = "花名册"
    sheet.append(headers())
    sheet.append(example_row())
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 22 if column.key in ("head_id", "code") else 14
        sheet.cell(row=1, column=index).font = Font(bold=True)
        if column.key not in NUMERIC:
            sheet.column_dimensions[letter].number_format = "@"
            sheet.cell(row=2, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    rules = book.create_sheet("填写说明")
    rules.append(["列名", "必填", "填写要求", "示例"])
    for column in COLUMNS:
        rules.append([column.label, "是" if column.required else "否", column.rule, str(column.example)])
    for letter, width in (("A", 16), ("B", 8), ("C", 80), ("D", 22)):
        rules.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
