"""Pull: scope, paging with ``more``, deltas after a cursor, removed households, returned visits."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from fieldapp.db import changes
from fieldapp.extensions import db
from fieldapp.models import Household, Visit
from tests import factories
from tests.api.conftest import record, reload

pytestmark = pytest.mark.both_backends


def ids(pages) -> list[str]:
    return [h["id"] for page in pages for h in page["households"]]


def test_full_pull_returns_the_scope_only(api, town) -> None:
    token = api.login("worker_a")
    response = api.pull(token)
    assert response.status_code == 200
    body = response.get_json()
    assert body["more"] is False and body["removed"] == [] and body["visits"] == []
    assert sorted(h["id"] for h in body["households"]) == sorted(h.id for h in town.households_a)
    first = next(h for h in body["households"] if h["id"] == town.households_a[0].id)
    household = town.households_a[0]
    assert first["village"] == "沼山村" and first["head_name"] == "王建国"
    assert (first["head_pinyin"], first["head_initials"]) == ("wang jian guo", "wjg")
    assert first["head_id"] == household.head_id and first["rev"] == 1 and first["source"] == "roster"
    assert first["visited"] is False
    assert first["attributes"] == {
        "head_name": "王建国", "head_id": household.head_id, "phone": household.phone, "group": "3组",
        "hamlet": "王祖湾", "size": 4, "labor_count": 2, "category": "general", "monitor_type": "none",
        "risk_eliminated": None}
    admin = api.pull(api.login("admin")).get_json()
    assert len(admin["households"]) == 5


def test_paging_follows_more_and_never_repeats(api, town) -> None:
    for n in range(7):
        factories.make_household(town.village_a, f"赵{'一二三四五六七'[n]}")
    db.session.commit()
    token = api.login("worker_a")
    pages, cursor = api.pull_all(token, limit=3)
    assert [len(p["households"]) for p in pages] == [3, 3, 3, 1]
    assert [p["more"] for p in pages] == [True, True, True, False]
    assert len(ids(pages)) == len(set(ids(pages))) == 10
    again, _ = api.pull_all(token, since=cursor)
    assert ids(again) == []


def test_deltas_after_a_cursor(api, town) -> None:
    token = api.login("worker_a")
    _, cursor = api.pull_all(token)
    household = town.households_a[1]
    rec = record(household, phone="13911110001")
    api.push_ok(token, [rec])
    pages, cursor_2 = api.pull_all(token, since=cursor)
    changed = [h for page in pages for h in page["households"]]
    assert [h["id"] for h in changed] == [household.id]
    assert changed[0]["phone"] == "13911110001" and changed[0]["rev"] == 2 and changed[0]["visited"] is True
    assert [v["uuid"] for page in pages for v in page["visits"]] == [rec["uuid"]]
    assert int(cursor_2) > int(cursor)
    # another worker's change elsewhere is not in this worker's delta
    api.push_ok(api.login("worker_b"), [record(town.households_b[0], phone="13911110002")])
    pages, _ = api.pull_all(token, since=cursor_2)
    assert ids(pages) == [] and pages[0]["visits"] == []


def test_merged_households_are_removed(api, town) -> None:
    token = api.login("worker_a")
    _, cursor = api.pull_all(token)
    gone, survivor = town.households_a[2], town.households_a[0]
    row = reload(Household, gone.id)
    row.merged_into_id = survivor.id
    row.change_seq = changes.next_change(db.session)
    db.session.commit()
    pages, _ = api.pull_all(token, since=cursor)
    assert [r for page in pages for r in page["removed"]] == [gone.id]
    assert ids(pages) == []
    full, _ = api.pull_all(token)
    assert gone.id not in ids(full) and full[0]["removed"] == []


def test_returned_visit_comes_back_with_its_comment(api, town) -> None:
    token = api.login("worker_a")
    household = town.households_a[0]
    rec = record(household)
    api.push_ok(token, [rec])
    _, cursor = api.pull_all(token)
    visit = reload(Visit, rec["uuid"])
    visit.review_status, visit.review_comment = "returned", "请补充签字"
    visit.change_seq = changes.next_change(db.session)
    h = db.session.get(Household, household.id)
    h.change_seq = changes.next_change(db.session)
    db.session.commit()
    pages, _ = api.pull_all(token, since=cursor)
    assert pages[0]["visits"] == [{"uuid": rec["uuid"], "status": "returned", "review_comment": "请补充签字",
                                   "household_id": household.id, "return_kind": "correct",
                                   "data": reload(Visit, rec["uuid"]).data}]
    assert [h["visited"] for h in pages[0]["households"]] == [False]


def test_visits_are_only_the_workers_own(api, town) -> None:
    api.push_ok(api.login("supervisor_a"), [record(town.households_a[0])])
    body = api.pull(api.login("worker_a")).get_json()
    assert body["visits"] == []
    assert any(h["visited"] for h in body["households"])


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "999999", "0x10", "1" * 30])
def test_bad_cursor(api, town, since) -> None:
    response = api.pull(api.login("worker_a"), since=since)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_cursor"


@pytest.mark.parametrize("limit", ["0", "2001", "x", "-5"])
def test_bad_limit(api, town, limit) -> None:
    response = api.client.get("/api/v1/sync/pull", query_string={"limit": limit},
                              headers=api.headers(api.login("worker_a")))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_request"


def test_full_pull_of_500_households_is_quick_and_constant_in_queries(api, town, app) -> None:
    for n in range(500):
        factories.make_household(town.village_a, "周" + "一二三四五六七八九十"[n % 10] + "明")
    db.session.commit()
    token = api.login("worker_a")
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        response = api.pull(token, limit=600)
        elapsed = time.perf_counter() - started
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200 and len(response.get_json()["households"]) == 503
    assert len(statements) <= 12, statements  # no query per household
    assert elapsed < 2.0  # generous here; bench/sync_push.py measures it properly


def test_changes_committed_while_a_pull_reads_are_never_skipped(api, town) -> None:
    """Other transactions commit between the pull's counter read and its visit query
    (PostgreSQL's READ COMMITTED lets that statement see them): a household change,
    then two visit status changes numbered after it. A page holding those visits
    would hand out a cursor past the household; the pull reads only up to the
    counter, so following the cursors brings every change."""
    token = api.login("worker_a")
    pushed = [record(h) for h in town.households_a[:2]]
    api.push_ok(token, pushed)
    _, cursor = api.pull_all(token)
    moved = town.households_a[2]
    other = sa.create_engine(db.engine.url)
    fired: list[bool] = []

    def commit_meanwhile(conn, dbapi_cursor, statement, *args) -> None:
        if fired or not statement.lstrip().startswith("SELECT visits.change_seq"):
            return
        fired.append(True)
        with other.begin() as writer:
            seq = changes.next_change(writer, 1)
            writer.execute(sa.update(Household).where(Household.id == moved.id)
                           .values(phone="13900001111", rev=Household.rev + 1, change_seq=seq))
        with other.begin() as writer:
            seq = changes.next_change(writer, 2)
            for offset, rec in enumerate(pushed):
                writer.execute(sa.update(Visit).where(Visit.uuid == rec["uuid"])
                               .values(review_status="approved", change_seq=seq + offset))

    sa.event.listen(db.engine, "before_cursor_execute", commit_meanwhile)
    try:
        first = api.pull(token, cursor, limit=1).get_json()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", commit_meanwhile)
        other.dispose()
    assert fired
    pages, _ = api.pull_all(token, first["cursor"], limit=1)
    pages = [first, *pages]
    assert [h["phone"] for page in pages for h in page["households"] if h["id"] == moved.id] == ["13900001111"]
    statuses = {v["uuid"]: v["status"] for page in pages for v in page["visits"]}
    assert statuses == {rec["uuid"]: "approved" for rec in pushed}


def test_a_village_taken_away_is_removed_and_one_given_back_returns(api, town) -> None:
    from fieldapp.admin.services import assign_villages

    token = api.login("worker_a")
    _, cursor = api.pull_all(token)
    village_a = {h.id for h in town.households_a}

    assign_villages(town.admin, town.worker_a.id, [town.village_b.id])
    pages, cursor = api.pull_all(token, cursor, limit=1)
    assert {i for page in pages for i in page["removed"]} == village_a
    assert set(ids(pages)) == {h.id for h in town.households_b}
    pages, cursor = api.pull_all(token, cursor)
    assert ids(pages) == [] and pages[0]["removed"] == []

    assign_villages(town.admin, town.worker_a.id, [town.village_a.id, town.village_b.id])
    pages, cursor = api.pull_all(token, cursor)
    assert set(ids(pages)) == village_a and pages[0]["removed"] == []


def test_a_role_that_widens_the_scope_brings_the_new_villages(api, town) -> None:
    from fieldapp.admin.services import update_user

    token = api.login("supervisor_a")
    _, cursor = api.pull_all(token)
    update_user(town.admin, town.supervisor_a.id, "审核员", "admin", True)
    pages, _ = api.pull_all(token, cursor)
    assert set(ids(pages)) == {h.id for h in town.households_b} and pages[0]["removed"] == []
