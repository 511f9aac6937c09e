"""Declarative base, shared column types and helpers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(sa.TypeDecorator[dt.datetime]):
    """An instant, stored in UTC and read back as an aware UTC datetime, on every database.

    SQLite has no time zones: SQLAlchemy writes an aware datetime's wall-clock
    digits and drops its offset, so a phone's ``19:55+08:00`` would be stored as
    19:55 and read back as 19:55 UTC. Converting to UTC before the driver sees
    the value (inserts, updates and comparisons alike) keeps one meaning on
    SQLite and PostgreSQL. A naive value is taken as UTC, as everything the
    server itself stamps is.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        return None if value is None else as_utc(value)


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC datetime (naive: already UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


def table_of(model: type[Any]) -> sa.Table:
    """A model's table, typed for Core statements (``__table__`` is typed as any FromClause)."""
    table = model.__table__
    assert isinstance(table, sa.Table)
    return table


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_uuid() -> str:
    return str(uuid.uuid4())
