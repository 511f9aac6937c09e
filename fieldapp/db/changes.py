"""The pull sequence (change numbers): taken by every writing transaction for the rows it
writes, read by pulls, the replication feed, the report rollups and central's dedup as
"everything numbered up to here is committed".

SQLite (one writer at a time): the counter row is incremented inside the writing
transaction, so its value is always the last committed number.

PostgreSQL (central takes pages of ten towns at once): incrementing the counter inside
the writing transaction would hold its row lock to commit and make every writer wait
for the one before it. Instead a writer takes its numbers in a short transaction of its
own that also records a **reservation** (``change_reservations``: the numbers and the
writer's transaction id); the writer deletes the reservation in its own transaction, so
the reservation disappears exactly when the rows appear. A reader's bound is the
counter's value, or one below the first reservation still standing in its snapshot,
whichever is lower: every number up to the bound is committed and visible, whatever
order the writers commit in. A writer that aborts leaves its reservation behind; its
transaction id says it aborted, so readers pass it and the next writer clears it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from fieldapp.db.engine import AnySession
from fieldapp.models import ChangeCounter, ChangeReservation

COUNTER = "pull"
_NOT_ABORTED = sa.text("pg_xact_status(change_reservations.xact::text::xid8) <> 'aborted'")
_ABORTED = sa.text("coalesce(pg_xact_status(change_reservations.xact::text::xid8), 'aborted') = 'aborted'")


Writer = AnySession | sa.Connection
_COUNTER_VALUE = sa.select(ChangeCounter.value).where(ChangeCounter.name == COUNTER)


def _dialect(session: Writer) -> str:
    return session.dialect.name if isinstance(session, sa.Connection) else session.get_bind().dialect.name


def _engine(session: Writer) -> sa.Engine:
    bind = session if isinstance(session, sa.Connection) else session.get_bind()
    return bind.engine if isinstance(bind, sa.Connection) else bind


def _increment(connection: Writer, count: int, postgres: bool) -> int:
    """Add ``count`` to the counter (made on the first change of a new database); the new value."""
    update = (sa.update(ChangeCounter).where(ChangeCounter.name == COUNTER)
              .values(value=ChangeCounter.value + count).returning(ChangeCounter.value))
    result = connection.execute(update).scalar_one_or_none()
    if result is None:
        # Two writers may get here at once (towns replicating into a fresh central), so
        # the row is made without a conflict.
        insert = postgresql.insert if postgres else sqlite.insert
        connection.execute(insert(ChangeCounter).values(name=COUNTER, value=0).on_conflict_do_nothing())
        result = connection.execute(update).scalar_one()
    return int(result)


def next_change(session: Writer, count: int = 1) -> int:
    """Reserve ``count`` consecutive change numbers for the session's transaction; the first."""
    if _dialect(session) != "postgresql":
        return _increment(session, count, postgres=False) - count + 1
    xact = int(session.execute(sa.text("SELECT pg_current_xact_id()::text::bigint")).scalar_one())
    with _engine(session).begin() as aside:  # the counter's row lock only for this short transaction
        last = _increment(aside, count, postgres=True)
        first = last - count + 1
        aside.execute(sa.delete(ChangeReservation).where(_ABORTED))
        aside.execute(sa.insert(ChangeReservation).values(first=first, last=last, xact=xact))
    session.execute(sa.delete(ChangeReservation).where(ChangeReservation.first == first))
    return first


@lru_cache(maxsize=2)
def current_query(dialect: str) -> sa.Select[Any]:
    """The bound as a query (no row before the first change); a query may take it as a subquery."""
    if dialect != "postgresql":
        return _COUNTER_VALUE
    standing = sa.select(sa.func.min(ChangeReservation.first) - 1).where(_NOT_ABORTED).scalar_subquery()
    return (sa.select(sa.func.least(ChangeCounter.value, sa.func.coalesce(standing, ChangeCounter.value)))
            .where(ChangeCounter.name == COUNTER))


def last_taken(session: Writer) -> int:
    """The last change number handed out, committed or not: it stands still only once the
    writers pause (a reader's bound also stands still while one writer's transaction is slow)."""
    return int(session.scalar(_COUNTER_VALUE) or 0)


def current_change(session: Writer) -> int:
    """Every change numbered up to this is committed and visible to the session."""
    return int(session.scalar(current_query(_dialect(session))) or 0)
