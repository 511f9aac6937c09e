"""Who may see and do what: village scope (404), workers (403), CSRF (400), admin-only pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import AuditLog, Conflict, DuplicateCandidate, Household, HouseholdMerge, Visit
from sync.idnumber import mask_id
from tests import factories
from tests.review.conftest import Scene, post_form, reload, token_of

pytestmark = pytest.mark.both_backends


def _b_pages(s: Scene) -> list[str]:
    """Every page showing something of village B (磨山村)."""
    t = s.town
    return [
        "/review/batches/batch-b", f"/review/visits/{s.visit_b.uuid}",
        f"/review/conflicts/{s.conflict_b.id}", f"/review/duplicates/{s.candidate_b.id}",
        f"/review/households/{t.households_b[0].id}", f"/review/batches?village={t.village_b.id}",
        f"/review/conflicts?village={t.village_b.id}", f"/review/duplicates?village={t.village_b.id}",
    ]


def _b_actions(s: Scene) -> list[tuple[str, dict]]:
    """Every action on something of village B, with a valid form otherwise."""
    hb = s.town.households_b[0]
    return [
        ("/review/batches/batch-b", {"uuids": [s.visit_b.uuid], "action": "approve"}),
        (f"/review/visits/{s.visit_b.uuid}", {"action": "return", "comment": "请核实"}),
        (f"/review/conflicts/{s.conflict_b.id}", {"pick_size": "incoming"}),
        (f"/review/duplicates/{s.candidate_b.id}", {"survivor": hb.id}),
        (f"/review/duplicates/{s.candidate_b.id}/dismiss", {}),
        ("/review/batches/batch-a", {"uuids": [s.visit_b.uuid], "action": "approve"}),
    ]


def _unchanged(s: Scene) -> None:
    visit = reload(Visit, s.visit_b.uuid)
    assert visit.review_status == "pending" and visit.sync_status == "conflict"
    assert reload(Conflict, s.conflict_b.id).status == "open"
    assert reload(DuplicateCandidate, s.candidate_b.id).status == "open"
    assert reload(Household, s.town.households_b[0].id).merged_into_id is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action.in_(["visit_approve", "visit_return", "conflict_resolve", "household_merge",
                             "candidate_dismiss"]))) == 0


def test_supervisor_of_village_a_cannot_see_village_b(client, auth, scene) -> None:
    auth.login("supervisor_a")
    for url in _b_pages(scene):
        assert client.get(url).status_code == 404, url
    for url in ("/review/", "/review/batches", "/review/conflicts", "/review/duplicates"):
        html = client.get(url).get_data(as_text=True)
        assert "磨山村" not in html and "batch-b" not in html, url
        assert scene.town.households_b[0].head_name not in html, url


def test_supervisor_of_village_a_cannot_act_on_village_b(client, auth, scene) -> None:
    auth.login("supervisor_a")
    token = token_of(client, "/review/batches")
    for url, data in _b_actions(scene):
        response = client.post(url, data={**data, "csrf_token": token})
        assert response.status_code == 404, url
    _unchanged(scene)


def test_supervisor_of_village_b_sees_and_acts_on_b(client, auth, scene) -> None:
    auth.login("supervisor_b")
    for url in _b_pages(scene):
        assert client.get(url).status_code == 200, url
    assert client.get("/review/batches/batch-a").status_code == 404
    response = post_form(client, f"/review/conflicts/{scene.conflict_b.id}", {"pick_size": "incoming"})
    assert response.status_code == 302
    assert reload(Household, scene.town.households_b[0].id).size == 6


def test_worker_cannot_reach_any_review_page(client, auth, scene) -> None:
    auth.login("worker_a")
    a = scene.town.households_a[0]
    pages = ["/review/", "/review/batches", "/review/batches/batch-a", f"/review/visits/{scene.visits_a[0].uuid}",
             "/review/conflicts", f"/review/conflicts/{scene.conflict.id}", "/review/duplicates",
             f"/review/duplicates/{scene.candidate.id}", f"/review/households/{a.id}", "/review/audit"]
    for url in pages:
        assert client.get(url).status_code == 403, url
    token = token_of(client, "/logout")
    for url, data in [("/review/batches/batch-a", {"uuids": [scene.visits_a[0].uuid], "action": "approve"}),
                      (f"/review/conflicts/{scene.conflict.id}", {"pick_phone": "incoming"}),
                      (f"/review/duplicates/{scene.candidate.id}/dismiss", {}),
                      ("/review/merges/1/undo", {})]:
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403, url
    assert reload(Visit, scene.visits_a[0].uuid).review_status == "pending"
    assert reload(Conflict, scene.conflict.id).status == "open"


def test_anonymous_is_sent_to_login(client, scene) -> None:
    response = client.get("/review/batches")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_post_without_csrf_is_refused(client, auth, scene) -> None:
    auth.login("supervisor_a")
    visit = scene.visits_a[0]
    for url, data in [("/review/batches/batch-a", {"uuids": [visit.uuid], "action": "approve"}),
                      (f"/review/visits/{visit.uuid}", {"action": "approve"}),
                      (f"/review/conflicts/{scene.conflict.id}", {"pick_phone": "incoming"}),
                      (f"/review/duplicates/{scene.candidate.id}", {"survivor": scene.town.households_a[0].id}),
                      (f"/review/duplicates/{scene.candidate.id}/dismiss", {})]:
        assert client.post(url, data=data).status_code == 400, url
        assert client.post(url, data={**data, "csrf_token": "forged"}).status_code == 400, url
    assert reload(Visit, visit.uuid).review_status == "pending"
    assert reload(Conflict, scene.conflict.id).status == "open"
    assert reload(DuplicateCandidate, scene.candidate.id).status == "open"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HouseholdMerge)) == 0


def test_audit_log_is_for_admins_only(client, auth, scene) -> None:
    auth.login("supervisor_a")
    assert client.get("/review/audit").status_code == 403
    assert "审计日志" not in client.get("/review/").get_data(as_text=True)


def test_no_full_id_on_any_review_page_of_a_supervisor(client, auth, scene) -> None:
    """Masked everywhere, the household page included (issue 17, item 16: only an admin's
    audited 显示完整 shows full values, tests/review/test_household_page.py)."""
    household = scene.town.households_a[0]
    auth.login("supervisor_a")
    html = client.get(f"/review/households/{household.id}").get_data(as_text=True)
    assert household.head_id not in html and household.phone not in html
    assert mask_id(household.head_id) in html
    assert "花名册" in html  # revision 1 came from the roster
    for url in ("/review/batches/batch-a", f"/review/visits/{scene.visits_a[0].uuid}", "/review/duplicates",
                f"/review/duplicates/{scene.candidate.id}", "/review/conflicts"):
        page = client.get(url).get_data(as_text=True)
        assert household.head_id not in page, url
        assert household.phone not in page, url
    auth.logout()
    auth.login("supervisor_b")
    assert client.get(f"/review/households/{household.id}").status_code == 404


def test_audit_log_filters(client, auth, scene) -> None:
    auth.login("supervisor_a")
    post_form(client, f"/review/visits/{scene.visits_a[0].uuid}", {"action": "return", "comment": "请补充"})
    post_form(client, f"/review/conflicts/{scene.conflict.id}", {"pick_phone": "incoming"})
    auth.logout()
    auth.login("admin")
    html = client.get("/review/audit?action=visit_return").get_data(as_text=True)
    assert 'class="action-visit_return"' in html and 'class="action-conflict_resolve"' not in html
    assert "请补充" in html  # the after image
    html = client.get(f"/review/audit?object={scene.conflict.id}&action=conflict_resolve").get_data(as_text=True)
    assert 'class="action-conflict_resolve"' in html and "139****1111" in html
    html = client.get("/review/audit?user=admin").get_data(as_text=True)
    assert 'class="action-visit_return"' not in html
    html = client.get("/review/audit?from=2000-01-01&to=2000-01-02").get_data(as_text=True)
    assert "没有记录" in html


def test_a_batch_with_only_another_villages_visits_is_not_found(client, auth, scene) -> None:
    """A worker of both villages pushes village A's visits: supervisor B got 200 with the worker,
    device and counts. A batch without any stored visit (all rejected) stays with the
    supervisors of its worker's villages."""
    t = scene.town
    both = factories.make_user("worker_ab", "worker", [t.village_a, t.village_b])
    factories.make_batch(both, "batch-ab-a", [{"uuid": "ab-1", "status": "accepted"}])
    factories.make_visit(t.households_a[0], both, t.campaign, batch_id="batch-ab-a")
    factories.make_batch(both, "batch-ab-rejected", [{"uuid": "ab-2", "status": "rejected",
                                                      "errors": {"size": ["家庭人口数不能大于20"]}}])
    db.session.commit()
    auth.login("supervisor_b")
    assert client.get("/review/batches/batch-ab-a").status_code == 404
    listing = client.get("/review/batches").get_data(as_text=True)
    assert "batch-ab-a" not in listing and "batch-ab-rejected" in listing
    assert client.get("/review/batches/batch-ab-rejected").status_code == 200
    auth.logout()
    auth.login("supervisor_a")
    assert client.get("/review/batches/batch-ab-a").status_code == 200
