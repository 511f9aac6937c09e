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
    """The pull sequence: one row, incremented inside every writing transaction.

    A PostgreSQL sequence can commit out of order (a smaller number may become
    visible after a larger one), which would make a pull skip a change. Taking
    the number from this row serialises writers on the row lock, so numbers
    become visible in order.
    """

    __tablename__ = "change_counters"

    name: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)
