"""The audit log: who did what, when, with before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fieldapp.models.base import Base, JSONType, UtcDateTime, utcnow


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(30))
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    village_id: Mapped[int | None] = mapped_column(sa.ForeignKey("villages.id"))
    before: Mapped[object | None] = mapped_column(JSONType)
    after: Mapped[object | None] = mapped_column(JSONType)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    address: Mapped[str | None] = mapped_column(sa.String(64))


class ChangeCounter(Base):
    """The pull sequence: one row. On SQLite it is incremented inside every writing
    transaction (one writer at a time anyway); on PostgreSQL in a short transaction of
    its own, with a :class:`ChangeReservation` (``fieldapp/db/changes.py``)."""

    __tablename__ = "change_counters"

    name: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class ChangeReservation(Base):
    """Change numbers ``first``..``last`` taken by a PostgreSQL transaction (``xact``, its
    transaction id) that has not committed yet: readers stop before ``first``. The
    transaction deletes its row itself, so the row disappears exactly when its changes
    appear; a row left by an aborted transaction is ignored and cleared."""

    __tablename__ = "change_reservations"

    first: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(sa.BigInteger)
    xact: Mapped[int] = mapped_column(sa.BigInteger)
