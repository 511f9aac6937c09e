"""``fieldapp dedup check FILE --out PAIRS.csv`` on roster-format CSV and XLSX files."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from openpyxl import Workbook

from sync.idnumber import make_id

LIU = make_id("420281", dt.date(1968, 3, 14), 213)
CHEN = make_id("420281", dt.date(1975, 11, 2), 48)
SON = make_id("420281", dt.date(1994, 8, 30), 17)
TYPO = LIU[:9] + str((int(LIU[9]) + 1) % 10) + LIU[10:]  # one wrong digit: invalid checksum

CN_HEADER = ["户编号", "乡镇", "村", "村民小组", "湾", "户主姓名", "户主身份证号", "联系电话", "家庭人口数", "户类型"]
EN_HEADER = ["code", "town", "village", "group", "hamlet", "head_name", "head_id", "phone", "size", "category"]
ROWS = [
    ["H001", "保安镇", "沼山村", "3组", "王祖湾", "刘伟", LIU, "13812345678", "4", "一般农户"],
    ["H002", "保安镇", "沼山村", "2组", "下陈湾", "陈秀英", CHEN, "13900001111", "3", "一般农户"],
    ["H003", "保安镇", "沼山村", "第三村民小组", "王组塆", "刘炜", TYPO, "", "4", "一般农户"],
    ["H004", "保安镇", "沼山村", "3组", "王祖湾", "刘伟", SON, "13812345678", "2", "一般农户"],  # the son
    ["H005", "保安镇", "沼山村", "2组", "下陈湾", "陳秀英", "", "13900001111", "3", "一般农户"],
]


def read_pairs(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["row_a", "row_b", "score", "evidence"]
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_check(runner: FlaskCliRunner, source: Path, out: Path) -> list[dict[str, str]]:
    result = runner.invoke(args=["dedup", "check", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "发现疑似重复 2 对" in result.output
    return read_pairs(out)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_rows_are_paired_by_data_row_number(runner: FlaskCliRunner, tmp_path: Path,
                                                encoding: str) -> None:
    source = write_csv(tmp_path / "roster.csv", CN_HEADER, ROWS, encoding)
    pairs = run_check(runner, source, tmp_path / "pairs.csv")
    assert [(p["row_a"], p["row_b"]) for p in pairs] == [("1", "3"), ("2", "5")]
    first = pairs[0]
    assert "身份证号相差一位（疑似录入错误）" in first["evidence"]
    assert "同村同组" in first["evidence"] and "湾名读音相同" in first["evidence"]
    assert 0.6 <= float(first["score"]) <= 1.0
    assert "一方未填身份证号" in pairs[1]["evidence"]


def test_csv_with_english_aliases_and_an_id_column_uses_the_ids(runner: FlaskCliRunner,
                                                                tmp_path: Path) -> None:
    rows = [[f"row-{n}", *row] for n, row in enumerate(ROWS, 1)]
    source = write_csv(tmp_path / "roster.csv", ["id", *EN_HEADER], rows, "utf-8")
    pairs = run_check(runner, source, tmp_path / "pairs.csv")
    assert [(p["row_a"], p["row_b"]) for p in pairs] == [("row-1", "row-3"), ("row-2", "row-5")]


def test_xlsx_with_numeric_cells_is_read(runner: FlaskCliRunner, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(CN_HEADER)
    for row in ROWS:
        sheet.append([*row[:7], int(row[7]) if row[7] else None, int(row[8]), row[9]])
    sheet.append([])  # a trailing blank line is ignored
    source = tmp_path / "roster.xlsx"
    book.save(source)
    pairs = run_check(runner, source, tmp_path / "pairs.csv")
    assert [(p["row_a"], p["row_b"]) for p in pairs] == [("1", "3"), ("2", "5")]
    assert "电话相同" in pairs[1]["evidence"]


def test_xlsx_id_column_and_an_excel_mangled_number_is_matched_not_refused(
        runner: FlaskCliRunner, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["id", *CN_HEADER])
    sheet.append(["A1", *ROWS[0]])
    sheet.append(["A2", "H009", "保安镇", "沼山村", "3组", "王祖湾", "刘伟", 4.20281e17, "13812345678", 4, "一般农户"])
    source = tmp_path / "roster.xlsx"
    book.save(source)
    result = runner.invoke(args=["dedup", "check", str(source), "--out", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    [pair] = read_pairs(tmp_path / "p.csv")
    assert (pair["row_a"], pair["row_b"]) == ("A1", "A2")
    assert "身份证号格式错误，无法比对" in pair["evidence"]


def test_a_file_without_the_name_column_is_refused_in_chinese(runner: FlaskCliRunner,
                                                               tmp_path: Path) -> None:
    source = write_csv(tmp_path / "bad.csv", ["户编号", "户主身份证号"], [["H1", LIU]], "utf-8")
    result = runner.invoke(args=["dedup", "check", str(source), "--out", str(tmp_path / "p.csv")])
    assert result.exit_code != 0
    assert "缺少列：户主姓名（head_name）" in result.output
    assert not (tmp_path / "p.csv").exists()


def test_no_duplicates_writes_only_the_header(runner: FlaskCliRunner, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "roster.csv", CN_HEADER, [ROWS[0], ROWS[1], ROWS[3]], "utf-8")
    result = runner.invoke(args=["dedup", "check", str(source), "--out", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    assert read_pairs(tmp_path / "p.csv") == []


def test_output_starts_with_a_bom_for_excel_unless_told_not_to(runner: FlaskCliRunner, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "roster.csv", CN_HEADER, ROWS, "utf-8")
    runner.invoke(args=["dedup", "check", str(source), "--out", str(tmp_path / "bom.csv")])
    assert (tmp_path / "bom.csv").read_bytes().startswith(b"\xef\xbb\xbfrow_a,row_b,score,evidence\r\n")
    result = runner.invoke(args=["dedup", "check", str(source), "--out", str(tmp_path / "plain.csv"), "--no-bom"])
    assert result.exit_code == 0, result.output
    first = (tmp_path / "plain.csv").read_text(encoding="utf-8").splitlines()[0]
    assert first == "row_a,row_b,score,evidence"


@pytest.mark.parametrize("encoding", ["utf-16", "gb18030"])
def test_tab_separated_unicode_text_with_the_imports_spellings_and_a_title_row(
        runner: FlaskCliRunner, tmp_path: Path, encoding: str) -> None:
    """Excel's "Unicode text" (UTF-16 with BOM, tab-separated) below a title row, with the
    header spellings the roster import reads (户主, 户主身份证号码, 行政村, 组): one reader."""
    header = ["户编号", "乡镇", "行政村", "组", "自然村", "户主", "户主身份证号码", "电话", "人口数", "户类型"]
    lines = ["保安镇农户花名册", "\t".join(header), *("\t".join(row) for row in ROWS)]
    source = tmp_path / "roster.txt"
    source.write_bytes("\r\n".join(lines).encode(encoding))
    pairs = run_check(runner, source, tmp_path / "pairs.csv")
    assert [(p["row_a"], p["row_b"]) for p in pairs] == [("1", "3"), ("2", "5")]
    assert "同村同组" in pairs[0]["evidence"] and "电话相同" in pairs[1]["evidence"]


def test_a_column_named_twice_is_refused_as_by_the_import(runner: FlaskCliRunner, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "roster.csv", [*CN_HEADER, "身份证号"], [[*row, ""] for row in ROWS], "utf-8")
    result = runner.invoke(args=["dedup", "check", str(source), "--out", str(tmp_path / "p.csv")])
    assert result.exit_code != 0
    assert "列重复：户主身份证号（head_id）" in result.output


def test_a_village_written_with_the_town_in_front_or_as_its_committee_is_one_village(
        runner: FlaskCliRunner, tmp_path: Path) -> None:
    """The roster's own gazetteer: 保安镇沼山村, 沼山村委会 and 沼山 are the 沼山村 of the other rows."""
    rows = [
        ["H001", "保安镇", "沼山村", "3组", "王祖湾", "刘伟", LIU, "13812345678", "4", "一般农户"],
        ["H002", "保安镇", "沼山村", "2组", "下陈湾", "陈秀英", CHEN, "13900001111", "3", "一般农户"],
        ["H003", "保安镇", "磨山村", "1组", "柯家湾", "柯友明", SON, "13700002222", "5", "一般农户"],
        ["H004", "保安镇", "沼山村", "5组", "上湾", "吴德华", make_id("420281", dt.date(1959, 1, 2), 31), "", "2",
         "一般农户"],
        ["H005", "保安镇", "保安镇沼山村", "三组", "王祖湾", "刘伟", "", "13812345678", "4", "一般农户"],
        ["H006", "保安镇", "沼山村委会", "2组", "下陈湾", "陈秀英", "", "", "3", "一般农户"],
    ]
    source = write_csv(tmp_path / "roster.csv", CN_HEADER, rows, "utf-8")
    pairs = run_check(runner, source, tmp_path / "pairs.csv")
    assert [(p["row_a"], p["row_b"]) for p in pairs] == [("1", "5"), ("2", "6")]
    assert all("同村同组" in p["evidence"] and "不同村" not in p["evidence"] for p in pairs)
