"""SQLite checkpoints in the background: the app's connections stop checkpointing in
their commits, and a thread of the process copies the log into the database file
soon after each write; ``fieldapp serve`` runs that way."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from fieldapp.db import engine as database
from fieldapp.db.checkpointer import checkpointer_for
from fieldapp.extensions import db
from fieldapp.models import Town
from tests import factories
from tests.api.conftest import record
from tests.conftest import make_test_app
from tests.live import LiveServer


def schema_into_file() -> None:
    """Checkpoint once by hand, so the file holds the tables and only later rows are in the log."""
    db.session.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    db.session.rollback()


def rows_in_database_file(path: Path, table: str) -> int:
    """Rows of ``table`` in the database file itself, the log left out (immutable mode
    reads the file as it is)."""
    connection = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.DatabaseError:  # a page caught half-copied by a checkpoint: look again
        return -1
    finally:
        connection.close()


def wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_background_mode_checkpoints_after_a_write_commit(tmp_path: Path) -> None:
    path = tmp_path / "bg.db"
    app = make_test_app(f"sqlite:///{path}", tmp_path / "instance", SQLITE_CHECKPOINT="background")
    with app.app_context():
        db.create_all()
        assert db.session.execute(sa.text("PRAGMA wal_autocheckpoint")).scalar() == 0
        schema_into_file()
        before = checkpointer_for(str(path)).checkpoints
        database.begin_write(db.session)
        db.session.add(Town(name="保安镇", code="420281101", county="大冶市"))
        db.session.commit()
        try:
            assert wait_for(lambda: rows_in_database_file(path, "towns") == 1)
            assert checkpointer_for(str(path)).checkpoints > before
        finally:
            db.engine.dispose()
            checkpointer_for(str(path)).stop()


def test_commit_mode_leaves_checkpoints_to_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "commit.db"
    app = make_test_app(f"sqlite:///{path}", tmp_path / "instance")
    with app.app_context():
        db.create_all()
        assert db.session.execute(sa.text("PRAGMA wal_autocheckpoint")).scalar() == 1000
        schema_into_file()
        database.begin_write(db.session)
        db.session.add(Town(name="保安镇", code="420281101", county="大冶市"))
        db.session.commit()
        time.sleep(0.3)
        assert rows_in_database_file(path, "towns") == 0, "a small write stays in the log"
        db.engine.dispose()


def test_an_unknown_checkpoint_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SQLITE_CHECKPOINT"):
        make_test_app(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "instance", SQLITE_CHECKPOINT="sometimes")


def test_fieldapp_serve_checkpoints_pushed_visits_into_the_file(tmp_path: Path) -> None:
    path = tmp_path / "served.db"
    url = f"sqlite:///{path}"
    app = make_test_app(url, tmp_path / "instance")
    with app.app_context():
        db.create_all()
        records = [record(h) for h in factories.SmallTown().households_a]
        db.engine.dispose()
    server = LiveServer(url, tmp_path / "live").start()
    try:
        token = requests.post(f"{server.url}/api/v1/auth/token", json={
            "username": "worker_a", "password": factories.PASSWORD, "device_id": "phone-1"}, timeout=30).json()["token"]
        response = requests.post(f"{server.url}/api/v1/sync/push", headers={"Authorization": f"Bearer {token}"},
                                 json={"batch_id": "bg-1", "device_id": "phone-1", "records": records}, timeout=30)
        assert response.status_code == 200
        assert {r["status"] for r in response.json()["results"]} == {"accepted"}
        assert wait_for(lambda: rows_in_database_file(path, "visits") == len(records))
    finally:
        server.stop()
