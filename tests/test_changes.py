"""The pull sequence: the first change of a new database, taken by two writers at once."""

from __future__ import annotations

import threading

import pytest
from flask import Flask

from fieldapp.db import write_transaction
from fieldapp.db.changes import current_change, next_change
from fieldapp.extensions import db

pytestmark = pytest.mark.both_backends


def test_two_first_writers_of_a_new_database_both_get_numbers(app: Flask) -> None:
    """Towns replicating into a fresh central all take their first numbers at once."""
    got: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer() -> None:
        try:
            with app.app_context():
                start.wait()
                with write_transaction(db.session) as session:
                    got.append(next_change(session, 5))
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and sorted(got) == [1, 6]
    with app.app_context():
        assert current_change(db.session) == 10
