"""Conflicts: side by side, pick a value or type one, new revision, visit status follows,
and a conflict resolved twice (one after the other, and at the same moment)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import AuditLog, Conflict, Household, HouseholdRevision, Visit
from tests import factories
from tests.review.conftest import in_own_context, login_elsewhere, post_form, reload, token_of

pytestmark = pytest.mark.both_backends


def test_conflict_list_and_page_show_three_values_with_who_and_when(client, auth, scene) -> None:
    auth.login("supervisor_a")
    listing = client.get("/review/conflicts").get_data(as_text=True)
    assert f"/review/conflicts/{scene.conflict.id}" in listing
    assert f"/review/conflicts/{scene.conflict_b.id}" not in listing
    assert "联系电话" in listing and "137****2222" in listing and "13700002222" not in listing
    html = client.get(f"/review/conflicts/{scene.conflict.id}").get_data(as_text=True)
    assert "原值（第 1 版）" in html and "当前值（第 2 版）" in html and "本次走访值" in html
    assert "139****1111" in html and "137****2222" in html
    assert html.count("张网格") >= 2  # the worker of the current revision and of the incoming value
    assert "花名册导入" in html  # who wrote the base revision


def test_resolve_with_incoming_value_makes_a_new_revision(client, auth, scene) -> None:
    household = scene.conflict_visit.household
    rev, seq = household.rev, household.change_seq
    auth.login("supervisor_a")
    url = f"/review/conflicts/{scene.conflict.id}"
    response = post_form(client, url, {"pick_phone": "incoming", "custom_phone": ""})
    assert response.status_code == 302
    stored = reload(Household, household.id)
    assert stored.phone == "13900001111"
    assert stored.rev == rev + 1 and stored.change_seq > seq
    revision = db.session.scalar(sa.select(HouseholdRevision).where(
        HouseholdRevision.household_id == household.id, HouseholdRevision.rev == rev + 1))
    assert revision.reason == "resolution" and revision.changed == ["phone"]
    assert revision.visit_uuid == scene.conflict_visit.uuid
    assert revision.user_id == scene.town.supervisor_a.id
    conflict = reload(Conflict, scene.conflict.id)
    assert conflict.status == "resolved" and conflict.resolved_value == "13900001111"
    assert reload(Visit, scene.conflict_visit.uuid).sync_status == "accepted"
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "conflict_resolve"))
    assert entry.before["phone"] == "13700002222" and entry.after["phone"] == "13900001111"
    # the household page shows who changed what, from which visit
    page = client.get(f"/review/households/{household.id}").get_data(as_text=True)
    assert "冲突处理" in page and "137****2222 → 139****1111" in page  # masked (issue 17, item 16)
    assert f"/review/visits/{scene.conflict_visit.uuid}" in page


def test_keeping_the_current_value_changes_nothing_but_the_status(client, auth, scene) -> None:
    household = scene.conflict_visit.household
    rev = household.rev
    auth.login("supervisor_a")
    post_form(client, f"/review/conflicts/{scene.conflict.id}", {"pick_phone": "current"})
    assert reload(Household, household.id).rev == rev
    assert reload(Conflict, scene.conflict.id).status == "resolved"
    assert reload(Visit, scene.conflict_visit.uuid).sync_status == "accepted"


@pytest.mark.parametrize(("typed", "stored", "message"), [
    ("0714-8765432", "0714-8765432", None),
    ("１３６００００３３３３", "13600003333", None),
    ("12345", None, "联系电话"),
])
def test_typed_value_is_checked_with_the_form_rules(client, auth, scene, typed, stored, message) -> None:
    household = scene.conflict_visit.household
    auth.login("supervisor_a")
    response = post_form(client, f"/review/conflicts/{scene.conflict.id}",
                         {"pick_phone": "custom", "custom_phone": typed})
    if stored is None:
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
        assert reload(Conflict, scene.conflict.id).status == "open"
        assert reload(Household, household.id).phone == "13700002222"
    else:
        assert response.status_code == 302
        assert reload(Household, household.id).phone == stored


def test_typed_size_below_labor_count_is_refused(client, auth, scene) -> None:
    visit = scene.visits_a[0]
    conflict = factories.make_conflict(visit, "size", 4, 4, 5, current_rev=1)
    db.session.commit()
    auth.login("supervisor_a")
    response = post_form(client, f"/review/conflicts/{conflict.id}", {"pick_size": "custom", "custom_size": "1"})
    assert response.status_code == 422
    assert "劳动力人数不能大于家庭人口数" in response.get_data(as_text=True)
    assert reload(Household, visit.household_id).size == 4


def test_all_conflicts_of_a_visit_resolved_together(client, auth, scene) -> None:
    second = factories.make_conflict(scene.conflict_visit, "category", "general", "general", "lifted",
                                     current_rev=1)
    db.session.commit()
    auth.login("supervisor_a")
    url = f"/review/conflicts/{scene.conflict.id}"
    response = post_form(client, url, {"pick_phone": "base"})  # category left unanswered
    assert response.status_code == 422
    assert reload(Conflict, scene.conflict.id).status == "open"
    response = post_form(client, url, {"pick_phone": "base", "pick_category": "custom",
                                       "custom_category": "lifted"})
    assert response.status_code == 302
    household = reload(Household, scene.conflict_visit.household_id)
    assert household.category == "lifted" and household.phone == scene.conflict.base_value
    assert reload(Conflict, second.id).status == "resolved"
    assert reload(Visit, scene.conflict_visit.uuid).sync_status == "accepted"


def test_second_resolution_is_told_it_was_already_resolved(app, client, auth, scene) -> None:
    auth.login("supervisor_a")
    url = f"/review/conflicts/{scene.conflict.id}"
    other = login_elsewhere(app, "admin")
    first_token = token_of(client, url)
    second_token = in_own_context(app, token_of, other, url)  # both opened the page while it was open
    first = client.post(url, data={"csrf_token": first_token, "pick_phone": "incoming"})
    second = in_own_context(app, other.post, url, data={"csrf_token": second_token, "pick_phone": "base"})
    assert first.status_code == 302
    assert second.status_code == 409
    assert "该冲突已由supervisor_a处理" in second.get_data(as_text=True)
    assert reload(Household, scene.conflict_visit.household_id).phone == "13900001111"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action == "conflict_resolve")) == 1


def test_concurrent_double_resolution(app, scene) -> None:
    """Two supervisors press the button at the same moment: exactly one resolution wins."""
    url = f"/review/conflicts/{scene.conflict.id}"
    clients, tokens = [], []
    for username in ("supervisor_a", "admin"):
        c = login_elsewhere(app, username)
        clients.append(c)
        tokens.append(in_own_context(app, token_of, c, url))
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def press(index: int, pick: str) -> None:
        with app.app_context():
            barrier.wait()
            response = clients[index].post(url, data={"csrf_token": tokens[index], "pick_phone": pick})
            statuses.append(response.status_code)

    threads = [threading.Thread(target=press, args=(0, "incoming")),
               threading.Thread(target=press, args=(1, "base"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [302, 409]
    household = reload(Household, scene.conflict_visit.household_id)
    revisions = db.session.scalars(sa.select(HouseholdRevision).where(
        HouseholdRevision.household_id == household.id, HouseholdRevision.reason == "resolution")).all()
    assert len(revisions) == 1 and household.rev == 3
    assert household.phone in ("13900001111", scene.conflict.base_value)
    assert reload(Conflict, scene.conflict.id).resolved_value == household.phone
