"""Sync batches: the list with counts, the batch page by labels, approve and return (one and bulk)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fieldapp import sync_service
from fieldapp.extensions import db
from fieldapp.models import AuditLog, Household, Visit
from sync.idnumber import mask_id
from tests.review.conftest import post_form, reload, token_of

pytestmark = pytest.mark.both_backends


def test_batch_list_shows_counts_in_scope_only(client, auth, scene) -> None:
    auth.login("supervisor_a")
    html = client.get("/review/batches").get_data(as_text=True)
    assert "/review/batches/batch-a" in html
    assert "/review/batches/batch-b" not in html
    # the counts of batch-a: 2 accepted, 1 conflict, 1 duplicate, 0 already received, 1 rejected
    row = html[html.index("count-accepted"):]
    assert [row.split("count-" + k, 1)[1].split(">", 1)[1].split("<", 1)[0] for k in
            ("accepted", "conflict", "duplicate_suspected", "already_received", "rejected")] == \
        ["2", "1", "1", "0", "1"]


def test_batch_counts_fall_back_to_results(client, auth, scene) -> None:
    scene.batch_a.counts = {}
    db.session.commit()
    auth.login("supervisor_a")
    html = client.get("/review/batches/batch-a").get_data(as_text=True)
    assert '<li class="count-rejected"><span>被拒绝</span> <strong>1</strong></li>' in html


@pytest.mark.parametrize(("query", "expected"), [
    ("status=conflict", True), ("status=approved", False), ("status=rejected", True),
    ("status=already_received", False),
    ("status=pending", True), ("date=2000-01-01", False), ("worker={worker_b}", False),
    ("worker={worker_a}", True), ("village={village_a}", True),
])
def test_batch_list_filters(client, auth, scene, query, expected) -> None:
    t = scene.town
    auth.login("admin")
    url = "/review/batches?" + query.format(worker_a=t.worker_a.id, worker_b=t.worker_b.id,
                                            village_a=t.village_a.id)
    assert ("/review/batches/batch-a" in client.get(url).get_data(as_text=True)) is expected


def test_batch_page_shows_answers_by_label_and_flags(client, auth, scene) -> None:
    auth.login("supervisor_a")
    html = client.get("/review/batches/batch-a").get_data(as_text=True)
    assert "户类型" in html and "一般农户" in html and "非监测对象" in html
    assert "不愁吃、不愁穿" in html and "<dd>是</dd>" in html and "<dd>否</dd>" in html
    assert "<dd>general</dd>" not in html and "<dd>True</dd>" not in html
    assert "低于监测范围" in html  # the low-income visit
    h1 = scene.town.households_a[0]
    assert h1.head_id not in html and mask_id(h1.head_id) in html
    assert h1.phone not in html


def test_bulk_approve(client, auth, scene) -> None:
    auth.login("supervisor_a")
    uuids = [v.uuid for v in scene.visits_a]
    before = {v.uuid: v.change_seq for v in scene.visits_a}
    response = post_form(client, "/review/batches/batch-a", {"uuids": uuids, "action": "approve",
                                                             "comment": "核实无误"})
    assert response.status_code == 302
    for uuid in uuids:
        visit = reload(Visit, uuid)
        assert visit.review_status == "approved"
        assert visit.review_comment == "核实无误"
        assert visit.reviewed_by_id == scene.town.supervisor_a.id
        assert visit.change_seq > before[uuid]
    entries = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "visit_approve")).all()
    assert sorted(e.object_id for e in entries) == sorted(uuids)
    assert all(e.before["review_status"] == "pending" and e.after["review_status"] == "approved"
               for e in entries)
    assert "已通过 2 条走访记录" in client.get("/review/batches/batch-a").get_data(as_text=True)


def test_bulk_approve_skips_visits_with_open_conflicts(client, auth, scene) -> None:
    auth.login("supervisor_a")
    uuids = [scene.visits_a[0].uuid, scene.conflict_visit.uuid, scene.duplicate_visit.uuid]
    post_form(client, "/review/batches/batch-a", {"uuids": uuids, "action": "approve"})
    html = client.get("/review/batches/batch-a").get_data(as_text=True)
    assert "1 条未处理：有未解决的冲突" in html
    assert "1 条未处理：疑似重复户，待合并或排除" in html
    assert reload(Visit, uuids[0]).review_status == "approved"
    assert reload(Visit, uuids[1]).review_status == "pending"
    assert reload(Visit, uuids[2]).review_status == "pending"


def test_return_one_visit_reaches_the_worker_through_pull(client, auth, scene) -> None:
    visit = scene.visits_a[0]
    worker = scene.town.worker_a
    cursor = sync_service.pull(worker, None)["cursor"]
    household_seq = visit.household.change_seq
    auth.login("supervisor_a")
    response = post_form(client, f"/review/visits/{visit.uuid}",
                         {"action": "return", "comment": "收入填写有误，请核实"})
    assert response.status_code == 302
    stored = reload(Visit, visit.uuid)
    assert stored.review_status == "returned" and stored.review_comment == "收入填写有误，请核实"
    assert reload(Household, visit.household_id).change_seq > household_seq
    pulled = sync_service.pull(reload(type(worker), worker.id), cursor)
    assert {"uuid": visit.uuid, "status": "returned", "review_comment": "收入填写有误，请核实",
            "household_id": visit.household_id, "return_kind": "correct", "data": stored.data} in pulled["visits"]
    assert [h["visited"] for h in pulled["households"] if h["id"] == visit.household_id] == [False]


def test_return_needs_a_comment(client, auth, scene) -> None:
    visit = scene.visits_a[0]
    auth.login("supervisor_a")
    response = post_form(client, f"/review/visits/{visit.uuid}", {"action": "return", "comment": " "})
    assert response.status_code == 422
    assert "退回时请填写退回意见" in response.get_data(as_text=True)
    assert reload(Visit, visit.uuid).review_status == "pending"


def test_approved_visit_is_pulled_with_its_status(client, auth, scene) -> None:
    visit = scene.visits_a[1]
    worker = scene.town.worker_a
    cursor = sync_service.pull(worker, None)["cursor"]
    auth.login("supervisor_a")
    post_form(client, f"/review/visits/{visit.uuid}", {"action": "approve", "comment": ""})
    pulled = sync_service.pull(reload(type(worker), worker.id), cursor)
    assert [v["status"] for v in pulled["visits"] if v["uuid"] == visit.uuid] == ["approved"]


def test_visit_page_single_approve_and_audit_shows_it(client, auth, scene) -> None:
    visit = scene.visits_a[0]
    auth.login("supervisor_a")
    post_form(client, f"/review/visits/{visit.uuid}", {"action": "approve"})
    assert reload(Visit, visit.uuid).review_status == "approved"
    auth.logout()
    auth.login("admin")
    html = client.get("/review/audit?action=visit_approve").get_data(as_text=True)
    assert visit.uuid in html and "审核通过" in html and "supervisor_a" in html


def test_bulk_post_cannot_reach_another_village(client, auth, scene) -> None:
    auth.login("supervisor_a")
    token = token_of(client, "/review/batches/batch-a")
    response = client.post("/review/batches/batch-a", data={
        "csrf_token": token, "action": "approve",
        "uuids": [scene.visits_a[0].uuid, scene.visit_b.uuid]})
    assert response.status_code == 404
    assert reload(Visit, scene.visits_a[0].uuid).review_status == "pending"
    assert reload(Visit, scene.visit_b.uuid).review_status == "pending"


def test_home_counts_what_waits_in_scope(client, auth, scene) -> None:
    auth.login("supervisor_a")
    html = client.get("/review/").get_data(as_text=True)
    numbers = [part.split("</span>", 1)[0] for part in html.split('<span class="big">')[1:]]
    assert numbers == ["5", "1", "1"]  # pending visits, open conflicts, open duplicate pairs
    post_form(client, "/review/batches/batch-a", {"uuids": [v.uuid for v in scene.visits_a],
                                                  "action": "approve"})
    html = client.get("/review/").get_data(as_text=True)
    assert [part.split("</span>", 1)[0] for part in html.split('<span class="big">')[1:]] == ["3", "1", "1"]
