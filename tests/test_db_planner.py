"""What PostgreSQL's planner is given: statistics kept current by the server
(``fieldapp/db/statistics.py``: a table filled since its last ANALYZE is analysed once, by
one process at a time; nothing on SQLite), and a plan per statement where a generic one
goes wrong (``plan_each_statement``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from fieldapp.db import plan_each_statement, statistics, write_transaction
from fieldapp.extensions import db
from fieldapp.models import ChangeReservation


@pytest.fixture
def filled(app: Flask) -> Iterator[None]:
    """3,000 rows written into ``change_reservations`` and reported to the statistics."""
    with app.app_context():
        db.session.execute(sa.insert(ChangeReservation), [
            {"first": n, "last": n, "xact": n} for n in range(1, 3001)])
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("SELECT pg_stat_force_next_flush()"))
        db.session.commit()
        yield
        db.session.remove()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_table_filled_since_its_last_analyze_is_analysed_once(backend: str, filled: None) -> None:
    assert "change_reservations" in statistics.stale_tables(db.session)
    db.session.rollback()
    assert "change_reservations" in statistics.analyze_stale(db.session)
    analysed = db.session.scalar(sa.text(
        "SELECT last_analyze FROM pg_stat_user_tables "
        "WHERE relname = 'change_reservations' AND schemaname = current_schema()"))
    assert analysed is not None
    db.session.rollback()
    assert "change_reservations" not in statistics.analyze_stale(db.session)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_while_another_process_analyses_this_one_skips(backend: str, filled: None) -> None:
    other = db.engine.connect()
    try:
        other.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": statistics.ADVISORY_KEY})
        assert statistics.analyze_stale(db.session) == []
        other.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": statistics.ADVISORY_KEY})
        other.commit()
    finally:
        other.close()
    assert "change_reservations" in statistics.analyze_stale(db.session)


def test_sqlite_has_nothing_to_analyse(filled: None) -> None:
    assert statistics.stale_tables(db.session) == []
    assert statistics.analyze_stale(db.session) == []


@pytest.mark.both_backends
def test_plan_each_statement_lasts_for_its_transaction(backend: str, app: Flask) -> None:
    with app.app_context():
        def mode() -> str:
            return str(db.session.scalar(sa.text("SHOW plan_cache_mode")))

        with write_transaction(db.session):
            plan_each_statement(db.session)  # on SQLite nothing to set, and no error
            if backend == "postgres":
                assert mode() == "force_custom_plan"
        if backend == "postgres":
            assert mode() == "auto"
        db.session.remove()
