"""Row checks: one clear Chinese error per bad row (row, column, value, why)."""

from __future__ import annotations

import datetime as dt

import pytest

from fieldapp.roster.reader import RawRow
from fieldapp.roster.validate import (
    RosterRecord,
    RowError,
    check_row,
    check_rows,
    excel_code_message,
    excel_id_message,
)
from tests.roster.conftest import person_id, sample_rows

TODAY = dt.date(2023, 10, 15)


def row(number: int = 7, **changes: object) -> RawRow:
    values: dict[str, object] = dict(sample_rows()[0])
    values.update(changes)
    return RawRow(number, values)


def test_valid_row_is_normalised() -> None:
    result = check_row(row(group="第三村民小组", head_id=person_id(1).lower().replace("x", "x"),
                           phone="+86 138 7234 5678", category="general", size="4", labor_count=2.0), TODAY)
    assert isinstance(result, RosterRecord)
    assert (result.group, result.phone, result.size, result.labor_count) == ("3组", "13872345678", 4, 2)
    assert (result.category, result.monitor_type, result.risk_eliminated) == ("general", "none", None)


@pytest.mark.parametrize(("raw", "group"), [("3组", "3组"), ("三组", "3组"), ("第三村民小组", "3组"),
                                            (3, "3组"), (3.0, "3组"), ("十二组", "12组")])
def test_group_spellings(raw: object, group: str) -> None:
    result = check_row(row(group=raw), TODAY)
    assert isinstance(result, RosterRecord) and result.group == group


def test_lower_case_x_is_stored_upper_case() -> None:
    ids = [person_id(n) for n in range(1, 200) if person_id(n).endswith("X")]
    result = check_row(row(head_id=ids[0].lower()), TODAY)
    assert isinstance(result, RosterRecord) and result.head_id == ids[0]


EXCEL_MANGLED = [
    "4.20281E+17",                  # scientific notation in a CSV saved by Excel
    4.20281196001010e17,            # a numeric XLSX cell (float)
    420281196001010011,             # a numeric XLSX cell (int)
    "420281196001010000",           # 18 digits, last ones zeroed by Excel's 15-digit precision
    "420281196001010011.0",
]


@pytest.mark.parametrize("value", EXCEL_MANGLED)
def test_excel_mangled_ids_are_reported_naming_the_row(value: object) -> None:
    result = check_row(row(12, head_id=value), TODAY)
    assert isinstance(result, RowError)
    assert result.number == 12
    assert result.message.startswith("第12行（户编号 H001）：户主身份证号（head_id）“")
    assert excel_id_message() in result.message


def test_excel_mangled_code_is_reported() -> None:
    result = check_row(row(code=4.20281101203e15), TODAY)
    assert isinstance(result, RowError) and excel_code_message() in result.message


@pytest.mark.parametrize(("changes", "column", "reason"), [
    ({"head_id": "420281196001010012"}, "户主身份证号（head_id）", "身份证号校验位错误"),
    ({"head_id": "420281199902300017"}, "户主身份证号（head_id）", "出生日期无效"),
    ({"head_id": ""}, "户主身份证号（head_id）", "请填写身份证号"),
    ({"head_name": "A"}, "户主姓名（head_name）", "2–20个字"),
    ({"head_name": ""}, "户主姓名（head_name）", "必填"),
    ({"town": ""}, "乡镇（town）", "必填"),
    ({"village": None}, "村（village）", "必填"),
    ({"group": ""}, "村民小组（group）", "必填"),
    ({"size": "abc"}, "家庭人口数（size）", "应为整数"),
    ({"size": 0}, "家庭人口数（size）", "应在1–20之间"),
    ({"size": 4, "labor_count": 5}, "劳动力人数（labor_count）", "不能大于家庭人口数（4）"),
    ({"phone": "12345"}, "联系电话（phone）", "联系电话应为11位手机号"),
    ({"category": "贫困户"}, "户类型（category）", "应为“一般农户”或“脱贫户”"),
    ({"category": "脱贫户", "monitor_type": "边缘易致贫户", "risk_eliminated": "否"},
     "监测对象类别（monitor_type）", "只有一般农户可以是边缘易致贫户"),
    ({"category": "一般农户", "monitor_type": "脱贫不稳定户", "risk_eliminated": "否"},
     "监测对象类别（monitor_type）", "只有脱贫户可以是脱贫不稳定户"),
    ({"monitor_type": "突发严重困难户", "risk_eliminated": ""}, "风险是否已消除（risk_eliminated）",
     "监测对象须填写“是”或“否”"),
    ({"monitor_type": "", "risk_eliminated": "是"}, "风险是否已消除（risk_eliminated）", "非监测对象此列应为空"),
    ({"monitor_type": "监测户"}, "监测对象类别（monitor_type）", "应为空、"),
])
def test_bad_values_have_a_clear_message(changes: dict[str, object], column: str, reason: str) -> None:
    result = check_row(row(9, **changes), TODAY)
    assert isinstance(result, RowError), result
    assert len(result.problems) == 1
    assert result.message.startswith(f"第9行（户编号 H001）：{column}“")
    assert reason in result.message


def test_the_value_is_quoted_in_the_message() -> None:
    result = check_row(row(size="七口人"), TODAY)
    assert isinstance(result, RowError)
    assert "家庭人口数（size）“七口人”：应为整数" in result.message


def test_several_problems_make_one_error_for_the_row() -> None:
    result = check_row(row(5, head_id="4.20281E+17", size="", category="x"), TODAY)
    assert isinstance(result, RowError)
    assert [p.column for p in result.problems] == ["head_id", "size", "category"]
    assert result.message.count("第5行") == 1
    assert result.message.count("；") == 2
    assert "家庭人口数（size）“（空）”：必填" in result.message


def test_no_code_means_no_code_in_the_location() -> None:
    result = check_row(row(3, code=""), TODAY)
    assert isinstance(result, RowError)
    assert result.message.startswith("第3行：户编号（code）“（空）”：必填")


def test_duplicates_across_rows_name_the_first_row() -> None:
    rows = [RawRow(n + 2, dict(values)) for n, values in enumerate(sample_rows())]
    rows[4].values["code"] = "H001"
    rows[5].values["head_id"] = rows[1].values["head_id"]
    records, errors = check_rows(rows, TODAY)
    assert len(records) == len(rows) - 2
    assert [e.number for e in errors] == [6, 7]
    assert "户编号（code）“H001”：与第2行重复" in errors[0].message
    assert "与第3行的户主身份证号重复" in errors[1].message


def test_same_code_in_two_towns_is_allowed() -> None:
    rows = [RawRow(2, dict(sample_rows()[0])), RawRow(3, dict(sample_rows()[1], code="H001", town="金山店镇"))]
    records, errors = check_rows(rows, TODAY)
    assert not errors and len(records) == 2
