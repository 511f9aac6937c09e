"""A valid 2024.1 visit with household members (form tests, parity, API, e2e)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from sync.form import FormContext
from sync.idnumber import make_id

HEAD_ID = make_id("420281", dt.date(1970, 5, 1), 2)  # 420281197005010021 (a woman's sequence)
SPOUSE_ID = make_id("420281", dt.date(1972, 3, 8), 11)
CHILD_ID = make_id("420281", dt.date(2014, 9, 1), 13)
BABY_ID = make_id("420281", dt.date(2024, 2, 1), 24)
CONTEXT_2024 = FormContext(monitoring_line=7600.0, start=dt.date(2024, 10, 1), end=dt.date(2024, 12, 31),
                           today=dt.date(2024, 11, 1))
JS_CONTEXT_2024 = {"monitoring_line": 7600.0, "start": "2024-10-01", "end": "2024-12-31", "today": "2024-11-01"}


def member(name: str, id_number: str, relation: str, **answers: Any) -> dict[str, Any]:
    """A member with every required answer given (healthy, at home, insured)."""
    return {"name": name, "id_number": id_number, "relation": relation, "health": "healthy",
            "skill": "normal", "work": "none", "school": "none", "medical_insured": True,
            "pension_insured": True, "dibao": False, **answers}


MEMBERS = [
    member("王建国", HEAD_ID, "self", work="in_city", work_months=10),
    member("李秀英", SPOUSE_ID, "spouse", work="out_province", work_months=8),
    member("王小明", CHILD_ID, "child", skill="none", school="primary"),
]

BASE_2024: dict[str, Any] = {
    "head_name": "王建国", "head_id": HEAD_ID, "phone": "13800000001", "group": "3组",
    "hamlet": "王祖湾", "size": 3, "labor_count": 2, "category": "general", "monitor_type": "none",
    "members": MEMBERS,
    "food_clothing_ok": True, "housing_unsafe": False, "school_dropout": False,
    "medical_uninsured": False, "serious_illness": False, "water_unsafe": False,
    "income_wage": 36000, "income_business": 8000, "business_cost": 2000, "income_property": 500,
    "income_transfer": 1500, "public_welfare_job": 0, "conclusion": "no_risk", "visit_method": "phone",
    "visited_on": "2024-10-12", "respondent": "王建国", "respondent_relation": "self",
}


def visit_2024(**changes: Any) -> dict[str, Any]:
    """A copy of BASE_2024 with ``changes`` (members deep-copied)."""
    return {**copy.deepcopy(BASE_2024), **changes}


def with_member(index: int, **answers: Any) -> dict[str, Any]:
    """BASE_2024 with the member at ``index`` changed (a ``None`` answer removes the key)."""
    data = visit_2024()
    record = {**data["members"][index], **answers}
    data["members"][index] = {k: v for k, v in record.items() if v is not None}
    return data
