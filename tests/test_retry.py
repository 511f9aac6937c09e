"""A transaction PostgreSQL aborts as a deadlock victim runs again (fieldapp/db/retry.py),
as central does with a town's page (replication/central.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from fieldapp.db.retry import is_retryable, run_again_if_aborted


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """A table of two rows in the test's own PostgreSQL schema."""
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE retry_probe (id int PRIMARY KEY, n int)"))
        connection.execute(sa.text("INSERT INTO retry_probe VALUES (1, 0), (2, 0)"))
    yield engine
    engine.dispose()


@pytest.fixture
def backend() -> str:
    return "postgres"


def test_the_deadlock_victim_runs_again_and_both_transactions_land(engine: sa.Engine) -> None:
    both_hold_one = threading.Barrier(2, timeout=10)
    attempts: list[str] = []
    errors: list[BaseException] = []

    def transfer(name: str, first: int, second: int) -> None:
        connection = engine.connect()

        def work() -> None:
            attempts.append(name)
            connection.execute(sa.text("UPDATE retry_probe SET n = n + 1 WHERE id = :id"), {"id": first})
            if attempts.count(name) == 1:
                both_hold_one.wait()  # the first time, each holds one row and wants the other's
            connection.execute(sa.text("UPDATE retry_probe SET n = n + 1 WHERE id = :id"), {"id": second})
            connection.commit()

        try:
            run_again_if_aborted(work, rollback=connection.rollback, what=name)
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=transfer, args=("a", 1, 2)), threading.Thread(target=transfer, args=("b", 2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(attempts) == 3  # one of the two was the deadlock victim and ran again
    with engine.connect() as connection:
        assert dict(connection.execute(sa.text("SELECT id, n FROM retry_probe")).all()) == {1: 2, 2: 2}


def test_other_database_errors_are_not_run_again(engine: sa.Engine) -> None:
    calls = []

    def work() -> None:
        calls.append(1)
        with engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO retry_probe VALUES (1, 0)"))

    with pytest.raises(sa.exc.IntegrityError) as raised:
        run_again_if_aborted(work, rollback=lambda: None)
    assert calls == [1] and not is_retryable(raised.value)
