"""What every review decision shares: claiming the row it decides, the name of who
decided before, and a visit's sync status following what is still open for it.

Decisions that two supervisors could take at the same moment (resolve a conflict,
merge or dismiss a candidate, undo a merge) are claimed with a conditional
``UPDATE ... WHERE status = 'open'``: the row lock makes the second writer wait,
then its WHERE no longer matches and ``rowcount`` is 0, so it is told the decision
was already taken instead of applying it twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from fieldapp.db import write_transaction
from fieldapp.db.changes import next_change
from fieldapp.extensions import db
from fieldapp.models import Conflict, DuplicateCandidate, User, Visit


@contextmanager
def decision_transaction(session: Session | None) -> Iterator[Session]:
    """The write transaction a decision runs in: its own (``session`` None), or the caller's
    open one (a town applying a decision taken at central, recorded in the same transaction)."""
    if session is not None:
        yield session
        return
    with write_transaction(db.session) as own:
        yield own


def claim(session: Session, model: Any, row_id: int, status_column: Any, open_value: Any,
          **values: Any) -> bool:
    """Conditional UPDATE: True if this transaction moved the row out of ``open_value``.

    The decided row takes a change number, so that a town's replication carries the decision.
    """
    condition = status_column.is_(None) if open_value is None else status_column == open_value
    result = session.execute(
        sa.update(model).where(model.id == row_id, condition)
        .values(**values, change_seq=next_change(session))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def display_name(user_id: int | None) -> str:
    """Who took a decision, for a message ("已由…处理")."""
    if user_id is None:
        return _("系统")
    user = db.session.get(User, user_id)
    return (user.display_name or user.username) if user else str(user_id)


def settle_visit(session: Session, visit_uuid: str | None) -> None:
    """The visit's sync status follows what is still open for it: an open conflict,
    else an open duplicate candidate, else accepted (a change takes a change number)."""
    if not visit_uuid:
        return
    visit = session.get(Visit, visit_uuid, populate_existing=True)
    if visit is None:
        return
    conflicts = session.scalar(sa.select(sa.func.count()).select_from(Conflict).where(
        Conflict.visit_uuid == visit_uuid, Conflict.status == "open"))
    candidates = session.scalar(sa.select(sa.func.count()).select_from(DuplicateCandidate).where(
        DuplicateCandidate.visit_uuid == visit_uuid, DuplicateCandidate.status == "open"))
    status = "conflict" if conflicts else "duplicate_suspected" if candidates else "accepted"
    if visit.sync_status != status:
        visit.sync_status = status
        visit.change_seq = next_change(session)
