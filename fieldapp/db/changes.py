"""The pull sequence (change numbers), taken inside the writing transaction."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from fieldapp.db.engine import AnySession
from fieldapp.models import ChangeCounter

COUNTER = "pull"


def next_change(session: AnySession, count: int = 1) -> int:
    """Reserve ``count`` change numbers and return the first.

    The UPDATE takes the counter row's lock until commit, so a later
    transaction cannot publish a larger number before this one commits.
    """
    update = (sa.update(ChangeCounter).where(ChangeCounter.name == COUNTER)
              .values(value=ChangeCounter.value + count).returning(ChangeCounter.value))
    result = session.execute(update).scalar_one_or_none()
    if result is None:
        # The first change of a new database: two writers may get here at once (towns
        # replicating into a fresh central), so the row is made without a conflict.
        insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)
        session.execute(insert(ChangeCounter).values(name=COUNTER, value=0).on_conflict_do_nothing())
        result = session.execute(update).scalar_one()
    return int(result) - count + 1


# The counter's value (no row before the first change); a query may also take it as a subquery.
CURRENT = sa.select(ChangeCounter.value).where(ChangeCounter.name == COUNTER)


def current_change(session: AnySession) -> int:
    return int(session.scalar(CURRENT) or 0)
