"""Change numbers on PostgreSQL (``fieldapp/db/changes.py``): writers take their numbers in
a short transaction of their own and commit in any order; a reader's bound never passes
a number whose transaction has not committed, and passes one whose transaction aborted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from fieldapp.db import changes
from fieldapp.extensions import db
from fieldapp.models import ChangeReservation


@pytest.fixture
def engine(app: Flask) -> Iterator[sa.Engine]:
    with app.app_context():
        yield db.engine


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_the_bound_stops_before_a_transaction_still_open_whatever_commits_after_it(
        backend: str, engine: sa.Engine) -> None:
    with engine.begin() as setup:
        assert changes.next_change(setup, 3) == 1
    reader = engine.connect()
    slow, fast = engine.connect(), engine.connect()
    try:
        slow.begin()
        assert changes.next_change(slow, 2) == 4  # numbers 4 and 5, not committed yet
        with fast.begin():
            assert changes.next_change(fast, 2) == 6  # taken without waiting for ``slow``
        assert changes.current_change(reader) == 3  # 6 and 7 are committed, 4 is not: stop at 3
        reader.rollback()
        slow.commit()
        assert changes.current_change(reader) == 7
        reader.rollback()
        assert reader.scalar(sa.select(sa.func.count()).select_from(ChangeReservation)) == 0
    finally:
        for connection in (reader, slow, fast):
            connection.close()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_an_aborted_transaction_holds_nothing_up_and_its_reservation_is_cleared(
        backend: str, engine: sa.Engine) -> None:
    with engine.connect() as failed:
        failed.begin()
        assert changes.next_change(failed, 5) == 1
        failed.rollback()
    with engine.connect() as reader:
        assert changes.current_change(reader) == 5  # the gap 1..5 is passed
        reader.rollback()
        assert reader.scalar(sa.select(sa.func.count()).select_from(ChangeReservation)) == 1
        reader.rollback()
    with engine.begin() as writer:
        assert changes.next_change(writer, 1) == 6
    with engine.connect() as reader:
        assert reader.scalars(sa.select(ChangeReservation.first)).all() == []
        assert changes.current_change(reader) == 6


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_numbers_are_consecutive_and_the_bound_follows_commits(backend: str, engine: sa.Engine) -> None:
    with engine.begin() as writer:
        assert changes.next_change(writer, 1) == 1
        assert changes.next_change(writer, 4) == 2
    with engine.connect() as reader:
        assert changes.current_change(reader) == 5
