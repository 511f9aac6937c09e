"""Small app modules in Chromium: backoff, search and ordering, ID masking."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def test_backoff_is_exponential_with_full_jitter_from_5_s_to_10_min(module_page: Any) -> None:
    result = module_page.evaluate("""async () => {
      const m = await import('/static/js/backoff.js');
      const top = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12].map((n) => m.backoffDelay(n, () => 1));
      const bottom = [1, 5, 12].map((n) => m.backoffDelay(n, () => 0));
      const spread = Array.from({length: 200}, () => m.backoffDelay(3));
      return {top, bottom, min: Math.min(...spread), max: Math.max(...spread)};
    }""")
    assert result["top"] == [5000, 10000, 20000, 40000, 80000, 160000, 320000, 600000, 600000, 600000]
    assert result["bottom"] == [0, 0, 0]
    assert 0 <= result["min"] < 5000 < 15000 < result["max"] <= 20000


HOUSEHOLDS = [
    {"id": "1", "head_name": "王建国", "head_pinyin": "wang jian guo", "head_initials": "wjg", "code": "H000101",
     "head_id": "420281197005010021", "village": "沼山村", "group": "3组", "monitor_type": "none", "category": "general"},
    {"id": "2", "head_name": "王建军", "head_pinyin": "wang jian jun", "head_initials": "wjj", "code": "H000102",
     "head_id": "42028119700501003X", "village": "沼山村", "group": "3组", "monitor_type": "none", "category": "lifted"},
    {"id": "3", "head_name": "刘伟", "head_pinyin": "liu wei", "head_initials": "lw", "code": "H000103",
     "head_id": "420281197005010048", "village": "沼山村", "group": "3组", "monitor_type": "marginal", "category": "general"},
    {"id": "4", "head_name": "陈秀英", "head_pinyin": "chen xiu ying", "head_initials": "cxy", "code": "H000104",
     "head_id": "420281197005010056", "village": "沼山村", "group": "12组", "monitor_type": "none", "category": "general"},
    {"id": "5", "head_name": "柯友明", "head_pinyin": "ke you ming", "head_initials": "kym", "code": "H000105",
     "head_id": "420281197005010064", "village": "磨山村", "group": "1组", "monitor_type": "none", "category": "general"},
]


@pytest.mark.parametrize(("query", "expected"), [
    ("wjg", ["1"]), ("wj", ["1", "2"]), ("wangjianguo", ["1"]), ("wang jian", ["1", "2"]),
    ("王建", ["1", "2"]), ("003x", ["2"]), ("003X", ["2"]), ("0048", ["3"]), ("h000104", ["4"]),
    ("104", ["4"]), ("liuw", ["3"]), ("", ["1", "2", "3", "4", "5"]), ("zzz", []),
])
def test_search_finds_by_name_pinyin_initials_code_and_last_four_id_digits(
    module_page: Any, query: str, expected: list[str],
) -> None:
    found = module_page.evaluate("""async ([households, query]) => {
      const m = await import('/static/js/search.js');
      return households.filter((h) => m.matches(h, query)).map((h) => h.id);
    }""", [HOUSEHOLDS, query])
    assert sorted(found) == expected


def test_order_is_village_group_then_monitored_and_lifted_first(module_page: Any) -> None:
    order = module_page.evaluate("""async (households) => {
      const m = await import('/static/js/search.js');
      return [...households].reverse().sort(m.compareHouseholds).map((h) => h.id);
    }""", HOUSEHOLDS)
    assert order == ["5", "3", "2", "1", "4"]


def test_masking_matches_the_server(module_page: Any) -> None:
    from sync.idnumber import mask_id, mask_phone

    values = ["420281197005010021", "42028119700501003X", "12345", "", "13800000001", "0714-1234567"]
    js = module_page.evaluate("""async (values) => {
      const m = await import('/static/js/idnumber.js');
      return values.map((v) => [m.maskId(v), m.maskPhone(v)]);
    }""", values)
    assert js == [[mask_id(v), mask_phone(v)] for v in values]


def test_outbox_keeps_an_edit_made_while_its_record_was_being_acknowledged(module_page: Any) -> None:
    result = module_page.evaluate("""async () => {
      const db = await import('/static/js/db.js');
      const outbox = await import('/static/js/outbox.js');
      const sync = await import('/static/js/sync.js');
      await db.write(['outbox', 'visits', 'drafts'], (tx) => ['outbox', 'visits', 'drafts'].forEach((s) => tx.objectStore(s).clear()));
      const meta = {campaignId: '2023-jzpc', formVersion: '2023.1'};
      const draft = {uuid: outbox.newUuid(), owner: 'w', household_key: 'h1', household_id: 'h1', started_at: outbox.isoNow()};
      const first = await outbox.saveVisit(draft, {income_wage: 1}, meta);
      // The worker edits it again while the batch holding the first version is in flight.
      await outbox.saveVisit({...draft, from_outbox: true}, {income_wage: 2}, meta);
      await sync.applyResults([first], {results: [{uuid: first.uuid, status: 'accepted', household_id: 'h1'}]}, 'w');
      const left = await db.getAll('outbox');
      const acknowledged = await db.getAll('visits');
      // Editing a record that is no longer in the outbox stores a new visit.
      const late = await outbox.saveVisit({...draft, uuid: acknowledged[0].uuid, from_outbox: true}, {income_wage: 3}, meta);
      return {left: left.map((r) => [r.uuid === first.uuid, r.data.income_wage]),
              acknowledged: acknowledged.map((v) => [v.uuid === first.uuid, v.data.income_wage, v.sync_status]),
              lateIsNew: late.uuid !== first.uuid};
    }""")
    assert result["left"] == [[False, 2]]
    assert result["acknowledged"] == [[True, 1, "accepted"]]
    assert result["lateIsNew"] is True


def test_the_visit_form_loads_without_booting_the_app(module_page: Any) -> None:
    """A screen gets the app's helpers from ``show()``'s context: importing it never loads
    the entry module, which would boot a second app on import."""
    loaded = module_page.evaluate("""async () => {
      const m = await import('/static/js/ui/visit-form.js');
      const scripts = performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname);
      return {show: typeof m.show, booted: 'fieldapp' in window, scripts};
    }""")
    assert loaded["show"] == "function"
    assert "/static/js/ui/visit-form.js" in loaded["scripts"]
    assert "/static/js/app.js" not in loaded["scripts"]
    assert loaded["booted"] is False
