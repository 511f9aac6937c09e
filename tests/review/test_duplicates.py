"""Duplicate households: evidence side by side, merge with per-field choices, undo, dismiss."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fieldapp import sync_service
from fieldapp.extensions import db
from fieldapp.models import (
    AuditLog,
    Conflict,
    DuplicateCandidate,
    Household,
    HouseholdMerge,
    HouseholdRevision,
    User,
    Visit,
)
from sync.idnumber import mask_id
from tests import factories
from tests.review.conftest import in_own_context, login_elsewhere, post_form, reload, token_of

pytestmark = pytest.mark.both_backends


def _merge(client, scene, **choices: str):
    survivor = scene.town.households_a[0]
    url = f"/review/duplicates/{scene.candidate.id}"
    data = {"survivor": survivor.id, **{f"keep_{f}": v for f, v in choices.items()}}
    return post_form(client, url, data)


def test_list_and_page_show_masked_evidence(client, auth, scene) -> None:
    auth.login("supervisor_a")
    listing = client.get("/review/duplicates").get_data(as_text=True)
    assert f"/review/duplicates/{scene.candidate.id}" in listing
    assert f"/review/duplicates/{scene.candidate_b.id}" not in listing
    roster = scene.town.households_a[0]
    assert roster.head_id not in listing and mask_id(roster.head_id) in listing
    assert "138****2222" in listing and "13811112222" not in listing
    html = client.get(f"/review/duplicates/{scene.candidate.id}").get_data(as_text=True)
    assert "身份证号" in html and "完全相同" in html
    assert "姓名拼音相似度" in html and "100%" in html
    assert "同村" in html and "家庭人口数" in html
    assert roster.head_id not in html


def test_merge_moves_visits_and_removes_the_merged_household(client, auth, scene) -> None:
    roster, new = scene.town.households_a[0], scene.new_household
    worker = scene.town.worker_a
    cursor = sync_service.pull(worker, None)["cursor"]
    rev = roster.rev
    auth.login("supervisor_a")
    response = _merge(client, scene, phone=new.id)  # keep the new household's phone
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/review/households/{roster.id}")
    survivor, merged = reload(Household, roster.id), reload(Household, new.id)
    assert survivor.phone == "13811112222" and survivor.rev == rev + 1
    assert merged.merged_into_id == survivor.id
    revision = db.session.scalar(sa.select(HouseholdRevision).where(
        HouseholdRevision.household_id == roster.id, HouseholdRevision.rev == rev + 1))
    assert revision.reason == "merge" and revision.changed == ["phone"]
    moved = reload(Visit, scene.duplicate_visit.uuid)
    assert moved.household_id == survivor.id and moved.sync_status == "accepted"
    candidate = reload(DuplicateCandidate, scene.candidate.id)
    assert candidate.status == "merged" and candidate.decided_by_id == scene.town.supervisor_a.id
    record = db.session.scalar(sa.select(HouseholdMerge))
    assert record.before["merged"]["values"]["phone"] == "13811112222"
    assert record.before["visits"] == [{"uuid": moved.uuid, "household_id": new.id,
                                        "village_id": new.village_id, "sync_status": "duplicate_suspected"}]
    assert db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "household_merge")).object_id == str(record.id)
    pulled = sync_service.pull(reload(User, worker.id), cursor)
    assert new.id in pulled["removed"]
    assert [h["phone"] for h in pulled["households"] if h["id"] == roster.id] == ["13811112222"]
    assert [v["household_id"] for v in pulled["visits"] if v["uuid"] == moved.uuid] == [roster.id]
    # the merged household's page says where it went
    assert "该户已并入" in client.get(f"/review/households/{new.id}").get_data(as_text=True)


def test_merge_refuses_values_that_break_the_form_rules(client, auth, scene) -> None:
    new = scene.new_household
    new.size = 1
    new.labor_count = 1
    db.session.commit()
    auth.login("supervisor_a")
    # size 1 from the new household with the survivor's labour count 2 is not a valid household
    response = _merge(client, scene, size=new.id)
    assert response.status_code == 422
    assert "劳动力人数不能大于家庭人口数" in response.get_data(as_text=True)
    assert reload(Household, new.id).merged_into_id is None
    assert reload(DuplicateCandidate, scene.candidate.id).status == "open"


def test_undo_merge_restores_everything(client, auth, scene) -> None:
    roster, new = scene.town.households_a[0], scene.new_household
    extra = factories.make_visit(new, scene.town.worker_a, scene.town.campaign, batch_id="batch-a")
    conflict = factories.make_conflict(extra, "size", 4, 4, 3, current_rev=1)
    third = factories.make_household(scene.town.village_a, "王建军")
    other_candidate = factories.make_candidate(new, third, score=0.7, evidence=["姓名相似"])
    db.session.commit()
    before_phone, before_rev = roster.phone, roster.rev
    worker = scene.town.worker_a
    auth.login("supervisor_a")
    assert _merge(client, scene, phone=new.id).status_code == 302
    assert reload(Conflict, conflict.id).household_id == roster.id
    assert reload(DuplicateCandidate, other_candidate.id).status == "superseded"
    record = db.session.scalar(sa.select(HouseholdMerge))
    cursor = sync_service.pull(reload(User, worker.id), None)["cursor"]
    auth.logout()

    auth.login("admin")
    page = client.get(f"/review/households/{roster.id}").get_data(as_text=True)
    assert f"/review/merges/{record.id}/undo" in page
    response = post_form(client, f"/review/merges/{record.id}/undo", {}, token_url=f"/review/households/{roster.id}")
    assert response.status_code == 302
    survivor, merged = reload(Household, roster.id), reload(Household, new.id)
    assert survivor.phone == before_phone and survivor.rev == before_rev + 2  # merge, then undo
    assert merged.merged_into_id is None and merged.phone == "13811112222"
    for uuid in (scene.duplicate_visit.uuid, extra.uuid):
        assert reload(Visit, uuid).household_id == new.id
    assert reload(Visit, scene.duplicate_visit.uuid).sync_status == "duplicate_suspected"
    assert reload(Visit, extra.uuid).sync_status == "conflict"
    assert reload(Conflict, conflict.id).household_id == new.id
    assert reload(DuplicateCandidate, other_candidate.id).status == "open"
    candidate = reload(DuplicateCandidate, scene.candidate.id)
    assert candidate.status == "open" and candidate.decided_by_id is None
    record = reload(HouseholdMerge, record.id)
    assert record.undone_by_id == scene.town.admin.id
    last = db.session.scalar(sa.select(HouseholdRevision).where(
        HouseholdRevision.household_id == roster.id).order_by(HouseholdRevision.rev.desc()))
    assert last.reason == "undo" and last.changed == ["phone"]
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "merge_undo"))
    assert entry.user_id == scene.town.admin.id and entry.object_id == str(record.id)
    assert entry.before["survivor"]["values"]["phone"] == "13811112222"  # as merged
    assert entry.after["survivor"]["values"]["phone"] == before_phone  # as before the merge
    pulled = sync_service.pull(reload(User, worker.id), cursor)
    assert new.id in {h["id"] for h in pulled["households"]} and new.id not in pulled["removed"]
    # undoing twice is refused with a message
    again = post_form(client, f"/review/merges/{record.id}/undo", {}, token_url=f"/review/households/{roster.id}")
    assert again.status_code == 302
    assert "该合并已由admin撤销" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_undo_is_refused_after_the_survivor_changed(client, auth, scene) -> None:
    roster = scene.town.households_a[0]
    auth.login("supervisor_a")
    _merge(client, scene)
    survivor = reload(Household, roster.id)
    survivor.rev += 1  # a later visit changed it
    db.session.commit()
    record = db.session.scalar(sa.select(HouseholdMerge))
    auth.logout()
    auth.login("admin")
    response = post_form(client, f"/review/merges/{record.id}/undo", {}, token_url="/review/audit")
    assert "合并后该户又有修改" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert reload(HouseholdMerge, record.id).undone_at is None
    assert reload(Household, scene.new_household.id).merged_into_id == roster.id


def test_only_an_admin_can_undo(client, auth, scene) -> None:
    auth.login("supervisor_a")
    _merge(client, scene)
    record = db.session.scalar(sa.select(HouseholdMerge))
    page = client.get(f"/review/households/{record.survivor_id}")
    assert f"/review/merges/{record.id}/undo" not in page.get_data(as_text=True)
    response = post_form(client, f"/review/merges/{record.id}/undo", {},
                         token_url=f"/review/households/{record.survivor_id}")
    assert response.status_code == 403
    assert reload(HouseholdMerge, record.id).undone_at is None


def test_audit_page_offers_undo_for_a_merge(client, auth, scene) -> None:
    auth.login("supervisor_a")
    _merge(client, scene)
    record = db.session.scalar(sa.select(HouseholdMerge))
    auth.logout()
    auth.login("admin")
    html = client.get("/review/audit?action=household_merge").get_data(as_text=True)
    assert "合并户" in html and f"/review/merges/{record.id}/undo" in html
    assert scene.new_household.head_id not in html  # masked in the before/after too


def test_dismiss_is_final_and_the_visit_is_accepted(client, auth, scene) -> None:
    auth.login("supervisor_a")
    url = f"/review/duplicates/{scene.candidate.id}"
    response = post_form(client, f"{url}/dismiss", {}, token_url=url)
    assert response.status_code == 302
    candidate = reload(DuplicateCandidate, scene.candidate.id)
    assert candidate.status == "dismissed" and candidate.decided_by_id == scene.town.supervisor_a.id
    assert reload(Visit, scene.duplicate_visit.uuid).sync_status == "accepted"
    assert reload(Household, scene.new_household.id).merged_into_id is None
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "candidate_dismiss"))
    assert entry.before == {"status": "open"} and entry.after == {"status": "dismissed"}
    # the ingest side skips dismissed pairs: the pair is never proposed again
    from fieldapp.sync_store import SqlStore

    store = SqlStore(db.session)
    pair = (candidate.household_a_id, candidate.household_b_id)
    assert store.dismissed_pairs([pair]) == {pair}
    # merging a dismissed pair is refused
    response = _merge(client, scene)
    assert response.status_code == 409
    assert "该疑似重复已由supervisor_a处理（已排除）" in response.get_data(as_text=True)
    assert reload(Household, scene.new_household.id).merged_into_id is None


def test_a_refusal_is_shown_in_the_language_of_the_page(client, auth, scene) -> None:
    """The refusal's message comes from the error catalogue (sync/errors.py KINDS), in
    the language the session chose."""
    client.get("/login?lang=en")
    auth.login("supervisor_a")
    url = f"/review/duplicates/{scene.candidate.id}"
    assert post_form(client, f"{url}/dismiss", {}, token_url=url).status_code == 302
    response = _merge(client, scene)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "This possible duplicate has already been handled by supervisor_a (Dismissed)" in html
    assert "该疑似重复已由" not in html


def test_second_merge_of_the_same_pair_is_told_it_was_merged(app, client, auth, scene) -> None:
    url = f"/review/duplicates/{scene.candidate.id}"
    survivor = scene.town.households_a[0]
    auth.login("supervisor_a")
    other = login_elsewhere(app, "admin")
    first_token = token_of(client, url)
    second_token = in_own_context(app, token_of, other, url)
    first = client.post(url, data={"csrf_token": first_token, "survivor": survivor.id})
    second = in_own_context(app, other.post, url, data={"csrf_token": second_token,
                                                        "survivor": scene.new_household.id})
    assert first.status_code == 302
    assert second.status_code == 409
    assert "该疑似重复已由supervisor_a处理（已合并）" in second.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HouseholdMerge)) == 1
    assert reload(Household, scene.new_household.id).merged_into_id == survivor.id
    assert reload(Household, survivor.id).merged_into_id is None


def test_a_duplicate_in_another_village_is_routed_to_someone_who_sees_both(app, client, auth, town) -> None:
    """The worker's supervisor cannot see a candidate in another village: the visit page says
    who decides it (a supervisor of both villages, else an admin), and they see it."""
    from tests.api.conftest import Api, record

    elsewhere = town.households_b[0]
    api = Api(app.test_client())
    rec = record(None, head_name=elsewhere.head_name, head_id=elsewhere.head_id, phone="13700002222")
    [result] = api.push_ok(api.login("worker_a"), [rec])
    assert result["status"] == "duplicate_suspected"
    url = f"/review/visits/{rec['uuid']}"

    auth.login("supervisor_a")
    html = client.get(url).get_data(as_text=True)
    assert 'id="duplicate-elsewhere"' in html and "管理员" in html
    assert "/review/duplicates/" not in html
    both = factories.make_user("supervisor_ab", "supervisor", [town.village_a, town.village_b],
                               display_name="两村审核员")
    db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert "两村审核员" in html

    other = login_elsewhere(app, both.username)
    page = in_own_context(app, lambda: other.get(url).get_data(as_text=True))
    assert 'id="duplicate-elsewhere"' not in page
    candidate = db.session.scalar(sa.select(DuplicateCandidate).where(DuplicateCandidate.visit_uuid == rec["uuid"]))
    assert f"/review/duplicates/{candidate.id}" in page
    listing = in_own_context(app, lambda: other.get("/review/duplicates").get_data(as_text=True))
    assert f"/review/duplicates/{candidate.id}" in listing
