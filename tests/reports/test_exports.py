"""Formula neutralisation and the file formats, without a database."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from fieldapp.reports.exports import neutralise, to_csv, to_xlsx


@pytest.mark.parametrize("value", ["=SUM(A1:A2)", "+86 138", "-2+3", "@SUM(1)", "\tcmd", "\r=1"])
def test_text_that_a_spreadsheet_would_run_is_prefixed(value: str) -> None:
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["王建国", "3组", "", None, -5, 12.5, 0])
def test_other_values_pass_unchanged(value: object) -> None:
    assert neutralise(value) == value


def test_csv_has_a_bom_and_neutralised_cells() -> None:
    content = to_csv(["户主姓名", "=x"], [["=HYPERLINK(\"http://evil\")", -3], ["王建国", None]])
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows == [["户主姓名", "'=x"], ["'=HYPERLINK(\"http://evil\")", "-3"], ["王建国", ""]]


def test_xlsx_keeps_formula_like_text_as_text() -> None:
    content = to_xlsx("名单", ["户主姓名", "人口"], [["=1+1", 4], ["@cmd", -1]], totals_last=True)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet["A2"].value == "'=1+1" and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == "'@cmd" and sheet["B3"].value == -1
    assert sheet.freeze_panes == "B2" and sheet["A3"].font.bold
