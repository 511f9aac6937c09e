"""Form 2024.1: the household members repeat and the household figures checked
against it (sync/form.py; the phone's twin is held to it by tests/worker/test_form_parity.py)."""

from __future__ import annotations

import pytest

from sync.form import load_form
from tests.members_data import (
    BABY_ID,
    CHILD_ID,
    CONTEXT_2024,
    MEMBERS,
    member,
    visit_2024,
    with_member,
)

FORM = load_form("2024.1")


def _errors(data: dict) -> dict[str, list[str]]:
    return FORM.validate(data, CONTEXT_2024).errors


def test_base_visit_is_valid_and_the_counts_come_from_the_members() -> None:
    result = FORM.validate(visit_2024(), CONTEXT_2024)
    assert result.ok, result.errors
    assert result.values["work_out_province"] == 1
    assert result.values["work_in_city"] == 1
    assert result.values["work_in_province"] == 0
    assert result.values["dropout_count"] == 0
    child = result.values["members"][2]
    assert child["birth_date"] == "2014-09-01" and child["sex"] == "男"
    assert result.values["members"][0]["sex"] == "女"  # sequence 002 is even


def test_2023_1_is_unchanged_and_has_no_members() -> None:
    old = load_form("2023.1")
    assert "members" not in old.by_id
    assert old.by_id["work_in_city"].type == "int"
    assert _errors(visit_2024()) == {}
    assert old.validate({"members": MEMBERS}).errors["members"] == ["未知字段"]


def test_a_mismatch_names_both_figures() -> None:
    assert _errors(visit_2024(size=4))["size"] == ["家庭人口数与家庭成员人数（不含迁出、死亡的成员）不一致"]
    message = _errors(visit_2024(labor_count=3))["labor_count"][0]
    assert "劳动力人数" in message and "家庭成员" in message
    message = _errors(visit_2024(medical_uninsured=True, risk_types=["illness"], risk_note="x"))["medical_uninsured"][0]
    assert "未参加基本医疗保险" in message and "城乡居民基本医疗保险" in message


def test_three_guarantees_follow_the_members() -> None:
    uninsured = with_member(1, medical_insured=False)
    assert "medical_uninsured" in _errors(uninsured)
    uninsured.update(medical_uninsured=True, risk_types=["illness"], risk_note="未参保")
    assert _errors(uninsured) == {}
    ill = with_member(0, health="chronic")
    assert "serious_illness" in _errors(ill)
    ill.update(serious_illness=True, out_of_pocket=1000)
    assert _errors(ill) == {}


def test_a_child_of_school_age_out_of_school_is_a_dropout() -> None:
    data = with_member(2, school="none")  # born 2014-09-01: 10 on the day of the visit
    result = FORM.validate(data, CONTEXT_2024)
    assert result.values["dropout_count"] == 1
    assert "school_dropout" in result.errors
    data.update(school_dropout=True, risk_types=["schooling"], risk_note="辍学")
    assert _errors(data) == {}


def test_disability_needs_its_type_and_grade_and_only_then() -> None:
    errors = _errors(with_member(0, health="disabled"))
    assert errors["members.0.disability_type"] == ["请选择残疾类别"]
    assert errors["members.0.disability_grade"] == ["请选择残疾等级"]
    errors = _errors(with_member(0, disability_type="physical"))
    assert errors["members.0.disability_type"] == ["残疾类别此时应为空"]
    assert _errors(with_member(0, health="disabled", disability_type="physical", disability_grade="2")) == {}


def test_months_worked_when_working_away() -> None:
    assert _errors(with_member(1, work_months=None))["members.1.work_months"] == ["请填写务工时间（月）"]
    assert _errors(with_member(1, work_months=13))["members.1.work_months"] == ["务工时间（月）不能大于12"]
    assert _errors(with_member(2, work_months=3))["members.2.work_months"] == ["务工时间（月）此时应为空"]


def test_member_id_is_checked_and_unique() -> None:
    bad = CHILD_ID[:-1] + ("0" if CHILD_ID[-1] != "0" else "1")
    assert _errors(with_member(2, id_number=bad))["members.2.id_number"] == ["身份证号校验位错误"]
    data = visit_2024()
    data["members"][2]["id_number"] = data["members"][1]["id_number"]
    assert _errors(data)["members.2.id_number"] == ["公民身份号码与第2位成员重复"]


def test_the_householder_is_a_member() -> None:
    data = with_member(0, relation="spouse")
    assert "members" in _errors(data)


def test_a_removed_member_keeps_its_reason_and_no_longer_counts() -> None:
    data = with_member(2, change="removed", change_reason="moved_out")
    assert "size" in _errors(data)  # still 3, but two members count
    data["size"] = 2
    result = FORM.validate(data, CONTEXT_2024)
    assert result.ok, result.errors
    assert result.values["members"][2]["change_reason"] == "moved_out"  # the change is stored
    assert _errors(with_member(2, change="removed"))["members.2.change_reason"] == ["请选择变动原因"]
    wrong = _errors(with_member(2, change="removed", change_reason="born"))["members.2.change_reason"][0]
    assert wrong == "变动原因为“新生”时，只有新增成员可以是“新生”"


def test_a_removed_member_needs_only_name_and_id() -> None:
    data = visit_2024(size=3)
    data["members"].append({"name": "王老汉", "id_number": "420281194001010016", "change": "removed",
                            "change_reason": "died"})
    errors = _errors(data)
    assert not any(key.startswith("members.3.") and not key.endswith("id_number") for key in errors), errors


def test_a_newborn_is_added_with_its_reason() -> None:
    data = visit_2024(size=4)
    data["members"].append(member("王小宝", BABY_ID, "child", skill="none", school="preschool",
                                  change="added", change_reason="born"))
    assert _errors(data) == {}


@pytest.mark.parametrize(("members", "message"), [
    ("x", "家庭成员应为成员列表"), ([1, 2], "家庭成员应为成员列表"), ([], "请填写家庭成员"),
    ([member("王某某", CHILD_ID, "child")] * 21, "家庭成员最多20人"),
])
def test_the_shape_of_the_repeat(members: object, message: str) -> None:
    assert _errors(visit_2024(members=members))["members"] == [message]


def test_unknown_keys_in_a_member() -> None:
    assert _errors(with_member(0, shoe_size=42))["members.0.shoe_size"] == ["未知字段"]


def test_the_web_form_sends_members_as_json_text() -> None:
    import json
    data = FORM.coerce_strings({"members": json.dumps(MEMBERS)})
    assert data["members"] == MEMBERS
