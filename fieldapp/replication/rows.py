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


@lru_cache(maxsize=64)
def _time_columns(table: sa.Table) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The keys of the instant columns and of the date columns."""
    kinds = _columns(table)
    return (tuple(key for key, kind in kinds if kind == "datetime"),
            tuple(key for key, kind in kinds if kind == "date"))


def _instant(value: dt.datetime) -> str:
    return (value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)).isoformat()


def dump(table: sa.Table, row: Mapping[Any, Any], columns: Iterable[str] | None = None) -> dict[str, Any]:
    """The row's columns (all, or ``columns``) as JSON values."""
    if columns is not None:
        return {name: _json_value(row[name]) for name in columns}
    # The whole row: copied at once, then only its date and instant columns converted
    # (the feed dumps tens of thousands of rows a page).
    out = {key: row[key] for key, _kind in _columns(table)}
    instants, dates = _time_columns(table)
    for key in instants:
        value = out[key]
        if value is not None:
            out[key] = _instant(value)
    for key in dates:
        value = out[key]
        if value is not None:
            out[key] = value.isoformat()
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _instant(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


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
