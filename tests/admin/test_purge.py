"""``fieldapp purge``: retention of a campaign's old visits."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import AuditLog, Conflict, Household, Visit
from tests.factories import make_campaign, make_visit

pytestmark = pytest.mark.both_backends

OLD = dt.datetime(2023, 10, 5, 3, 0, tzinfo=dt.UTC)
NEW = dt.datetime(2024, 2, 1, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def visits(town):
    h1, h2, h3 = town.households_a
    old = make_visit(h1, town.worker_a, town.campaign, received_at=OLD,
                     data=None)
    old.data = {**old.data, "signature": "data:image/png;base64,iVBORw0KGgo="}
    old_with_conflict = make_visit(h2, town.worker_a, town.campaign, received_at=OLD)
    db.session.add(Conflict(household_id=h2.id, visit_uuid=old_with_conflict.uuid,
                            village_id=h2.village_id, field="phone", base_value="1",
                            current_value="2", incoming_value="3"))
    recent = make_visit(h3, town.worker_a, town.campaign, received_at=NEW)
    other_campaign = make_campaign("2022-jzpc", active=False)
    foreign = make_visit(h1, town.worker_a, other_campaign, received_at=OLD)
    db.session.commit()
    return {"old": [old.uuid, old_with_conflict.uuid], "recent": recent.uuid, "foreign": foreign.uuid}


def _uuids() -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(sa.select(Visit.uuid)))


def test_dry_run_changes_nothing(runner, visits) -> None:
    result = runner.invoke(args=["purge", "--campaign", "2023-jzpc", "--before", "2024-01-01"])
    assert result.exit_code == 0, result.output
    assert "走访记录 2 条" in result.output
    assert "conflicts：1 行" in result.output
    assert "这是预览" in result.output
    assert len(_uuids()) == 4
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action == "purge")) == 0


def test_purge_deletes_old_visits_and_their_conflicts(runner, visits, town) -> None:
    result = runner.invoke(args=["purge", "--campaign", "2023-jzpc", "--before", "2024-01-01", "--yes"])
    assert result.exit_code == 0, result.output
    assert "已删除" in result.output
    assert _uuids() == {visits["recent"], visits["foreign"]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Conflict)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Household)) == 5  # households stay
    entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "purge")).one()
    assert entry.object_id == "2023-jzpc"
    assert entry.before == {"visits": 2, "conflicts": 1}
    assert entry.details["received_before"].startswith("2024-01-01T00:00:00+08:00")
    again = runner.invoke(args=["purge", "--campaign", "2023-jzpc", "--before", "2024-01-01", "--yes"])
    assert "没有需要删除的记录" in again.output


def test_cutoff_is_china_midnight(runner, visits, town) -> None:
    # 2023-10-05 03:00 UTC is 11:00 in China: "before 2023-10-05" keeps it, "before 2023-10-06" does not.
    result = runner.invoke(args=["purge", "--campaign", "2023-jzpc", "--before", "2023-10-05"])
    assert "走访记录 0 条" in result.output
    result = runner.invoke(args=["purge", "--campaign", "2023-jzpc", "--before", "2023-10-06"])
    assert "走访记录 2 条" in result.output


def test_unknown_campaign_is_an_error(runner, visits) -> None:
    result = runner.invoke(args=["purge", "--campaign", "nope", "--before", "2024-01-01", "--yes"])
    assert result.exit_code != 0
    assert "排查活动不存在" in result.output
    assert len(_uuids()) == 4


def test_ids_of_purged_visits_are_cleared_where_no_key_holds_them(runner, visits, town) -> None:
    from fieldapp.models import DuplicateCandidate, HouseholdRevision

    old, _ = visits["old"]
    h1, h2, _ = town.households_a
    db.session.add(HouseholdRevision(household_id=h1.id, rev=2, values={}, changed=["phone"], reason="visit",
                                     visit_uuid=old))
    a, b = sorted((h1.id, h2.id))
    db.session.add(DuplicateCandidate(household_a_id=a, household_b_id=b, village_id=h1.village_id,
                                      campaign_id="2023-jzpc", visit_uuid=old, score=0.9))
    db.session.execute(sa.update(Visit).where(Visit.uuid == visits["recent"]).values(supersedes=old))
    db.session.commit()

    preview = runner.invoke(args=["purge", "--campaign", "2023-jzpc", "--before", "2024-01-01"])
    assert "清空对这些记录的引用 household_revisions.visit_uuid：1 行" in preview.output
    assert "visits.supersedes：1 行" in preview.output
    result = runner.invoke(args=["purge", "--campaign", "2023-jzpc", "--before", "2024-01-01", "--yes"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    revision = db.session.scalars(sa.select(HouseholdRevision).where(HouseholdRevision.rev == 2)).one()
    candidate = db.session.scalars(sa.select(DuplicateCandidate)).one()
    recent = db.session.get(Visit, visits["recent"])
    assert (revision.visit_uuid, candidate.visit_uuid, recent.supersedes) == (None, None, None)
    entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "purge")).one()
    assert entry.before["duplicate_candidates.visit_uuid"] == 1
