"""Households typed in on the phone (issues 16 and 17): their pinyin read as the server
reads names, the duplicate check at the doorstep, and the form's helpers for a first
visit (the default date, the choices offered, flags that wait for their inputs)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from fieldapp.demo.names import FEMALE_FIRST, FEMALE_SECOND, MALE_FIRST, MALE_SECOND, SURNAMES
from sync.form import load_form
from sync.normalize import name_pinyin, name_pinyin_table

pytestmark = pytest.mark.e2e

TABLE = name_pinyin_table()


def _names() -> list[str]:
    rng = random.Random(16)
    names = ["曾伟", "单雄信", "解放", "长春", "张长忠", "尉迟恭", "欧阳修", "阿依古丽·买买提", "Ahmad", "乐乐", "柯美兰"]
    for _ in range(300):
        given = rng.choice([MALE_FIRST, FEMALE_FIRST]) + rng.choice([MALE_SECOND, FEMALE_SECOND])
        names.append(rng.choice(list(SURNAMES)) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2)))))
    return names


def test_a_typed_name_is_read_as_the_server_reads_it(module_page: Any) -> None:
    names = _names()
    read = module_page.evaluate("""async ([names, table]) => {
      const m = await import('/static/js/normalize.js');
      return names.map((n) => { const r = m.namePinyin(n, table); return [r.full, r.initials]; });
    }""", [names, TABLE])
    assert read == [list(name_pinyin(n)) for n in names]


def _household(hid: str, name: str, head_id: str, group: str = "3组", village: str = "沼山村") -> dict[str, Any]:
    full, initials = name_pinyin(name)
    return {"id": hid, "head_name": name, "head_pinyin": full, "head_initials": initials, "head_id": head_id,
            "group": group, "village": village}


POOL = [
    _household("1", "杨绍华", "420281197005010021", "1组"),
    _household("2", "刘伟", "42028119700501003X"),
    _household("3", "王建国", "420281197005010048"),
    _household("4", "王建军", "420281197005010056", "5组"),
    _household("5", "刘伟", "420281197005010064", village="磨山村"),
    _household("6", "陈秀英", "420281197005010073"),  # a wrong check character (a roster typo)
]


@pytest.mark.parametrize(("entry", "expected"), [
    ({"head_id": "420281197005010021", "head_name": "杨少华"}, [("1", "此身份证号已在花名册")]),
    ({"head_id": " 42028119700501003x ", "head_name": ""}, [("2", "此身份证号已在花名册")]),
    ({"head_id": "420281197005010072", "head_name": "陈秀"}, [("6", "身份证号只差一位")]),
    ({"head_id": "420281197005100073", "head_name": "陈秀"}, [("6", "身份证号只差一位")]),
    ({"head_name": "刘玮", "group": "2组"}, [("2", "同音姓名已在花名册")]),
    ({"head_name": "劉偉"}, [("2", "同名农户已在花名册")]),
    ({"head_name": "王建刚", "group": "三组"}, [("3", "同组有姓名首字母相同的农户")]),
    ({"head_name": "王健国", "group": "1组"}, [("3", "同音姓名已在花名册")]),
    ({"head_name": "李四海", "head_id": "420281198001010016"}, []),
    ({"head_name": "柯美兰"}, []),
])
def test_the_doorstep_finds_the_likely_households(module_page: Any, entry: dict[str, Any],
                                                  expected: list[tuple[str, str]]) -> None:
    found = module_page.evaluate("""async ([entry, pool, table]) => {
      const m = await import('/static/js/doorstep.js');
      return m.likelyMatches(entry, pool, table).map((x) => [x.household.id, x.reason]);
    }""", [{"village": "沼山村", "group": "3组", **entry}, POOL, TABLE])
    assert [tuple(x) for x in found] == expected


def test_the_visit_date_is_today_inside_the_campaign_else_its_last_day(module_page: Any) -> None:
    days = module_page.evaluate("""async () => {
      const m = await import('/static/js/form.js');
      return [m.defaultVisitDate('2023-10-12', '2023-10-01', '2023-11-30'),
              m.defaultVisitDate('2026-12-06', '2023-10-01', '2023-11-30'),
              m.defaultVisitDate('2023-09-20', '2023-10-01', '2023-11-30'),
              m.defaultVisitDate('2023-10-12', null, null)];
    }""")
    assert days == ["2023-10-12", "2023-11-30", "2023-09-20", "2023-10-12"]


def _form_call(module_page: Any, body: str, values: dict[str, Any]) -> Any:
    return module_page.evaluate(f"""async ([json, values]) => {{
      const m = await import('/static/js/form.js');
      const form = new m.Form(json);
      const settings = {{monitoring_line: 7600}};
      {body}
    }}""", [load_form("2023.1").to_json(), values])


@pytest.mark.parametrize(("values", "offered"), [
    ({"monitor_type": "none"}, ["no_risk", "suggest_monitor"]),
    ({"monitor_type": "marginal", "risk_eliminated": False},
     ["no_risk", "suggest_monitor", "continue_monitor", "suggest_eliminate"]),
    ({"monitor_type": "marginal", "risk_eliminated": True}, ["no_risk", "suggest_monitor", "continue_monitor"]),
])
def test_only_the_conclusions_that_can_hold_are_offered(module_page: Any, values: dict[str, Any],
                                                        offered: list[str]) -> None:
    codes = _form_call(module_page, """
      const f = form.byId.conclusion;
      return f.choices.filter((c) => form.choiceAllowed(c, values, settings)).map((c) => c.code);""", values)
    assert codes == offered


def test_a_flag_waits_for_the_answers_it_reads(module_page: Any) -> None:
    household = {"size": 4, "labor_count": 2, "monitor_type": "none", "category": "general",
                 "head_name": "王建国", "group": "3组", "head_id": "420281197005010021"}
    incomes = {"income_wage": 1000, "income_business": 0, "business_cost": 0, "income_property": 0,
               "income_transfer": 500}
    body = """
      const result = form.validate(values, settings);
      return form.flagRules.filter((f) => result.flags[f.id] && form.flagReady(f, result.values, settings))
        .map((f) => f.id);"""
    assert _form_call(module_page, body, household) == []
    assert _form_call(module_page, body, {**household, **incomes}) == ["below_monitoring_line", "below_10k"]
    inputs = _form_call(module_page, "return form.flagInputs.below_monitoring_line.sort();", {})
    assert inputs == sorted(["income_wage", "income_business", "income_property", "income_transfer",
                             "business_cost", "insurance_payout", "out_of_pocket", "size"])
