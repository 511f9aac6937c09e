"""Whole-row INSERTs whose driver parameters are worked out ahead of time.

SQLAlchemy turns each row's values into what the database driver takes
(datetimes into text on SQLite, JSON into text, booleans into integers) inside
``execute``. For a push that happens under the write lock, where every other
writer waits: for 200 visits it was about a sixth of the serial time. A
:class:`RowInsert` runs the same bind processors whenever the caller likes
(before the lock), and the statement is then sent with ``exec_driver_sql``,
which adds nothing per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

Params = list[Any] | dict[str, Any]


class RowInsert:
    """``INSERT INTO table (every column, or ``names``) VALUES (...)`` for one dialect; with
    ``upsert_keys``, ``ON CONFLICT (keys) DO UPDATE`` the other columns."""

    def __init__(self, table: sa.Table, dialect: Dialect, names: Sequence[str] | None = None,
                 upsert_keys: Sequence[str] | None = None) -> None:
        columns = {column.key: column for column in table.columns}
        if names is not None:
            columns = {name: columns[name] for name in names}
        insert = (postgresql.insert if dialect.name == "postgresql" else sqlite.insert) if upsert_keys else sa.insert
        statement: Any = insert(table).values({name: sa.bindparam(name, type_=column.type)
                                               for name, column in columns.items()})
        if upsert_keys:
            statement = statement.on_conflict_do_update(
                index_elements=list(upsert_keys),
                set_={name: statement.excluded[name] for name in columns if name not in upsert_keys})
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        self.keys: list[str] = list(compiled.positiontup or []) if self.positional else list(columns)
        if sorted(self.keys) != sorted(columns):
            raise ValueError(f"{table.name}: the compiled INSERT does not bind every column once")
        self.processors: list[Callable[[Any], Any] | None] = [
            columns[key].type.dialect_impl(dialect).bind_processor(dialect) for key in self.keys]
        self.index = {key: position for position, key in enumerate(self.keys)}

    def params(self, row: Mapping[str, Any]) -> Params:
        """The driver's parameters for ``row``, which must give every column."""
        values = [row[key] if process is None else process(row[key])
                  for key, process in zip(self.keys, self.processors, strict=True)]
        return values if self.positional else dict(zip(self.keys, values, strict=True))

    def set(self, params: Params, key: str, value: Any) -> None:
        """Change one value of prepared parameters (one that needs no processing, such as an integer)."""
        if self.processors[self.index[key]] is not None:
            raise ValueError(f"{key} needs its bind processor; set it before params()")
        if isinstance(params, dict):
            params[key] = value
        else:
            params[self.index[key]] = value

    def execute(self, connection: sa.Connection, rows: Sequence[Params]) -> None:
        connection.exec_driver_sql(self.sql, [tuple(r) for r in rows] if self.positional else list(rows))


_cache: dict[tuple[str, Dialect, tuple[str, ...] | None, tuple[str, ...] | None], RowInsert] = {}


def row_insert(table: sa.Table, dialect: Dialect, names: Sequence[str] | None = None,
               upsert_keys: Sequence[str] | None = None) -> RowInsert:
    """The (cached) :class:`RowInsert` of ``table`` for ``dialect`` (an engine's: its
    JSON serializer is part of the processors)."""
    key = (table.name, dialect, None if names is None else tuple(names),
           None if upsert_keys is None else tuple(upsert_keys))
    found = _cache.get(key)
    if found is None:
        found = _cache[key] = RowInsert(table, dialect, names, upsert_keys)
    return found
