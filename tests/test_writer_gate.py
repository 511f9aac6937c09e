"""The SQLite writer gate: held from BEGIN IMMEDIATE to the end of the transaction,
by one writer at a time, in this process and across processes."""

from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from fieldapp.db import engine as database
from fieldapp.extensions import db
from fieldapp.models import Town
from tests.conftest import make_test_app


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Flask]:
    app = make_test_app(f"sqlite:///{tmp_path / 'gate.db'}", tmp_path / "instance")
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def gate_is_free(app: Flask) -> bool:
    """Try the gate's flock from a file description of our own."""
    path = f"{app.config['SQLALCHEMY_DATABASE_URI'].removeprefix('sqlite:///')}.lock"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)
    return True


@pytest.mark.parametrize("ending", ["commit", "rollback", "close"])
def test_gate_is_held_for_the_write_transaction_only(sqlite_app: Flask, ending: str) -> None:
    with sqlite_app.app_context():
        assert gate_is_free(sqlite_app)
        database.begin_write(db.session)
        db.session.add(Town(name="保安镇", code="420281101", county="大冶市"))
        db.session.flush()
        assert not gate_is_free(sqlite_app)
        getattr(db.session, ending)()
        assert gate_is_free(sqlite_app)


def test_a_failed_begin_gives_the_gate_back(sqlite_app: Flask, tmp_path: Path) -> None:
    app = make_test_app(sqlite_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "instance",
                        SQLITE_BUSY_TIMEOUT_MS=200)
    outsider = sqlite3.connect(str(tmp_path / "gate.db"), isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")  # a program that does not use the gate
    try:
        with app.app_context():
            with pytest.raises(sa.exc.OperationalError):
                database.begin_write(db.session)
                db.session.execute(sa.text("SELECT 1"))
            db.session.rollback()
            assert gate_is_free(app)
    finally:
        outsider.rollback()
        outsider.close()


def test_writers_in_one_process_take_turns(sqlite_app: Flask) -> None:
    order: list[str] = []
    first_inside = threading.Event()

    def second_writer() -> None:
        with sqlite_app.app_context():
            first_inside.wait(5)
            database.begin_write(db.session)
            db.session.execute(sa.text("SELECT 1"))
            order.append("second in")
            db.session.commit()

    thread = threading.Thread(target=second_writer)
    thread.start()
    with sqlite_app.app_context():
        database.begin_write(db.session)
        db.session.execute(sa.text("SELECT 1"))
        first_inside.set()
        time.sleep(0.3)  # the second writer is waiting at the gate meanwhile
        order.append("first out")
        db.session.commit()
    thread.join(10)
    assert order == ["first out", "second in"]


HOLDER = """
import sys, time
sys.path.insert(0, {root!r})
from tests.conftest import make_test_app
from fieldapp.db import engine as database
from fieldapp.extensions import db
import sqlalchemy as sa
app = make_test_app({url!r}, __import__("pathlib").Path({instance!r}))
with app.app_context():
    database.begin_write(db.session)
    db.session.execute(sa.text("SELECT 1"))
    print("holding", flush=True)
    time.sleep(60)
"""


def test_a_killed_writer_does_not_leave_the_gate_shut(sqlite_app: Flask, tmp_path: Path) -> None:
    script = HOLDER.format(root=str(Path(__file__).resolve().parents[1]),
                           url=sqlite_app.config["SQLALCHEMY_DATABASE_URI"], instance=str(tmp_path / "instance"))
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        assert not gate_is_free(sqlite_app)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        assert gate_is_free(sqlite_app)
        with sqlite_app.app_context():
            database.begin_write(db.session)
            db.session.add(Town(name="保安镇", code="420281101", county="大冶市"))
            db.session.commit()
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Town)) == 1
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
