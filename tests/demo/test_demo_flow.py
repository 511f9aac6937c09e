"""``fieldapp demo`` on an empty database, then ``--visits`` on the same town, on SQLite and
PostgreSQL: the reference figures exactly, the logins, the campaign, and visits pushed through
the real ingest (offline conflicts, duplicate new households, review) that leave the roster
figures untouched. One town build per backend."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from fieldapp.demo.build import CAMPAIGN_ID, PASSWORDS, demo_logins
from fieldapp.demo.generator import expected_counts, generate_town
from fieldapp.demo.places import PLACES, TOWN_CODE, TOWN_NAME
from fieldapp.demo.summary import town_counts
from fieldapp.extensions import db
from fieldapp.models import (
    AuditLog,
    Campaign,
    Conflict,
    DuplicateCandidate,
    Household,
    SyncBatch,
    Town,
    User,
    Village,
    Visit,
)
from tests.conftest import make_test_app
from tests.demo.test_generator import REFERENCE

pytestmark = [pytest.mark.both_backends, pytest.mark.slow]


def count(*where: object, model: type = Visit) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)


def check_town_and_logins() -> None:
    assert town_counts(db.session, TOWN_NAME) == expected_counts(generate_town(2023))
    town = db.session.scalar(sa.select(Town))
    assert (town.name, town.code, town.county) == (TOWN_NAME, TOWN_CODE, "大冶市")
    villages = {v.name: v for v in db.session.scalars(sa.select(Village))}
    assert {name: (v.code, v.kind) for name, v in villages.items()} == {p.name: (p.full_code, p.kind) for p in PLACES}
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    assert len(users) == 32
    assert users["admin"].role == "admin" and users["admin"].check_password(PASSWORDS["admin"])
    assert users["supervisor"].role == "supervisor" and len(users["supervisor"].villages) == 30
    worker = users["worker_zhaoshan"]
    assert worker.role == "worker" and [v.name for v in worker.villages] == ["沼山村"]
    assert worker.check_password(PASSWORDS["worker"])
    assert sorted(v.name for u in users.values() if u.role == "worker" for v in u.villages) == sorted(villages)
    campaign = db.session.get(Campaign, CAMPAIGN_ID)
    assert (campaign.name, str(campaign.start_date), str(campaign.end_date)) == (
        "2023年防止返贫监测帮扶集中排查", "2023-10-01", "2023-11-30")
    assert campaign.active and campaign.monitoring_line == 7600


def check_visits(visits: int) -> None:
    assert visits >= round(13_740 * 0.02) + 2 + 7  # + the conflicting second phones + duplicate new households
    assert count(model=SyncBatch) >= 30  # every village's worker pushed
    assert "demo-worker_zhaoshan-1" in set(db.session.scalars(sa.select(Visit.device_id).distinct()))

    # Offline conflicts: the second phone's number kept for a supervisor to decide.
    conflicts = db.session.scalars(sa.select(Conflict)).all()
    assert len(conflicts) == 2 and {c.field for c in conflicts} == {"phone"}
    for conflict in conflicts:
        household = db.session.get(Household, conflict.household_id)
        assert household.rev == 2 and household.phone == conflict.current_value
        assert conflict.incoming_value != conflict.current_value
    assert count(Visit.sync_status == "conflict") == 2
    changed = db.session.scalars(sa.select(Household.id).where(Household.source == "roster", Household.rev > 1))
    assert set(changed) == {c.household_id for c in conflicts}

    # Duplicate new households: at least the exact-ID ones are flagged.
    assert count(Household.source == "field", model=Household) == 7
    assert count(Visit.sync_status == "duplicate_suspected") >= 4
    assert count(model=DuplicateCandidate) >= 4

    # Review: approved, returned with a comment, corrected and resent.
    assert count(Visit.review_status == "approved") > visits * 0.3
    returned = db.session.scalars(sa.select(Visit).where(Visit.review_status.in_(("returned", "superseded")))).all()
    assert returned and all(v.review_comment for v in returned)
    superseded = [v.uuid for v in returned if v.review_status == "superseded"]
    assert superseded
    assert count(Visit.supersedes.in_(superseded)) == len(superseded)
    assert count(AuditLog.action == "visit_return", model=AuditLog) == len(returned)

    # Realistic answers: every visit valid, some under the line, some flagged for attention.
    assert count(Visit.below_monitoring_line.is_(True)) >= 1
    assert count(Visit.needs_attention.is_(True)) >= 1
    assert count(Visit.conclusion == "suggest_monitor") >= 1
    assert count(Visit.visit_method == "in_person") > visits * 0.6
    signed = db.session.scalar(sa.select(Visit).where(Visit.visit_method == "in_person").limit(1))
    assert signed.data["signature"].startswith("data:image/png;base64,")
    assert all(v.visited_on.isoformat() >= "2023-10-01" for v in db.session.scalars(sa.select(Visit)))


def test_demo_builds_the_reference_town_then_simulates_visits(database_url: str, tmp_path: Path) -> None:
    app = make_test_app(database_url, tmp_path / "instance")  # an empty database: demo runs the migrations
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--no-serve", "--seed", "2023"])
    assert result.exit_code == 0, result.output
    assert REFERENCE in result.stdout
    for login in demo_logins(2023):
        assert f"{login.username:<22} 密码 {login.password}" in result.stdout
    with app.app_context():
        check_town_and_logins()
        assert count() == 0
        db.session.remove()
        db.engine.dispose()

    with_visits = runner.invoke(args=["demo", "--no-serve", "--visits", "0.02"])
    assert with_visits.exit_code == 0, with_visits.output
    assert "数据库中已有演示乡镇 保安镇，直接使用" in with_visits.stdout
    assert "模拟走访" in with_visits.stdout and "rejected" not in with_visits.stdout
    assert "（已接收 " in with_visits.stdout and "accepted" not in with_visits.stdout  # issue 17, item 19
    assert REFERENCE in with_visits.stdout
    with app.app_context():
        visits = count()
        check_visits(visits)
        check_town_and_logins()  # the roster figures are still exactly the reference ones
        db.session.remove()
        db.engine.dispose()

    again = runner.invoke(args=["demo", "--no-serve", "--visits", "0.5"])
    assert again.exit_code == 0, again.output
    assert f"已有 {visits} 条走访记录，不再模拟走访" in again.stdout
