"""The phone's validator (static/js/form.js over /api/v1/form's JSON) answers
exactly as the server's (sync/form.py): same normalised values, same Chinese
messages, same flags, for one table of answers run in Chromium and Python.
The comparisons need the browser (marked ``e2e``); the check that the table
exercises the server's rules runs in the fast tier."""

from __future__ import annotations

import base64
import datetime as dt
import re
import struct
import zlib
from typing import Any

import pytest

from sync.form import FormContext, load_form

TODAY = dt.date(2023, 11, 1)
CONTEXT = FormContext(monitoring_line=7600.0, start=dt.date(2023, 10, 1), end=dt.date(2023, 12, 31), today=TODAY)
JS_CONTEXT = {"monitoring_line": 7600.0, "start": "2023-10-01", "end": "2023-12-31", "today": "2023-11-01"}


def _png(width: int, noise: int = 0) -> str:
    rows = b"".join(b"\x00" + bytes((x * 7 + y * noise) % 256 for x in range(width * 3)) for y in range(width))
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, width, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows, 0)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(raw).decode()


BASE: dict[str, Any] = {
    "head_name": "王建国", "head_id": "420281197005010021", "phone": "13800000001", "group": "3组",
    "hamlet": "王祖湾", "size": 4, "labor_count": 2, "category": "general", "monitor_type": "none",
    "risk_eliminated": None, "food_clothing_ok": True, "housing_unsafe": False, "school_dropout": False,
    "medical_uninsured": False, "serious_illness": False, "water_unsafe": False,
    "income_wage": 36000, "income_business": 8000, "business_cost": 2000, "income_property": 500,
    "income_transfer": 1500, "work_out_province": 1, "work_in_province": 0, "work_in_city": 1,
    "public_welfare_job": 0, "conclusion": "no_risk", "visit_method": "phone", "visited_on": "2023-10-12",
    "respondent": "王建国", "respondent_relation": "self",
}

MUTATIONS: list[dict[str, Any]] = [
    {},
    {"head_name": "王"}, {"head_name": "王 建 国"}, {"head_name": "Wang1"}, {"head_name": "阿卜杜•热合曼"},
    {"head_name": None}, {"head_name": 5}, {"head_name": "劉德華"},
    {"head_id": "420281197005010022"}, {"head_id": "42028119700501002"}, {"head_id": "4202811970050100xx"},
    {"head_id": "420281202512010023"}, {"head_id": "420281197002300021"}, {"head_id": "4.20281E+17"},
    {"head_id": 420281197005010021}, {"head_id": "４２０２８１１９７００５０１００２１"},
    {"head_id": "420281 19700501 0021"},
    {"phone": "0714-1234567"}, {"phone": "07141234567"}, {"phone": "+86 138 0000 0001"}, {"phone": "12345"},
    {"group": "三组"}, {"group": "第十二村民小组"}, {"group": 3}, {"group": "新村组"}, {"group": ""},
    {"size": 0}, {"size": 21}, {"size": 2.5}, {"size": "4"}, {"size": True}, {"labor_count": 5},
    {"category": "poor"}, {"monitor_type": "marginal"}, {"monitor_type": "unstable"},
    {"monitor_type": "hardship"}, {"monitor_type": "hardship", "risk_eliminated": False},
    {"risk_eliminated": True},
    {"food_clothing_ok": False}, {"food_clothing_ok": False, "risk_types": ["other"]},
    {"food_clothing_ok": False, "risk_types": ["other"], "risk_note": "说明"},
    {"housing_unsafe": True}, {"housing_unsafe": True, "housing_grade": "C", "risk_types": ["housing"], "risk_note": "危房"},
    {"housing_grade": "D"}, {"school_dropout": True, "dropout_count": 0},
    {"medical_uninsured": True, "risk_types": ["schooling"], "risk_note": "x"},
    {"water_unsafe": True, "water_issues": ["quality", "quality"], "risk_types": ["water"], "risk_note": "水"},
    {"water_unsafe": "yes"}, {"serious_illness": True}, {"serious_illness": True, "out_of_pocket": 99999},
    {"income_wage": -1}, {"income_wage": 1.234}, {"income_wage": 1.23}, {"income_wage": "abc"},
    {"income_wage": 0, "income_business": 0, "income_property": 0, "income_transfer": 0},
    {"income_wage": 3000, "income_business": 0, "income_transfer": 0, "insurance_payout": 1000.5},
    {"microcredit_balance": 50001}, {"work_out_province": 3, "work_in_city": 2},
    {"risk_types": ["illness", "schooling", "disability", "disaster", "accident", "other"]},
    {"risk_types": ["nope"]}, {"risk_types": "illness"}, {"risk_note": "多行\n说明"},
    {"conclusion": "continue_monitor"}, {"conclusion": "suggest_eliminate", "monitor_type": "hardship", "risk_eliminated": True},
    {"conclusion": "suggest_monitor", "food_clothing_ok": False, "risk_types": ["illness"], "risk_note": "病"},
    {"visit_method": "in_person"}, {"visit_method": "in_person", "signature": _png(8)},
    {"visit_method": "in_person", "signature": "data:image/png;base64,!!!"},
    {"visit_method": "in_person", "signature": "data:image/jpeg;base64,AAAA"},
    {"visit_method": "in_person", "signature": _png(270, noise=13)},
    {"visited_on": "2023-09-29"}, {"visited_on": "2023-09-30"}, {"visited_on": "2023-02-30"},
    {"visited_on": "2023-11-03"}, {"visited_on": "12/10/2023"}, {"respondent": ""},
    {"respondent": "a" * 21}, {"remarks": "备注\t\x01"}, {"unknown_key": 1},
    {"remarks": "已核实\u202e不属实"}, {"hamlet": "王\u200b祖湾"}, {"group": "3\u2066组"},
    {"respondent": "王\u200d建国"}, {"remarks": "全家福👨\u200d👩\u200d👧"}, {"income_wage": 1e308},
    {"income_wage": -2e306},
    {"respondent_relation": None, "conclusion": None, "visit_method": None},
]

JS_VALIDATE = """async ([form, table, context]) => {
  const m = await import('/static/js/form.js');
  const f = new m.Form(form);
  return table.map((data) => f.validate(data, context));
}"""


@pytest.mark.e2e
def test_phone_and_server_validate_alike(module_page: Any) -> None:
    form = load_form("2023.1")
    table = [{**BASE, **mutation} for mutation in MUTATIONS]
    js = module_page.evaluate(JS_VALIDATE, [form.to_json(), table, JS_CONTEXT])
    checked_errors = 0
    for data, phone in zip(table, js, strict=True):
        server = form.validate(data, CONTEXT)
        assert phone["errors"] == server.errors, data
        assert phone["flags"] == server.flags, data
        assert {k: v for k, v in phone["values"].items()} == server.values, data
        checked_errors += len(server.errors)
    assert checked_errors >= 50  # the table really exercises the messages


@pytest.mark.e2e
def test_phone_reads_html_strings_as_the_server_does(module_page: Any) -> None:
    form = load_form("2023.1")
    inputs = [
        {"size": "4", "income_wage": "36,000", "food_clothing_ok": "true", "water_issues": ["quality", ""],
         "visited_on": "2023-10-12", "head_name": " 王建国 "},
        {"size": "4.0", "income_wage": "1e3", "food_clothing_ok": "否", "water_issues": [], "income_business": "12a"},
        {"size": "", "income_wage": "  ", "food_clothing_ok": "maybe", "labor_count": "-1"},
    ]
    js = module_page.evaluate("""async ([form, inputs]) => {
      const m = await import('/static/js/form.js');
      const f = new m.Form(form);
      return inputs.map((i) => f.coerceStrings(i));
    }""", [form.to_json(), inputs])
    for raw, phone in zip(inputs, js, strict=True):
        assert phone == form.coerce_strings(raw)


def test_the_table_exercises_the_servers_rules() -> None:
    """Guard against a table that would pass trivially: the server finds many errors,
    of most kinds of message, and the base answers are valid."""
    form = load_form("2023.1")
    assert form.validate(BASE, CONTEXT).ok
    results = [form.validate({**BASE, **mutation}, CONTEXT) for mutation in MUTATIONS]
    messages = [m for r in results for field_messages in r.errors.values() for m in field_messages]
    assert len(messages) >= 50
    kinds = {key for key, template in form.messages.items()
             if any(_matches(template, message) for message in messages)}
    assert len(kinds) >= 18, sorted(kinds)
    assert any(r.flags["below_monitoring_line"] for r in results)
    assert any(not r.flags["below_monitoring_line"] for r in results)


def _matches(template: str, message: str) -> bool:
    """Whether ``message`` was made from ``template`` (its literal parts, in order)."""
    position = 0
    for part in re.split(r"\{[a-z_]+\}", template):
        found = message.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


# -- form 2024.1: the members repeat ------------------------------------------

def _members_table() -> list[dict[str, Any]]:
    """2024.1 answers that exercise the repeat: each record's fields, the
    removed members, the household figures checked against the members."""
    from tests.members_data import BABY_ID, CHILD_ID, member, visit_2024, with_member
    removed = with_member(2, change="removed", change_reason="moved_out")
    born = visit_2024(size=4)
    born["members"].append(member("王小宝", BABY_ID, "child", skill="none", school="preschool",
                                  change="added", change_reason="born"))
    duplicate = visit_2024()
    duplicate["members"][2]["id_number"] = duplicate["members"][1]["id_number"]
    return [
        visit_2024(), visit_2024(size=4), visit_2024(labor_count=3), removed, {**removed, "size": 2}, born,
        duplicate, with_member(0, relation="spouse"), with_member(1, medical_insured=False),
        {**with_member(1, medical_insured=False), "medical_uninsured": True, "risk_types": ["illness"], "risk_note": "x"},
        with_member(0, health="chronic"), with_member(0, health="disabled"),
        with_member(0, health="disabled", disability_type="physical", disability_grade="2"),
        with_member(0, disability_type="physical"), with_member(1, work_months=None), with_member(1, work_months=13),
        with_member(2, work_months=3), with_member(2, school="none"),
        {**with_member(2, school="none"), "school_dropout": True, "risk_types": ["schooling"], "risk_note": "辍学"},
        with_member(2, id_number=CHILD_ID[:-1] + "0"), with_member(2, id_number="4202812014"),
        with_member(2, id_number=420281201409010132), with_member(2, name="王"), with_member(2, name=None),
        with_member(2, change="removed"), with_member(2, change="removed", change_reason="born"),
        with_member(2, change="edited", change_reason="other"), with_member(2, change="edited", change_reason="died"),
        with_member(2, relation="cousin"), with_member(2, shoe_size=42), with_member(2, medical_insured="是"),
        visit_2024(members="x"), visit_2024(members=[1]), visit_2024(members=[]), visit_2024(members=None),
        visit_2024(members=[member("王某某", CHILD_ID, "child")] * 21),
        visit_2024(work_in_city=5), visit_2024(dropout_count=2),
        {**with_member(2, change="removed", change_reason="died"), "size": 2, "labor_count": 2},
    ]


@pytest.mark.e2e
def test_phone_and_server_validate_members_alike(module_page: Any) -> None:
    from tests.members_data import CONTEXT_2024, JS_CONTEXT_2024
    form = load_form("2024.1")
    table = _members_table()
    js = module_page.evaluate(JS_VALIDATE, [form.to_json(), table, JS_CONTEXT_2024])
    for data, phone in zip(table, js, strict=True):
        server = form.validate(data, CONTEXT_2024)
        assert phone["errors"] == server.errors, data
        assert phone["flags"] == server.flags, data
        assert phone["values"] == server.values, data


def test_the_members_table_exercises_the_repeat() -> None:
    from tests.members_data import CONTEXT_2024
    form = load_form("2024.1")
    results = [form.validate(data, CONTEXT_2024) for data in _members_table()]
    assert results[0].ok and results[4].ok and results[5].ok
    keys = {key for r in results for key in r.errors}
    assert {"size", "labor_count", "members", "medical_uninsured", "serious_illness", "school_dropout"} <= keys
    assert sum(1 for key in keys if key.startswith("members.")) >= 10
