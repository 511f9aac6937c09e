"""Done-when: a 13,740-row roster file and the demo command both give the reference figures
exactly (by village, 户类型, 监测对象类别 and 风险已消除, 户 and 人), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from fieldapp.demo.build import CAMPAIGN_ID, PASSWORDS, demo_logins
from fieldapp.demo.generator import expected_counts, generate_town, write_town_roster
from fieldapp.demo.places import PLACES, TOWN_CODE, TOWN_NAME
from fieldapp.demo.summary import figures, town_counts
from fieldapp.extensions import db
from fieldapp.models import Campaign, Household, HouseholdRevision, Town, User, Village
from fieldapp.roster import import_roster
from tests.conftest import make_test_app
from tests.demo.test_generator import REFERENCE

pytestmark = [pytest.mark.both_backends, pytest.mark.slow]


def test_importing_the_town_roster_file_gives_the_reference_counts(app: Flask, tmp_path: Path) -> None:
    households = generate_town(2023)
    path = write_town_roster(tmp_path / "保安镇花名册.csv", households=households)
    with app.app_context():
        result = import_roster(path)
        assert result.imported and not result.errors and result.created == 13_740
        counts = town_counts(db.session, TOWN_NAME)
        assert counts == expected_counts(households)
        assert figures(counts).line() == REFERENCE
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HouseholdRevision)) == 13_740
        seqs = db.session.scalars(sa.select(Household.change_seq)).all()
        assert len(set(seqs)) == 13_740


def test_demo_command_builds_the_reference_town(database_url: str, tmp_path: Path) -> None:
    app = make_test_app(database_url, tmp_path / "instance")  # an empty database: demo runs the migrations
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--no-serve", "--seed", "2023"])
    assert result.exit_code == 0, result.output
    assert REFERENCE in result.stdout
    for login in demo_logins(2023):
        assert f"{login.username:<22} 密码 {login.password}" in result.stdout
    with app.app_context():
        assert town_counts(db.session, TOWN_NAME) == expected_counts(generate_town(2023))
        town = db.session.scalar(sa.select(Town))
        assert (town.name, town.code, town.county) == (TOWN_NAME, TOWN_CODE, "大冶市")
        villages = {v.name: v for v in db.session.scalars(sa.select(Village))}
        assert {name: (v.code, v.kind) for name, v in villages.items()} == {
            p.name: (p.full_code, p.kind) for p in PLACES}
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
        db.session.remove()
        db.engine.dispose()

    again = runner.invoke(args=["demo", "--no-serve"])
    assert again.exit_code == 0, again.output
    assert "数据库中已有演示乡镇 保安镇，直接使用" in again.stdout
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Household)) == 13_740
        db.session.remove()
        db.engine.dispose()
