"""A batch worked out before the write lock is written only if nothing it read changed meanwhile."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp.extensions import db
from fieldapp.models import Conflict, Household
from fieldapp.sync_service import actor_for
from fieldapp.sync_store import SqlStore
from sync.idnumber import make_id
from sync.ingest import BatchIngest, ingest
from sync.protocol import parse_push
from tests.api.conftest import new_uuid, record, reload

pytestmark = pytest.mark.both_backends

MOMENT = dt.datetime(2023, 10, 12, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def own_session(app: Any) -> Iterator[Session]:
    """A session of its own, as another request's would be."""
    with app.app_context():
        session = Session(db.engine)
        yield session
        session.close()


def job_for(session: Session, user: Any, records: list[dict[str, Any]], batch_id: str | None = None) -> BatchIngest:
    payload = {"batch_id": batch_id or new_uuid(), "device_id": "phone-9", "records": records}
    user = session.merge(user)
    return BatchIngest(SqlStore(session, user), actor_for(user), parse_push(payload, max_records=500),
                       today=dt.date(2023, 10, 20))


def test_a_household_changed_after_the_plan_is_worked_out_again(api, town, own_session) -> None:
    household = town.households_a[0]
    job = job_for(own_session, town.worker_a, [record(household, phone="13911110001")])
    assert job.prepare(MOMENT) is None and job.plan is not None
    # Another phone's visit, from the same base, lands before this batch takes the lock.
    token = api.login("worker_a", "phone-2")
    [first] = api.push_ok(token, [record(household, phone="13922220002")], device_id="phone-2")
    assert (first["status"], first["household_rev"]) == ("accepted", 2)

    [result] = job.apply(MOMENT)["results"]

    assert result["status"] == "conflict" and result["conflicts"] == ["phone"]
    h = reload(Household, household.id)
    assert (h.rev, h.phone) == (2, "13922220002"), "the first phone's value is kept, not overwritten"
    conflict = db.session.scalar(sa.select(Conflict).where(Conflict.visit_uuid == result["uuid"]))
    assert (conflict.current_value, conflict.incoming_value) == ("13922220002", "13911110001")


def test_an_unchanged_household_takes_the_plan_as_it_is(api, town, own_session) -> None:
    household = town.households_a[1]
    job = job_for(own_session, town.worker_a, [record(household, size=6)])
    job.prepare(MOMENT)
    planned = job.plan.batch.results  # type: ignore[union-attr]
    # Something elsewhere changes meanwhile: not this batch's household.
    token = api.login("worker_a", "phone-2")
    api.push_ok(token, [record(town.households_a[2], size=7)], device_id="phone-2")

    body = job.apply(MOMENT)

    assert body["results"] is planned
    assert [(r["status"], r["household_rev"]) for r in body["results"]] == [("accepted", 2)]
    assert reload(Household, household.id).size == 6


def test_a_batch_stored_meanwhile_breaks_the_plan_and_the_retry_replays_it(api, town, own_session) -> None:
    """Only a batch that touched no household can slip past the version check (every
    stored visit moves its household's change number): here, one of rejected records."""
    rec = record(town.households_a[0], campaign_id="no-such-campaign")
    job = job_for(own_session, town.worker_a, [rec])
    job.prepare(MOMENT)
    token = api.login("worker_a", "phone-2")
    response = api.push(token, [rec], batch_id=job.request.batch_id, device_id="phone-2")
    assert response.status_code == 200 and response.get_json()["results"][0]["status"] == "rejected"

    with pytest.raises(sa.exc.IntegrityError):
        job.apply(MOMENT)
    own_session.rollback()

    retry = job_for(own_session, town.worker_a, [rec], batch_id=job.request.batch_id)
    assert ingest(retry.store, retry.actor, retry.request) == response.get_json()


def test_a_batch_that_may_create_households_is_worked_out_under_the_lock(town, own_session) -> None:
    head_id = make_id("420281", dt.date(1990, 1, 1), 123)
    job = job_for(own_session, town.worker_a, [record(None, head_name="柯新来", head_id=head_id)])
    job.prepare(MOMENT)
    assert job.plan is None
    [result] = job.apply(MOMENT)["results"]
    assert result["status"] == "accepted"
    assert reload(Household, result["household_id"]).head_id == head_id


def test_members_planned_before_the_lock_are_compared_again_when_the_household_moved_on(
        api, town, own_session) -> None:
    """The plan found the household's members unchanged (only to be taken over by its
    visit); another phone's visit then changed them: the batch is worked out again on
    the locked household, and its own list replaces the other one."""
    from fieldapp.households import write_members
    from fieldapp.models import HouseholdMember, utcnow
    from tests.api.conftest import members_record, use_form_2024
    from tests.members_data import MEMBERS

    use_form_2024()
    household = town.households_a[0]
    listed = [dict(m) for m in MEMBERS]
    listed[0] = {**listed[0], "name": household.head_name, "id_number": household.head_id}
    write_members(db.session, {household.id: listed}, utcnow(), source="roster")
    db.session.commit()
    mine = members_record(household)
    job = job_for(own_session, town.worker_a, [mine])
    assert job.prepare(MOMENT) is None and job.plan is not None
    assert job.store._prepared_members.relabelled == [household.id]  # type: ignore[attr-defined]
    edited = [dict(m) for m in MEMBERS]
    edited[1] = {**edited[1], "work": "in_city", "change": "edited"}
    token = api.login("worker_a", "phone-2")
    [other] = api.push_ok(token, [members_record(household, edited)], device_id="phone-2")
    assert other["status"] == "accepted"

    [result] = job.apply(MOMENT)["results"]

    assert result["status"] in ("accepted", "conflict")
    db.session.rollback()
    rows = db.session.scalars(sa.select(HouseholdMember).where(HouseholdMember.household_id == household.id)
                              .order_by(HouseholdMember.position)).all()
    assert [r.answers["work"] for r in rows] == [m["work"] for m in MEMBERS]
    assert {(r.source, r.visit_uuid) for r in rows} == {("visit", mine["uuid"])}
