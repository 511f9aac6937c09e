"""Checking a supervisor's chosen household values with the form definition (no database)."""

from __future__ import annotations

import pytest

from fieldapp.review.display import format_value, mask_json
from fieldapp.review.values import check_household_values
from sync.form import load_form
from tests.factories import make_id_number

CURRENT = {"head_name": "王建国", "head_id": make_id_number(1), "phone": "13800000001", "group": "3组",
           "hamlet": "王祖湾", "size": 4, "labor_count": 2, "category": "general", "monitor_type": "none",
           "risk_eliminated": None}


@pytest.mark.parametrize(("chosen", "typed", "values", "errors"), [
    ({"group": "第三村民小组"}, {"group"}, {"group": "3组"}, {}),
    ({"head_id": make_id_number(2).lower()}, {"head_id"}, {"head_id": make_id_number(2)}, {}),
    ({"size": "3"}, {"size"}, {"size": 3}, {}),
    ({"size": "1"}, {"size"}, {"size": 1}, {"labor_count": ["劳动力人数不能大于家庭人口数"]}),
    ({"size": "abc"}, {"size"}, None, {"size": ["家庭人口数应为整数"]}),
    ({"monitor_type": "unstable"}, set(), None, {"monitor_type": None, "risk_eliminated": None}),
    ({"phone": None}, set(), {"phone": None}, {}),
    ({"category": "lifted"}, set(), {"category": "lifted"}, {}),
])
def test_check_household_values(chosen, typed, values, errors) -> None:
    result, found = check_household_values("2023.1", None, CURRENT, chosen, typed)
    if values is not None:
        assert result == values
    assert set(found) == set(errors)
    for field, messages in errors.items():
        if messages is not None:
            assert found[field] == messages


def test_faults_the_household_already_had_are_not_blamed_on_the_choice() -> None:
    broken = dict(CURRENT, hamlet="x" * 40)  # an old roster value over the form's limit
    result, found = check_household_values("2023.1", None, broken, {"phone": "0714-8765432"}, {"phone"})
    assert result == {"phone": "0714-8765432"} and found == {}


@pytest.mark.parametrize(("field", "value", "shown"), [
    ("category", "lifted", "脱贫户"), ("risk_eliminated", True, "是"), ("risk_eliminated", False, "否"),
    ("water_issues", ["quality", "access"], "水质、取水方便程度"), ("head_id", "420281197005010021",
                                                               "420281********0021"),
    ("phone", "13812345678", "138****5678"), ("income_wage", 36000.5, "36,000.5"), ("remarks", None, "—"),
])
def test_values_are_shown_by_label(field, value, shown) -> None:
    assert format_value(load_form("2023.1").by_id[field], value) == shown


def test_audit_images_are_masked() -> None:
    image = {"survivor": {"values": {"head_id": "420281197005010021", "phone": "13812345678", "size": 4}}}
    assert mask_json(image) == {"survivor": {"values": {"head_id": "420281********0021",
                                                        "phone": "138****5678", "size": 4}}}
