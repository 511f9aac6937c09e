"""The report rollup kept incrementally from the pull sequence equals one rebuilt from scratch (both backends).

The writes go through the real write paths (push over the API, approve, return,
merge, undo), which number their rows from the pull sequence; after each, the
refreshed rollup and the dashboard numbers are compared with a full rebuild.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from fieldapp.extensions import db
from fieldapp.models import (
    HouseholdProgress,
    ReportCursor,
    VillageProgress,
    Visit,
    WorkerHouseholdProgress,
)
from fieldapp.reports import queries, rollup
from fieldapp.review import merges, visits
from tests import factories
from tests.api.conftest import Api, record

pytestmark = pytest.mark.both_backends

CAMPAIGN = "2023-jzpc"
LOW_INCOME = {"income_wage": 1000, "income_business": 0, "business_cost": 0, "income_property": 0,
              "income_transfer": 500}


def snapshot(campaign_id: str = CAMPAIGN) -> dict[str, Any]:
    """Every rollup row and the numbers of the pages (the queries refresh first)."""
    progress = queries.progress_by_village(db.session, campaign_id).to_dict()
    workers = [w.to_dict() for w in queries.progress_by_worker(db.session, campaign_id)]
    days = queries.visits_per_day(db.session, campaign_id)
    follow = {flag: [item.household_id for item in queries.follow_up(db.session, campaign_id, flag)]
              for flag in queries.FOLLOW_UP_FLAGS}
    households = [tuple(r) for r in db.session.execute(
        sa.select(*HouseholdProgress.__table__.c).where(HouseholdProgress.campaign_id == campaign_id)
        .order_by(HouseholdProgress.household_id))]
    per_worker = [tuple(r) for r in db.session.execute(
        sa.select(*WorkerHouseholdProgress.__table__.c).where(WorkerHouseholdProgress.campaign_id == campaign_id)
        .order_by(*WorkerHouseholdProgress.__table__.primary_key.columns))]
    # The per-village sums kept by differences equal the sums of the household rows now.
    direct = {r.village_id: {name: int(r._mapping[name]) for name in rollup.MEASURES}
              for r in db.session.execute(rollup.village_sums(campaign_id))}
    assert {row["village_id"]: {name: row[name] for name in rollup.MEASURES}
            for row in progress["villages"] if row["village_id"] in direct} == direct
    db.session.rollback()
    return {"progress": progress, "workers": workers, "days": days, "follow_up": follow, "rows": households,
            "worker_rows": per_worker}


def assert_equals_rebuild(campaign_id: str = CAMPAIGN) -> dict[str, Any]:
    kept = snapshot(campaign_id)
    done = rollup.rebuild(db.session, campaign_id)
    assert done.full
    rebuilt = snapshot(campaign_id)
    assert kept == rebuilt
    return rebuilt


def incremental_refresh(campaign_id: str = CAMPAIGN) -> rollup.Refresh:
    done = rollup.refresh(db.session, campaign_id)
    assert not done.full and done.households > 0, done
    return done


def village(numbers: dict[str, Any], index: int) -> dict[str, Any]:
    return numbers["progress"]["villages"][index]


def visit_uuids(household_id: str) -> list[str]:
    uuids = list(db.session.scalars(sa.select(Visit.uuid).where(Visit.household_id == household_id)
                                    .order_by(Visit.server_seq)))
    db.session.rollback()
    return uuids


def test_refresh_follows_pushes_reviews_merges_and_undo(backend: str, town: factories.SmallTown,
                                                        client: FlaskClient) -> None:
    a1, a2, a3 = town.households_a
    b1, _b2 = town.households_b
    duplicate = factories.make_household(town.village_a, "陈秀英")
    duplicate.source, duplicate.code = "field", None
    candidate = factories.make_candidate(a3, duplicate, campaign=town.campaign)
    db.session.commit()
    first = rollup.refresh(db.session, CAMPAIGN)
    assert first.full and first.households == 6  # five roster households and the duplicate

    api = Api(client)
    api.push_ok(api.login("worker_a"), [record(a1, **LOW_INCOME), record(a2), record(duplicate)])
    api.push_ok(api.login("worker_b", device_id="device-2"), [record(b1)], device_id="device-2")
    incremental_refresh()
    numbers = assert_equals_rebuild()
    assert (village(numbers, 0)["households"], village(numbers, 0)["visited"]) == (4, 3)
    assert village(numbers, 0)["below_monitoring_line"] == 1
    assert numbers["follow_up"]["below_monitoring_line"] == [a1.id]

    visits.approve_visits(town.supervisor_a, visit_uuids(a1.id))
    visits.return_visits(town.supervisor_a, visit_uuids(a2.id), "请补充收入")
    incremental_refresh()
    numbers = assert_equals_rebuild()
    assert (village(numbers, 0)["visited"], village(numbers, 0)["approved"]) == (2, 1)

    merge = merges.merge_households(town.supervisor_a, candidate.id, a3.id)
    incremental_refresh()
    numbers = assert_equals_rebuild()
    # The duplicate's visit moved to 陈秀英 (a3): one household fewer, still two visited.
    assert (village(numbers, 0)["households"], village(numbers, 0)["visited"]) == (3, 2)

    merges.undo_merge(town.admin, merge.id)
    incremental_refresh()
    numbers = assert_equals_rebuild()
    assert (village(numbers, 0)["households"], village(numbers, 0)["visited"]) == (4, 2)
    assert numbers["progress"]["totals"]["visited"] == 3


def test_a_refresh_after_no_change_touches_nothing(backend: str, town: factories.SmallTown,
                                                   client: FlaskClient) -> None:
    api = Api(client)
    api.push_ok(api.login("worker_a"), [record(town.households_a[0])])
    rollup.refresh(db.session, CAMPAIGN)
    cursor = db.session.get(ReportCursor, CAMPAIGN)
    assert cursor is not None and cursor.change_seq is not None and cursor.change_seq > 0
    seen = (cursor.change_seq, cursor.refreshed_at)
    before = snapshot()
    db.session.rollback()
    done = rollup.refresh(db.session, CAMPAIGN)
    assert (done.full, done.households, done.change_seq) == (False, 0, seen[0])
    cursor = db.session.get(ReportCursor, CAMPAIGN, populate_existing=True)
    assert cursor is not None and (cursor.change_seq, cursor.refreshed_at) == seen  # no write at all
    assert snapshot() == before


def test_a_second_campaign_is_independent(backend: str, town: factories.SmallTown, client: FlaskClient) -> None:
    factories.make_campaign("2022-jzpc", active=False)
    db.session.commit()
    assert rollup.refresh(db.session, "2022-jzpc").full
    assert rollup.refresh(db.session, CAMPAIGN).full
    api = Api(client)
    api.push_ok(api.login("worker_a"), [record(h) for h in town.households_a])
    assert snapshot(CAMPAIGN)["progress"]["totals"]["visited"] == 3
    other = snapshot("2022-jzpc")
    assert other["progress"]["totals"]["visited"] == 0 and other["progress"]["totals"]["households"] == 5
    cursors = dict(db.session.execute(sa.select(ReportCursor.campaign_id, ReportCursor.change_seq)).all())
    assert cursors[CAMPAIGN] == cursors["2022-jzpc"] > 0  # each followed the pushes on its own
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(HouseholdProgress)
                             .where(HouseholdProgress.campaign_id == CAMPAIGN))
    db.session.rollback()
    rollup.rebuild(db.session, "2022-jzpc")
    assert snapshot(CAMPAIGN)["progress"]["totals"]["visited"] == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HouseholdProgress)
                             .where(HouseholdProgress.campaign_id == CAMPAIGN)) == rows == 5
    assert_equals_rebuild("2022-jzpc")


def test_two_refreshes_at_once_agree_with_a_rebuild(backend: str, town: factories.SmallTown,
                                                    client: FlaskClient) -> None:
    api = Api(client)
    token = api.login("worker_a")
    api.push_ok(token, [record(town.households_a[0])])
    rollup.refresh(db.session, CAMPAIGN)
    api.push_ok(token, [record(h, **LOW_INCOME) for h in town.households_a])
    barrier = threading.Barrier(2)
    results: list[rollup.Refresh] = []
    errors: list[BaseException] = []
    engine = db.engine  # the threads have no app context

    def run() -> None:
        with Session(engine) as session:
            barrier.wait()
            try:
                results.append(rollup.refresh(session, CAMPAIGN))
            except BaseException as exc:  # reported below
                errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and len(results) == 2
    # One recomputed the pushed households; the other waited for it and found nothing left.
    assert sorted(r.households for r in results)[0] == 0 and max(r.households for r in results) == 3
    assert assert_equals_rebuild()["progress"]["totals"]["below_monitoring_line"] == 3


def test_village_sums_have_the_progress_table_columns() -> None:
    names = {c.name for c in VillageProgress.__table__.c} - {"campaign_id", "village_id"}
    assert tuple(rollup.MEASURES) == queries.COUNT_FIELDS and names == set(queries.COUNT_FIELDS)


def test_cli_rebuild(backend: str, town: factories.SmallTown, runner: FlaskCliRunner) -> None:
    factories.make_visit(town.households_b[0], town.worker_b, town.campaign, server_seq=1)
    db.session.commit()
    result = runner.invoke(args=["report", "rebuild", "--campaign", CAMPAIGN])
    assert result.exit_code == 0, result.output
    assert "5 户" in result.output
    assert snapshot()["progress"]["totals"]["visited"] == 1
    result = runner.invoke(args=["report", "rebuild", "--campaign", "no-such"])
    assert result.exit_code != 0 and "排查活动不存在" in result.output
