"""Push: every status path, idempotency, resubmission, offline conflicts (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import (
    AuditLog,
    Campaign,
    Conflict,
    DuplicateCandidate,
    Household,
    HouseholdRevision,
    SyncBatch,
    Visit,
)
from tests import factories
from tests.api.conftest import new_uuid, record, reload

pytestmark = pytest.mark.both_backends


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def test_accepted_visit_is_stored_with_its_computed_columns(api, town) -> None:
    token = api.login("worker_a")
    household = town.households_a[0]
    rec = record(household)
    [result] = api.push_ok(token, [rec])
    assert result == {"uuid": rec["uuid"], "status": "accepted", "household_id": household.id,
                      "household_rev": 1}
    visit = reload(Visit, rec["uuid"])
    assert visit.sync_status == "accepted" and visit.review_status == "pending"
    assert visit.worker_id == town.worker_a.id and visit.village_id == town.village_a.id
    assert visit.net_income == 36000 + 8000 - 2000 + 500 + 1500
    assert visit.per_capita_income == round(44000 / 4)
    assert visit.visit_method == "phone" and visit.conclusion == "no_risk"
    assert str(visit.visited_on) == "2023-10-12"
    assert visit.below_monitoring_line is False and visit.guarantee_gap is False
    assert visit.location == {"lat": 30.1, "lon": 114.9, "accuracy_m": 20}
    assert visit.change_seq > 0 and visit.server_seq == visit.change_seq
    h = reload(Household, household.id)
    assert h.rev == 1, "a visit that changes no field leaves the revision alone"
    assert h.change_seq > 0, "the household is in the next pull (its visited flag changed)"
    batch = reload(SyncBatch, db.session.scalar(sa.select(Visit.batch_id).where(Visit.uuid == rec["uuid"])))
    assert batch.counts == {"accepted": 1} and batch.user_id == town.worker_a.id
    [entry] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "sync_push",
                                                          AuditLog.object_id == batch.id)).all()
    assert entry.user_id == town.worker_a.id and entry.object_type == "sync_batch" and entry.at is not None
    assert entry.details == {"device_id": batch.device_id, "records": 1, "counts": {"accepted": 1}}


def test_a_change_bumps_the_revision_once_and_records_it(api, town) -> None:
    token = api.login("worker_a")
    household = town.households_a[0]
    rec = record(household, head_name="王建民", phone="13911112222", size=5)
    [result] = api.push_ok(token, [rec])
    assert result["status"] == "accepted" and result["household_rev"] == 2
    h = reload(Household, household.id)
    assert (h.rev, h.head_name, h.phone, h.size) == (2, "王建民", "13911112222", 5)
    assert (h.head_pinyin, h.head_initials) == ("wang jian min", "wjm")
    revision = db.session.scalar(sa.select(HouseholdRevision).where(
        HouseholdRevision.household_id == household.id, HouseholdRevision.rev == 2))
    assert revision.reason == "visit" and revision.visit_uuid == rec["uuid"]
    assert revision.user_id == town.worker_a.id
    assert revision.changed == ["head_name", "phone", "size"]
    assert revision.values["size"] == 5 and revision.values["group"] == "3组"


def test_two_devices_change_the_same_field_differently(api, town) -> None:
    """Offline from the same base: the second is a conflict, the first value kept and recorded."""
    token_1 = api.login("worker_a", "phone-1")
    token_2 = api.login("worker_a", "phone-2")
    household = town.households_a[1]
    original_phone = household.phone
    first = record(household, phone="13911110001")
    second = record(household, phone="13922220002")
    assert api.push_ok(token_1, [first], device_id="phone-1")[0]["status"] == "accepted"
    [result] = api.push_ok(token_2, [second], device_id="phone-2")
    assert result == {"uuid": second["uuid"], "status": "conflict", "household_id": household.id,
                      "household_rev": 2, "conflicts": ["phone"]}
    assert reload(Household, household.id).phone == "13911110001"
    conflict = db.session.scalar(sa.select(Conflict).where(Conflict.visit_uuid == second["uuid"]))
    assert (conflict.field, conflict.base_value, conflict.current_value, conflict.incoming_value) == (
        "phone", original_phone, "13911110001", "13922220002")
    assert conflict.status == "open" and conflict.village_id == town.village_a.id
    assert reload(Visit, second["uuid"]).sync_status == "conflict"


def test_two_devices_change_different_fields_both_apply(api, town) -> None:
    token_1 = api.login("worker_a", "phone-1")
    token_2 = api.login("worker_a", "phone-2")
    household = town.households_a[1]
    api.push_ok(token_1, [record(household, phone="13911110001")])
    [result] = api.push_ok(token_2, [record(household, hamlet="下湾", labor_count=1)])
    assert result["status"] == "accepted" and result["household_rev"] == 3
    h = reload(Household, household.id)
    assert (h.phone, h.hamlet, h.labor_count) == ("13911110001", "下湾", 1)
    assert count(Conflict) == 0


def test_two_devices_make_the_same_change_without_conflict(api, town) -> None:
    token_1 = api.login("worker_a", "phone-1")
    token_2 = api.login("worker_a", "phone-2")
    household = town.households_a[1]
    api.push_ok(token_1, [record(household, size=6, labor_count=3)])
    [result] = api.push_ok(token_2, [record(household, size=6, labor_count=3)])
    assert result["status"] == "accepted" and result["household_rev"] == 2
    assert count(Conflict) == 0


def test_missing_base_counts_every_difference_as_conflict(api, town) -> None:
    token = api.login("worker_a")
    household = town.households_a[0]
    api.push_ok(token, [record(household, phone="13911110001")])
    stale = record(household, base_rev=0, phone="13922220002", size=7)  # rev 0 never existed
    [result] = api.push_ok(token, [stale])
    assert result["status"] == "conflict" and result["conflicts"] == ["phone", "size"]
    h = reload(Household, household.id)
    assert (h.phone, h.size) == ("13911110001", 4)
    rows = db.session.scalars(sa.select(Conflict).where(Conflict.visit_uuid == stale["uuid"])).all()
    assert {r.field: r.base_value for r in rows} == {"phone": None, "size": None}


def test_an_old_base_still_merges_field_by_field(api, town) -> None:
    token = api.login("worker_a")
    household = town.households_a[0]
    api.push_ok(token, [record(household, phone="13911110001")])  # rev 2
    api.push_ok(token, [record(reload(Household, household.id), size=5)])  # rev 3
    late = record(household, base_rev=1, hamlet="新湾")  # filled against rev 1, changes only the hamlet
    [result] = api.push_ok(token, [late])
    assert result == {"uuid": late["uuid"], "status": "accepted", "household_id": household.id,
                      "household_rev": 4}
    h = reload(Household, household.id)
    assert (h.phone, h.size, h.hamlet) == ("13911110001", 5, "新湾")


def test_records_of_one_batch_apply_in_order(api, town) -> None:
    token = api.login("worker_a")
    household = town.households_a[2]
    one = record(household, size=5)
    two = record(household, size=6)  # same base as one: conflicts with it
    three = record(household, base_rev=2, size=7)  # filled after one was applied
    results = api.push_ok(token, [one, two, three])
    assert [r["status"] for r in results] == ["accepted", "conflict", "accepted"]
    assert [r["household_rev"] for r in results] == [2, 2, 3]
    assert reload(Household, household.id).size == 7
    seqs = [reload(Visit, r["uuid"]).server_seq for r in (one, two, three)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3


def test_replaying_a_batch_returns_the_same_body_and_changes_nothing(api, town) -> None:
    token = api.login("worker_a")
    household = town.households_a[0]
    records = [record(household, phone="13911110001"), record(None), record(household, size=99)]
    first = api.push(token, records, batch_id="batch-1")
    assert first.status_code == 200
    before = (count(Visit), count(Household), count(HouseholdRevision), reload(Household, household.id).change_seq)
    again = api.push(token, records, batch_id="batch-1")
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert (count(Visit), count(Household), count(HouseholdRevision),
            reload(Household, household.id).change_seq) == before


def test_a_batch_id_of_another_user_is_refused(api, town) -> None:
    api.push_ok(api.login("worker_a"), [record(town.households_a[0])], batch_id="shared-id")
    response = api.push(api.login("worker_b"), [record(town.households_b[0])], batch_id="shared-id")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "batch_id_conflict"


def test_a_batch_id_reused_for_other_records_is_refused_and_stores_nothing(api, town) -> None:
    """Batch X with A, then X with B, C, D: was a 200 with A's stored result, and B, C, D
    were never stored while the phone believed they were."""
    token = api.login("worker_a")
    first = record(town.households_a[0])
    [stored] = api.push_ok(token, [first], batch_id="batch-x")
    others = [record(town.households_a[1]), record(town.households_a[2]), record(None)]
    before = count(Visit)
    for records in (others, [first, *others], others[:1] + [first], []):
        response = api.push(token, records, batch_id="batch-x")
        assert response.status_code == 409, response.get_json()
        error = response.get_json()["error"]
        assert error["code"] == "batch_conflict" and error["details"] == {"batch_id": "batch-x"}
        assert "批次" in error["message"]
    assert count(Visit) == before
    assert api.push_ok(token, [first], batch_id="batch-x") == [stored], "a true replay is still answered"
    results = api.push_ok(token, others, batch_id="batch-y")
    assert [r["status"] for r in results] == ["accepted", "accepted", "accepted"]
    assert count(Visit) == before + 3


def test_a_batch_stored_without_its_digest_is_compared_by_its_results(api, town) -> None:
    """Batches stored before the digest column compare the uuids their results name."""
    token = api.login("worker_a")
    first = record(town.households_a[0])
    [result] = api.push_ok(token, [first], batch_id="old-batch")
    db.session.execute(sa.update(SyncBatch).where(SyncBatch.id == "old-batch").values(records_digest=None))
    db.session.commit()
    assert api.push_ok(token, [first], batch_id="old-batch") == [result]
    response = api.push(token, [record(town.households_a[1])], batch_id="old-batch")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "batch_conflict"


def test_another_workers_visit_uuid_tells_the_sender_nothing_about_it(api, town) -> None:
    """already_received gave another worker that visit's household id and original status."""
    rec = record(town.households_a[0])
    [first] = api.push_ok(api.login("worker_a"), [rec])
    probe = record(town.households_b[0])
    probe["uuid"] = rec["uuid"]
    [answer] = api.push_ok(api.login("worker_b"), [probe])
    assert answer == {"uuid": rec["uuid"], "status": "already_received"}
    [own] = api.push_ok(api.tokens["worker_a"], [rec])
    assert own == {"uuid": rec["uuid"], "status": "already_received", "original_status": "accepted",
                   "household_id": first["household_id"]}
    [reviewer] = api.push_ok(api.login("supervisor_a"), [rec])
    assert reviewer["household_id"] == first["household_id"], "a supervisor of the village sees the visit"
    [outsider] = api.push_ok(api.login("supervisor_b"), [rec])
    assert outsider == {"uuid": rec["uuid"], "status": "already_received"}


def test_the_pushed_device_is_the_tokens_not_the_one_the_body_names(api, town) -> None:
    """The body's device_id was stored as sent, even when the token was issued to another device."""
    token = api.login("worker_a", "phone-1")
    rec = record(town.households_a[0])
    api.push_ok(token, [rec], batch_id="claims-another-device", device_id="phone-9")
    assert reload(Visit, rec["uuid"]).device_id == "phone-1"
    assert reload(SyncBatch, "claims-another-device").device_id == "phone-1"
    [entry] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "sync_push")).all()
    assert entry.details["device_id"] == "phone-1"


def test_the_same_uuid_in_another_batch_is_already_received(api, town) -> None:
    token = api.login("worker_a")
    household = town.households_a[0]
    rec = record(household, phone="13911110001")
    api.push_ok(token, [rec])
    changed = dict(rec, data={**rec["data"], "phone": "13999999999"})
    [result] = api.push_ok(token, [changed])
    assert result == {"uuid": rec["uuid"], "status": "already_received", "original_status": "accepted",
                      "household_id": household.id}
    assert reload(Household, household.id).phone == "13911110001"
    assert count(Visit) == 1


def test_the_same_uuid_twice_in_one_batch(api, town) -> None:
    token = api.login("worker_a")
    rec = record(town.households_a[0])
    results = api.push_ok(token, [rec, rec])
    assert [r["status"] for r in results] == ["accepted", "already_received"]
    assert results[1]["original_status"] == "accepted"


def test_rejected_record_is_not_stored_and_a_correction_is_accepted(api, town) -> None:
    token = api.login("worker_a")
    household = town.households_a[0]
    bad = record(household, head_id="420281197005010012", labor_count=9)
    [result] = api.push_ok(token, [bad])
    assert result["status"] == "rejected"
    assert set(result["errors"]) == {"head_id", "labor_count"}
    assert all(isinstance(m, str) and m for m in result["errors"]["head_id"])
    assert count(Visit) == 0 and reload(Household, household.id).rev == 1
    fixed = dict(bad, data={**bad["data"], "head_id": household.head_id, "labor_count": 2})
    [again] = api.push_ok(token, [fixed])
    assert again["status"] == "accepted" and again["uuid"] == bad["uuid"]
    assert reload(Visit, bad["uuid"]) is not None


@pytest.mark.parametrize(("change", "errors"), [
    ({"campaign_id": "2019-nope"}, {"campaign_id": ["unknown_campaign"]}),
    ({"form_version": "1999.9"}, {"form_version": ["unknown_form_version"]}),
    ({"household_id": "0d1e7c4c-0000-4000-8000-000000000000"}, {"household_id": ["out_of_scope"]}),
])
def test_rejected_envelope_reasons(api, town, change, errors) -> None:
    token = api.login("worker_a")
    rec = {**record(town.households_a[0]), **change}
    [result] = api.push_ok(token, [rec])
    assert result == {"uuid": rec["uuid"], "status": "rejected", "errors": errors}
    assert count(Visit) == 0


def test_closed_campaign_is_rejected(api, town) -> None:
    token = api.login("worker_a")
    campaign = reload(Campaign, "2023-jzpc")
    campaign.closed = True
    db.session.commit()
    [result] = api.push_ok(token, [record(town.households_a[0])])
    assert result["errors"] == {"campaign_id": ["campaign_closed"]}


def test_household_out_of_scope_is_rejected_like_an_unknown_one(api, town) -> None:
    token = api.login("worker_a")
    other = town.households_b[0]
    [result] = api.push_ok(token, [record(other, phone="13911110001")])
    assert result["errors"] == {"household_id": ["out_of_scope"]}
    assert reload(Household, other.id).phone != "13911110001"
    # a supervisor of that village may write it
    [ok] = api.push_ok(api.login("supervisor_b"), [record(other, phone="13911110001")])
    assert ok["status"] == "accepted"


def test_new_household_is_created_in_the_workers_village(api, town) -> None:
    token = api.login("worker_a")
    rec = record(None, head_name="李四海")
    [result] = api.push_ok(token, [rec])
    assert result["status"] == "accepted" and result["household_rev"] == 1
    h = reload(Household, result["household_id"])
    assert (h.source, h.village_id, h.town_id, h.rev) == ("field", town.village_a.id, town.town.id, 1)
    assert (h.head_name, h.head_pinyin, h.head_initials, h.group) == ("李四海", "li si hai", "lsh", "2组")
    assert h.change_seq > 0
    revision = db.session.scalar(sa.select(HouseholdRevision).where(HouseholdRevision.household_id == h.id))
    assert (revision.rev, revision.reason, revision.visit_uuid) == (1, "visit", rec["uuid"])
    assert reload(Visit, rec["uuid"]).household_id == h.id


def test_new_household_in_a_named_village(api, town) -> None:
    token = api.login("admin")
    [result] = api.push_ok(token, [dict(record(None), village="磨山村")])
    assert reload(Household, result["household_id"]).village_id == town.village_b.id
    [refused] = api.push_ok(api.login("worker_a"), [dict(record(None), village="磨山村")])
    assert refused["errors"] == {"village": ["out_of_scope"]}
    [no_village] = api.push_ok(token, [record(None)])  # an admin has no village of their own
    assert no_village["errors"] == {"village": ["required"]}


def test_new_household_matching_an_id_number_is_a_suspected_duplicate(api, town) -> None:
    token = api.login("worker_a")
    existing = town.households_a[0]
    rec = record(None, head_name="王健国", head_id=existing.head_id, phone="13700001111")
    [result] = api.push_ok(token, [rec])
    assert result["status"] == "duplicate_suspected"
    assert existing.id in result["duplicate_of"]
    new_id = result["household_id"]
    assert new_id != existing.id and reload(Household, new_id).source == "field"
    candidate = db.session.scalar(sa.select(DuplicateCandidate).where(DuplicateCandidate.visit_uuid == rec["uuid"],
                                                                      sa.or_(DuplicateCandidate.household_a_id == existing.id,
                                                                             DuplicateCandidate.household_b_id == existing.id)))
    assert candidate.household_a_id < candidate.household_b_id
    assert {candidate.household_a_id, candidate.household_b_id} == {existing.id, new_id}
    assert (candidate.source, candidate.status, candidate.campaign_id) == ("ingest", "open", "2023-jzpc")
    assert candidate.village_id == town.village_a.id and candidate.score > 0 and candidate.evidence
    assert reload(Visit, rec["uuid"]).sync_status == "duplicate_suspected"


def test_a_duplicate_in_another_village_names_no_household_the_worker_may_not_see(api, town, client) -> None:
    """duplicate_of told a worker that the person lives in another village (that household's id)."""
    elsewhere, here = town.households_b[0], town.households_a[1]
    token = api.login("worker_a")
    rec = record(None, head_name=elsewhere.head_name, head_id=elsewhere.head_id, phone="13700002222")
    response = api.push(token, [rec])
    assert response.status_code == 200
    [result] = response.get_json()["results"]
    assert result["status"] == "duplicate_suspected" and result["duplicate_of"] == []
    assert elsewhere.id not in response.get_data(as_text=True)
    candidate = db.session.scalar(sa.select(DuplicateCandidate).where(DuplicateCandidate.visit_uuid == rec["uuid"]))
    assert elsewhere.id in (candidate.household_a_id, candidate.household_b_id), "the candidate is kept"
    replayed = api.push(token, [rec]).get_json()["results"][0]
    assert replayed["status"] == "already_received" and "duplicate_of" not in replayed
    [mine] = api.push_ok(token, [record(None, head_name=here.head_name, head_id=here.head_id)])
    assert mine["duplicate_of"] == [here.id], "a household the worker may see is still named"


def test_two_new_households_in_one_batch_are_matched_to_each_other(api, town) -> None:
    token = api.login("worker_a")
    person = factories.make_id_number(777)
    first, second = record(None, head_id=person), record(None, head_id=person)
    results = api.push_ok(token, [first, second])
    assert results[0]["status"] == "accepted"
    assert results[1]["status"] == "duplicate_suspected"
    assert results[1]["duplicate_of"] == [results[0]["household_id"]]


def test_supersedes_marks_the_returned_visit(api, town) -> None:
    token = api.login("worker_a")
    household = town.households_a[0]
    old = record(household)
    api.push_ok(token, [old])
    visit = reload(Visit, old["uuid"])
    visit.review_status, visit.review_comment = "returned", "收入填写有误"
    db.session.commit()
    fixed = dict(record(household, income_wage=30000), supersedes=old["uuid"])
    [result] = api.push_ok(token, [fixed])
    assert result["status"] == "accepted"
    old_row = reload(Visit, old["uuid"])
    assert old_row.review_status == "superseded"
    new_row = reload(Visit, fixed["uuid"])
    assert new_row.supersedes == old["uuid"] and old_row.change_seq > 0
    pages, _ = api.pull_all(token)
    statuses = {v["uuid"]: v["status"] for page in pages for v in page["visits"]}
    assert statuses == {old["uuid"]: "superseded", fixed["uuid"]: "pending"}


def test_supersedes_checks_the_visit(api, town) -> None:
    token = api.login("worker_a")
    household = town.households_a[0]
    [missing] = api.push_ok(token, [dict(record(household), supersedes=new_uuid())])
    assert missing["errors"] == {"supersedes": ["not_found"]}
    old = record(household)
    api.push_ok(token, [old])
    [other] = api.push_ok(token, [dict(record(town.households_a[1]), supersedes=old["uuid"])])
    assert other["errors"] == {"supersedes": ["other_household"]}
    # without household_id the corrected visit goes to the old visit's household
    # (only a returned visit can be superseded: issue 18, item 13)
    reload(Visit, old["uuid"]).review_status = "returned"
    db.session.commit()
    [same] = api.push_ok(token, [dict(record(household), household_id=None, supersedes=old["uuid"])])
    assert same["status"] == "accepted" and same["household_id"] == household.id


@pytest.mark.parametrize("review_status", ["pending", "approved", "superseded"])
def test_only_a_returned_visit_can_be_superseded(api, town, review_status) -> None:
    """supersedes of the worker's own pending or approved visit made it superseded silently."""
    token = api.login("worker_a")
    household = town.households_a[0]
    old = record(household)
    api.push_ok(token, [old])
    reload(Visit, old["uuid"]).review_status = review_status
    db.session.commit()
    fixed = dict(record(household, income_wage=30000), supersedes=old["uuid"])
    same_batch = record(household)
    results = api.push_ok(token, [fixed, same_batch, dict(record(household), supersedes=same_batch["uuid"])])
    assert results[0] == {"uuid": fixed["uuid"], "status": "rejected", "errors": {"supersedes": ["not_returned"]}}
    assert results[1]["status"] == "accepted"
    assert results[2]["errors"] == {"supersedes": ["not_returned"]}, "a visit of the same batch is pending"
    assert reload(Visit, old["uuid"]).review_status == review_status
    assert reload(Visit, same_batch["uuid"]).review_status == "pending"
    assert reload(Visit, fixed["uuid"]) is None


def test_a_visit_to_a_merged_household_applies_to_the_survivor(api, town) -> None:
    token = api.login("worker_a")
    gone, survivor = town.households_a[1], town.households_a[0]
    row = reload(Household, gone.id)
    row.merged_into_id = survivor.id
    db.session.commit()
    rec = record(gone, hamlet="新湾")
    [result] = api.push_ok(token, [rec])
    assert result["household_id"] == survivor.id
    assert reload(Visit, rec["uuid"]).household_id == survivor.id


def test_every_status_in_one_batch_in_request_order(api, town) -> None:
    token = api.login("worker_a")
    h0, h1 = town.households_a[0], town.households_a[1]
    seen = record(h0)
    api.push_ok(token, [seen])
    api.push_ok(api.login("worker_a", "phone-2"), [record(h1, phone="13911110001")])
    records = [
        record(h0, size=5),                                     # accepted
        record(h1, base_rev=1, phone="13922220002"),            # conflict (same base as phone-2)
        record(None, head_name=h0.head_name, head_id=h0.head_id),  # duplicate_suspected
        seen,                                                   # already_received
        record(h0, size=0),                                     # rejected
    ]
    results = api.push_ok(token, records)
    assert [r["status"] for r in results] == [
        "accepted", "conflict", "duplicate_suspected", "already_received", "rejected"]
    batch_counts = db.session.scalar(sa.select(SyncBatch.counts).where(SyncBatch.record_count == 5))
    assert batch_counts == {"accepted": 1, "conflict": 1, "duplicate_suspected": 1,
                            "already_received": 1, "rejected": 1}


def test_push_batch_is_callable_from_python(app, town) -> None:
    """The service other code calls (demo generator, import-backup) returns the HTTP body."""
    from fieldapp.sync_service import push_batch

    rec = record(town.households_a[0])
    body = push_batch(town.worker_a, {"batch_id": "py-1", "device_id": "import", "records": [rec]})
    assert body["batch_id"] == "py-1" and body["results"][0]["status"] == "accepted"
    assert push_batch(town.worker_a, {"batch_id": "py-1", "device_id": "import", "records": [rec]}) == body


def test_a_later_record_of_the_batch_merges_against_its_own_base(api, town) -> None:
    """Two visits of one batch filled against the same revision, changing different fields."""
    token = api.login("worker_a")
    household = town.households_a[2]
    one = record(household, size=5)
    two = record(household, hamlet="东湾")  # base rev 1, like one
    results = api.push_ok(token, [one, two])
    assert [(r["status"], r["household_rev"]) for r in results] == [("accepted", 2), ("accepted", 3)]
    h = reload(Household, household.id)
    assert (h.size, h.hamlet) == (5, "东湾")
