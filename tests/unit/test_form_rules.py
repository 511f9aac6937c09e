"""Every rule of docs/visit-form.md 2023.1, through the one validator."""

from __future__ import annotations

import base64
import datetime as dt
import struct
import zlib
from typing import Any

import pytest

from sync.form import FormContext, available_versions, load_form

FORM = load_form("2023.1")
CTX = FormContext(monitoring_line=7600, start=dt.date(2023, 10, 1), end=dt.date(2023, 11, 30),
                  today=dt.date(2023, 11, 1))


def valid(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "head_name": "王建国", "head_id": "420281197005011235", "phone": "13800138000",
        "group": "3组", "hamlet": "王祖湾", "size": 4, "labor_count": 2,
        "category": "general", "monitor_type": "none", "risk_eliminated": None,
        "food_clothing_ok": True, "housing_unsafe": False, "school_dropout": False,
        "medical_uninsured": False, "serious_illness": False, "water_unsafe": False,
        "income_wage": 30000, "income_business": 5000, "business_cost": 1000,
        "income_property": 0, "income_transfer": 1200, "conclusion": "no_risk",
        "visit_method": "phone", "visited_on": "2023-10-12", "respondent": "王建国",
        "respondent_relation": "self",
    }
    data.update(overrides)
    return data


def errors(**overrides: Any) -> dict[str, list[str]]:
    return FORM.validate(valid(**overrides), CTX).errors


def tiny_png(size: int = 1) -> str:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\xff" * size for _ in range(size))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()


def test_a_valid_visit_passes_and_computes() -> None:
    result = FORM.validate(valid(), CTX)
    assert result.errors == {}
    assert result.values["net_income"] == 35200
    assert result.values["per_capita_income"] == 8800
    assert result.values["monitoring_income"] == 8800
    assert result.flags == {"below_monitoring_line": False, "below_10k": True,
                            "guarantee_gap": False, "needs_attention": False}


def test_versions_and_json() -> None:
    assert "2023.1" in available_versions()
    served = FORM.to_json()
    assert served["version"] == "2023.1"
    assert {f["id"] for f in served["fields"]} >= {"head_id", "signature", "net_income"}
    with pytest.raises(KeyError):
        load_form("../etc/passwd")


def test_lower_case_x_and_full_width_id_are_normalised() -> None:
    result = FORM.validate(valid(head_id="11010519491231002x"), CTX)
    assert result.errors == {} and result.values["head_id"] == "11010519491231002X"
    full_width = "４２０２８１１９７００５０１１２３５"
    result = FORM.validate(valid(head_id=full_width), CTX)
    assert result.errors == {} and result.values["head_id"] == "420281197005011235"


def test_id_with_bad_birth_date() -> None:
    from sync.idnumber import check_char

    first17 = "42028119990230123"
    assert errors(head_id=first17 + check_char(first17))["head_id"] == ["身份证号中的出生日期无效"]


def test_id_as_a_number_is_refused() -> None:
    assert "head_id" in errors(head_id=420281197005011235)


@pytest.mark.parametrize("group", ["三组", "第三村民小组", "3组", "三队"])
def test_groups_compare_equal(group: str) -> None:
    assert FORM.validate(valid(group=group), CTX).values["group"] == "3组"


def test_marginal_on_a_lifted_household_is_refused() -> None:
    result = errors(category="lifted", monitor_type="marginal", risk_eliminated=False)
    assert result["monitor_type"] == ["监测对象类别为“边缘易致贫户”时，只有一般农户可以是边缘易致贫户"]


def test_unstable_only_for_lifted_and_hardship_for_either() -> None:
    assert "monitor_type" in errors(monitor_type="unstable", risk_eliminated=False)
    assert errors(category="lifted", monitor_type="unstable", risk_eliminated=False) == {}
    assert errors(monitor_type="hardship", risk_eliminated=True) == {}


def test_risk_eliminated_required_when_monitored_and_empty_otherwise() -> None:
    assert errors(monitor_type="hardship")["risk_eliminated"] == ["请选择风险是否已消除"]
    assert errors(risk_eliminated=True)["risk_eliminated"] == ["风险是否已消除此时应为空"]


@pytest.mark.parametrize(
    ("answer", "risk", "message_part"),
    [
        ({"housing_unsafe": True, "housing_grade": "C"}, "housing", "因安全住房"),
        ({"school_dropout": True, "dropout_count": 1}, "schooling", "因学"),
        ({"medical_uninsured": True}, "illness", "因病"),
        ({"water_unsafe": True, "water_issues": ["quality"]}, "water", "因安全饮水"),
    ],
)
def test_a_guarantee_yes_needs_its_risk_type(answer: dict[str, Any], risk: str, message_part: str) -> None:
    result = errors(**answer)
    assert message_part in result["risk_types"][0]
    assert errors(**answer, risk_types=[risk], risk_note="见说明") == {}


def test_food_and_clothing_no_needs_some_risk_type() -> None:
    assert "须填写致贫返贫风险类型" in errors(food_clothing_ok=False)["risk_types"][0]


def test_work_counts_summing_above_size() -> None:
    result = errors(work_out_province=2, work_in_province=2, work_in_city=1)
    assert result["work_in_city"] == ["外省、省内市外、市内务工人数合计不能超过家庭人口数"]
    assert errors(work_out_province=2, work_in_province=1, work_in_city=1) == {}


def test_labor_count_not_above_size() -> None:
    assert errors(labor_count=5)["labor_count"] == ["劳动力人数不能大于家庭人口数"]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("size", 0, "家庭人口数不能小于1"), ("size", 21, "家庭人口数不能大于20"),
    ("size", "4", "家庭人口数应为整数"), ("size", True, "家庭人口数应为整数"),
    ("income_wage", -1, "工资性收入不能小于0"), ("income_wage", 1.234, "工资性收入应为数字，最多两位小数"),
    ("microcredit_balance", 50001, "小额信贷余额（元）不能大于50000"),
    ("head_name", "王", "户主姓名只能包含汉字、“·”或字母，2–20个字"),
    ("head_name", "王1", "户主姓名只能包含汉字、“·”或字母，2–20个字"),
    ("phone", "12345", "联系电话应为11位手机号（1开头）或带区号的固定电话（如 0714-1234567）"),
    ("category", "poor", "户类型的选项无效"), ("food_clothing_ok", "是", "不愁吃、不愁穿应为“是”或“否”"),
    ("visited_on", "2023-13-01", "走访日期应为日期（YYYY-MM-DD）"),
    ("visited_on", "2023-09-20", "走访日期应在排查期间（2023-10-01至2023-11-30）"),
    ("visited_on", "2023-11-20", "走访日期不能晚于今天"),
    ("remarks", "x" * 1001, "备注不能超过1000个字"),
    ("respondent", "王\x00", "受访人含有不可见的控制字符或换行"),
])
def test_field_rules(field: str, value: Any, message: str) -> None:
    assert errors(**{field: value})[field] == [message]


def test_a_day_of_tolerance_around_campaign_dates() -> None:
    assert errors(visited_on="2023-09-30") == {}


def test_required_fields_and_unknown_fields() -> None:
    data = valid()
    del data["head_id"]
    data["surprise"] = 1
    result = FORM.validate(data, CTX).errors
    assert result["head_id"] == ["请填写户主公民身份号码"]
    assert result["surprise"] == ["未知字段"]


def test_conclusion_options_depend_on_monitoring() -> None:
    assert "conclusion" in errors(conclusion="continue_monitor")
    assert "conclusion" in errors(monitor_type="hardship", risk_eliminated=True, conclusion="suggest_eliminate")
    assert errors(monitor_type="hardship", risk_eliminated=False, conclusion="suggest_eliminate") == {}


def test_in_person_needs_a_png_signature() -> None:
    assert errors(visit_method="in_person")["signature"] == ["请填写农户签字确认"]
    assert errors(visit_method="in_person", signature="data:image/jpeg;base64,AAAA")["signature"] == [
        "农户签字确认应为 PNG 图片（data URL）"]
    assert errors(visit_method="in_person", signature=tiny_png()) == {}


def test_out_of_pocket_required_with_serious_illness() -> None:
    assert errors(serious_illness=True)["out_of_pocket"] == ["请填写合规自付支出（医疗、教育等刚性支出）"]


def test_multi_choice_limits() -> None:
    too_many = ["illness", "schooling", "disability", "disaster", "accident", "other"]
    assert errors(risk_types=too_many, risk_note="多")["risk_types"] == ["致贫返贫风险类型最多选5项"]
    assert errors(risk_types=["nope"], risk_note="x")["risk_types"] == ["致贫返贫风险类型的选项无效"]


def test_flags() -> None:
    low = FORM.validate(valid(income_wage=0, income_business=0, business_cost=0, income_transfer=8000,
                              risk_types=["illness"], risk_note="因病", serious_illness=True,
                              out_of_pocket=2000, insurance_payout=500), CTX)
    assert low.values["monitoring_income"] == 1625.0  # (8000 + 500 - 2000) / 4
    assert low.flags["below_monitoring_line"] and low.flags["needs_attention"]
    suggested = FORM.validate(valid(income_wage=0, income_business=0, business_cost=0, income_transfer=8000,
                                    conclusion="suggest_monitor"), CTX)
    assert suggested.flags["below_monitoring_line"] and not suggested.flags["needs_attention"]
    gap = FORM.validate(valid(medical_uninsured=True, risk_types=["illness"], risk_note="未参保"), CTX)
    assert gap.flags["guarantee_gap"]
    no_labour = FORM.validate(valid(labor_count=0), CTX)
    assert not no_labour.flags["below_10k"]


def test_html_strings_are_coerced_then_validated() -> None:
    form = {k: ("true" if v is True else "false" if v is False else "" if v is None else str(v))
            for k, v in valid().items()}
    result = FORM.validate(FORM.coerce_strings(form), CTX)
    assert result.errors == {}
    form["size"] = "四"
    assert FORM.validate(FORM.coerce_strings(form), CTX).errors["size"] == ["家庭人口数应为整数"]


def _money_form(money_max: int | None, **bounds: Any) -> Any:
    from sync.form import FormDefinition

    raw = {"version": "t", "title": "t", "messages": FORM.messages, "sections": [{"id": "s", "label": "s"}],
           "fields": [{"id": "amount", "section": "s", "label": "金额", "type": "money", **bounds},
                      {"id": "twice", "section": "s", "label": "两倍", "type": "computed",
                       "formula": "round2(amount * 2)"}]}
    if money_max is not None:
        raw["money_max"] = money_max
    return FormDefinition(raw)


@pytest.mark.parametrize("value", [1e308, -1e308, 1.7976931348623157e308, 2e306, 2.0**60])
def test_money_far_out_of_range_is_an_error_not_an_overflow(value: float) -> None:
    """``1e308`` made ``round(inf)`` raise in the cents check (a 500 for the whole batch)."""
    result = FORM.validate(valid(income_wage=value), CTX)
    expected = "工资性收入不能小于0" if value < 0 else "工资性收入不能大于10000000"
    assert result.errors == {"income_wage": [expected]}
    unbounded = _money_form(None)
    assert unbounded.validate({"amount": value}).errors == {"amount": ["金额应为数字，最多两位小数"]}


def test_the_forms_money_max_bounds_every_money_field() -> None:
    assert FORM.money_max == 100_000_000
    assert all(f.get("max") <= FORM.money_max for f in FORM.fields if f.type == "money")
    form = _money_form(100_000_000)
    assert (form.by_id["amount"].get("min"), form.by_id["amount"].get("max")) == (-100_000_000, 100_000_000)
    assert form.to_json()["fields"][0]["max"] == 100_000_000, "the phone checks the same bound"
    assert form.validate({"amount": 1e308}).errors == {"amount": ["金额不能大于100000000"]}
    assert form.validate({"amount": 99_999_999.99}).values["twice"] == 199_999_999.98
    with pytest.raises(ValueError, match="money_max"):
        _money_form(100_000_000, max=1e9)
    with pytest.raises(ValueError, match="money_max"):
        _money_form(100_000_000, min="0")
