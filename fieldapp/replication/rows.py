"""Rows as JSON and back, by the table's own column types: what the feed sends of a row
is every column, dates and instants as ISO 8601 text (instants in UTC)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

_UTC = dt.UTC


def _kind(column: sa.Column[Any]) -> str:
    kind: Any = column.type
    if isinstance(kind, sa.TypeDecorator):  # e.g. a UTC wrapper around DateTime
        kind = kind.impl_instance
    if isinstance(kind, sa.DateTime):
        return "datetime"
    if isinstance(kind, sa.Date):
        return "date"
    return "plain"


@lru_cache(maxsize=64)
def _columns(table: sa.Table) -> tuple[tuple[str, str], ...]:
    """``(column key, kind)`` of every column, worked out once per table."""
    return tuple((column.key, _kind(column)) for column in table.columns)


def dump(table: sa.Table, row: Mapping[Any, Any], columns: Iterable[str] | None = None) -> dict[str, Any]:
    """The row's columns (all, or ``columns``) as JSON values."""
    names = list(columns) if columns is not None else [key for key, _kind in _columns(table)]
    out: dict[str, Any] = {}
    for name in names:
        value = row[name]
        if isinstance(value, dt.datetime):
            value = (value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)).isoformat()
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[name] = value
    return out


def load(table: sa.Table, item: Mapping[str, Any]) -> dict[str, Any]:
    """The column values of a dumped row (only columns of ``table``; others are ignored)."""
    out: dict[str, Any] = {}
    for key, kind in _columns(table):
        if key not in item:
            continue
        value = item[key]
        if value is not None and kind != "plain":
            value = dt.datetime.fromisoformat(value) if kind == "datetime" else dt.date.fromisoformat(value)
        out[key] = value
    return out
