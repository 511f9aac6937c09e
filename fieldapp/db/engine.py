"""Engine set-up per backend, and the write-transaction helper.

SQLite is opened in WAL mode with foreign keys and a busy timeout. pysqlite's
own transaction handling is switched off so that we emit BEGIN ourselves:
a write use case starts with ``BEGIN IMMEDIATE`` (``begin_write``), taking
the write lock up front instead of upgrading a read lock later, which is what
makes concurrent writers wait (busy timeout) rather than fail with
"database is locked" half way. Writers queue at a gate first
(``fieldapp/db/writer_gate.py``), so the next one starts the moment the lock
is free instead of at SQLite's next busy-handler retry.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

from fieldapp.db import checkpointer, writer_gate

AnySession = Session | scoped_session[Any]  # a Session, or Flask-SQLAlchemy's db.session
_BEGIN_OPTION = "fieldapp_begin"


def _checkpoints_in_background(app: Flask, gate: writer_gate.WriterGate | None) -> checkpointer.Checkpointer | None:
    """The checkpoint thread of this process, if the app is configured for one
    (``SQLITE_CHECKPOINT = "background"``) and the database is a file (it has a gate)."""
    mode = app.config["SQLITE_CHECKPOINT"]
    if mode not in ("commit", "background"):
        raise ValueError(f"SQLITE_CHECKPOINT must be 'commit' or 'background', not {mode!r}")
    if mode == "commit" or gate is None:
        return None
    return checkpointer.checkpointer_for(gate.database_path)


def configure_engine(app: Flask, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    timeout_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
    gate = writer_gate.gate_for(engine.url.database)
    background = _checkpoints_in_background(app, gate)

    @sa.event.listens_for(engine, "do_connect")
    def _gated_connection_class(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["factory"] = writer_gate.GatedConnection

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.gate = gate
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        if background is not None:
            cursor.execute("PRAGMA wal_autocheckpoint = 0")
            dbapi_connection.after_write = background.nudge
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "")
        if mode != "IMMEDIATE":
            connection.exec_driver_sql(f"BEGIN {mode}".strip())
            return
        # the do_connect hook above makes every SQLite connection of this engine a GatedConnection
        dbapi_connection = cast(writer_gate.GatedConnection, connection.connection.dbapi_connection)
        dbapi_connection.enter(timeout_ms / 1000)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_connection.leave()
            raise


def _isolated(session: Session) -> bool:
    """Whether the session's transaction runs at an isolation level of its own."""
    return "isolation_level" in session.connection().get_execution_options()


def _resolved(session: Session | scoped_session[Any]) -> Session:
    """The session itself, or the current session of a scoped one (``db.session``)."""
    return session() if isinstance(session, scoped_session) else session


def begin_write(session: Session | scoped_session[Any]) -> None:
    """Start the session's transaction as a writer.

    SQLite: ``BEGIN IMMEDIATE``; a read transaction already open is ended
    first (a stale snapshot could not take the write lock). PostgreSQL needs
    nothing here; writers lock the rows they change (``SELECT ... FOR UPDATE``
    where order matters), and an open READ COMMITTED transaction simply goes
    on as the writer (its objects expired, as by a commit): ending it would
    hand the connection back to the pool and take it out again, a ping and
    three round trips for nothing.
    Call before the first query of a write use case; the session must have
    no pending changes. Takes a session or Flask-SQLAlchemy's ``db.session``
    (a scoped session).
    """
    session = _resolved(session)
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write called inside a transaction with pending changes")
        if session.get_bind().dialect.name == "postgresql" and not _isolated(session):
            session.expire_all()  # as a commit would: objects read before are read again
            return
        session.commit()
    session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})


def plan_each_statement(session: AnySession) -> None:
    """For the rest of the transaction, PostgreSQL plans each statement for its own values.

    psycopg prepares a statement a connection runs five times, and PostgreSQL may then
    switch to one generic plan for any values. For statements over a list of up to a
    thousand ids or a range of change numbers, the generic plan was a sequential scan:
    the report follower's step went from 0.9 s to 5-9 s after its seventh step on a
    county's 137,000 households, and catching up after ten towns took over ten minutes.
    No-op on SQLite, which plans every statement anew.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))


@contextmanager
def write_transaction(session: Session | scoped_session[Any]) -> Iterator[Session]:
    """One write use case: :func:`begin_write`, then commit when the block ends,
    or roll back when anything escapes it (a refusal half way leaves nothing behind).

    Yields the plain session (a scoped session is resolved).
    """
    session = _resolved(session)
    begin_write(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
