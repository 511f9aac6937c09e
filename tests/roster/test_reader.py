"""Reading roster files: encodings, XLSX, header names and aliases, title rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from fieldapp.roster import RosterFileError, read_roster
from tests.roster.conftest import WriteRoster, sample_rows

HEADER = "户编号,乡镇,村,村民小组,湾,户主姓名,户主身份证号,联系电话,家庭人口数,劳动力人数,户类型,监测对象类别,风险是否已消除"
HEADER_KEYS = ("code", "town", "village", "group", "hamlet", "head_name", "head_id", "phone", "size", "labor_count",
               "category", "monitor_type", "risk_eliminated")


@pytest.mark.parametrize(("encoding", "detected"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"),
])
def test_csv_encodings_read_the_same_chinese_text(write: WriteRoster, encoding: str, detected: str) -> None:
    path = write(sample_rows(), encoding=encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")  # really not UTF-8
    table = read_roster(path)
    assert table.encoding == detected
    assert [r.values["head_name"] for r in table.rows] == [r["head_name"] for r in sample_rows()]
    assert table.rows[2].values["group"] == "第三村民小组"
    assert table.rows[0].values["village"] == "沼山村"
    assert table.rows[0].number == 2  # the header is row 1, as in Excel


def test_xlsx_reads_cells_with_their_types(write: WriteRoster) -> None:
    table = read_roster(write(sample_rows(), "roster.xlsx"))
    assert table.encoding == "xlsx"
    first = table.rows[0].values
    assert first["head_id"] == sample_rows()[0]["head_id"]
    assert first["size"] == 4 and isinstance(first["size"], int)
    assert first["category"] == "一般农户"
    assert len(table.rows) == len(sample_rows())


def test_english_aliases_are_accepted(write: WriteRoster) -> None:
    table = read_roster(write(sample_rows(), headers="key"))
    assert table.rows[0].values["code"] == "H001"
    assert table.rows[3].values["monitor_type"] == "边缘易致贫户"


def test_title_rows_blank_lines_and_unknown_columns(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        "保安镇2023年农户花名册,,\n"
        f"序号,{HEADER.replace('户主身份证号', '* 户主身份证号')},备注\n"
        "1,H001,保安镇,沼山村,3组,王祖湾,王建国,420281196001010011,,4,2,一般农户,,,\n"
        ",,,,,,,,,,,,,,\n"
        "2,H002,保安镇,沼山村,3组,,刘伟,420281196001010038,,2,,脱贫户,,,老党员\n",
        encoding="utf-8")
    table = read_roster(path)
    assert [r.number for r in table.rows] == [3, 5]
    assert table.ignored_headers == ["序号", "备注"]
    assert table.rows[1].values["head_name"] == "刘伟"


def test_missing_required_column_names_it(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(HEADER.replace(",户主身份证号", "").replace(",户类型", "") + "\n", encoding="utf-8")
    with pytest.raises(RosterFileError) as caught:
        read_roster(path)
    assert "缺少必填列" in str(caught.value)
    assert "户主身份证号（head_id）" in str(caught.value) and "户类型（category）" in str(caught.value)


def test_file_without_a_header_row(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(RosterFileError, match="找不到表头"):
        read_roster(path)


def test_repeated_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(HEADER + ",code\n", encoding="utf-8")
    with pytest.raises(RosterFileError, match="列重复：户编号（code）"):
        read_roster(path)


def test_old_xls_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "roster.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(RosterFileError, match=r"另存为 \.xlsx"):
        read_roster(path)


def test_xlsx_reading_reports_progress(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()  # a normal workbook stores its dimension, as Excel does
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    first = sample_rows()[0]
    for n in range(4100):
        sheet.append([f"H{n:05d}" if key == "code" else first[key] for key in (
            "code", "town", "village", "group", "hamlet", "head_name", "head_id", "phone", "size",
            "labor_count", "category", "monitor_type", "risk_eliminated")])
    workbook.save(tmp_path / "big.xlsx")
    calls: list[tuple[int, int]] = []
    table = read_roster(tmp_path / "big.xlsx", lambda done, total: calls.append((done, total)))
    assert len(table.rows) == 4100
    assert calls == [(2000, 4101), (4000, 4101), (4101, 4101)]


def test_utf16_tab_separated_text_with_dedup_aliases_is_read(tmp_path: Path) -> None:
    """Excel's "Unicode text" (UTF-16 with BOM, tab-separated); 身份证号 and an 编号 column,
    the spellings ``dedup check`` always read, are read by the import too (one reader)."""
    rows = sample_rows()
    keys = ["id", *(key for key in HEADER_KEYS)]
    header = ["编号", *HEADER.replace("户主身份证号", "身份证号").split(",")]
    lines = ["\t".join(header)] + [
        "\t".join([f"r{n}", *("" if row.get(key) is None else str(row[key]) for key in keys[1:])])
        for n, row in enumerate(rows, 1)]
    path = tmp_path / "roster.txt"
    path.write_bytes("\r\n".join(lines).encode("utf-16"))
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    table = read_roster(path)
    assert table.encoding == "utf-16"
    assert [r.values["head_id"] for r in table.rows] == [r["head_id"] for r in rows]
    assert table.rows[0].values["id"] == "r1" and table.rows[0].number == 2
    assert table.ignored_headers == []


def test_file_errors_are_shown_in_the_users_language(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "roster.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with app.test_request_context("/?lang=en"), pytest.raises(RosterFileError) as caught:
        read_roster(path)
    assert str(caught.value).startswith("Old Excel (.xls) files are not supported")
    with app.test_request_context("/"), pytest.raises(RosterFileError, match=r"不支持旧版 Excel"):
        read_roster(path)
