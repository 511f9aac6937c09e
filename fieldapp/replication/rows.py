"""Rows as JSON and back, by the table's own column types: what the feed sends of a row
is every column, dates and instants as ISO 8601 text (instants in UTC)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa


def _kind(column: sa.Column[Any]) -> str:
    kind: Any = column.type
    if isinstance(kind, sa.TypeDecorator):  # e.g. a UTC wrapper around DateTime
        kind = kind.impl_instance
    if isinstance(kind, sa.DateTime):
        return "datetime"
    if isinstance(kind, sa.Date):
        return "date"
    return "plain"


def dump(table: sa.Table, row: Mapping[str, Any], columns: Iterable[str] | None = None) -> dict[str, Any]:
    """The row's columns (all, or ``columns``) as JSON values."""
    names = list(columns) if columns is not None else [c.key for c in table.columns]
    out: dict[str, Any] = {}
    for name in names:
        value = row[name]
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            value = value.astimezone(dt.UTC).isoformat()
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[name] = value
    return out


def load(table: sa.Table, item: Mapping[str, Any]) -> dict[str, Any]:
    """The column values of a dumped row (only columns of ``table``; others are ignored)."""
    out: dict[str, Any] = {}
    for column in table.columns:
        if column.key not in item:
            continue
        value = item[column.key]
        kind = _kind(column)
        if value is not None and kind == "datetime":
            value = dt.datetime.fromisoformat(value)
        elif value is not None and kind == "date":
            value = dt.date.fromisoformat(value)
        out[column.key] = value
    return out
