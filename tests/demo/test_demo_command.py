"""``fieldapp demo`` refuses a database that holds other data, and checks its options."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import Household, Town
from tests.conftest import make_test_app


def test_demo_refuses_a_database_with_other_data(tmp_path: Path) -> None:
    app = make_test_app(f"sqlite:///{tmp_path / 'other.db'}", tmp_path / "instance")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    created = runner.invoke(args=["user", "create", "someone", "--role", "admin", "--password-stdin"],
                            input="a-long-password\n")
    assert created.exit_code == 0, created.output
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 1
    assert "数据库中已有其他数据，不能生成演示数据" in result.stderr
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Town)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Household)) == 0
        db.engine.dispose()


def test_visits_fraction_must_be_a_share(tmp_path: Path) -> None:
    app = make_test_app(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "instance")
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve", "--visits", "1.5"])
    assert result.exit_code == 2
    assert "--visits" in result.stderr
