"""How JSON columns are written and read (the engine's ``json_serializer`` and
``json_deserializer``): orjson, several times faster than the standard library."""

from __future__ import annotations

from typing import Any

import orjson


def dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII kept as is; dict keys that are not strings are
    written as strings, as :func:`json.dumps` does."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def loads(stored: str | bytes | int | float) -> Any:
    """The value of stored JSON text. SQLite gives a bare JSON number back as a
    number (the column has numeric affinity), already decoded."""
    if isinstance(stored, int | float):
        return stored
    return orjson.loads(stored)
