"""The town's clock: instants are stored in UTC and shown in the town's time zone.

The zone is the ``TIMEZONE`` setting (``FIELDAPP_TIMEZONE``, an IANA name,
default ``Asia/Shanghai``). Pages show times with :func:`local_time`; a
calendar day typed into a filter is a day in the town (:func:`day_range`).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app, has_app_context

from fieldapp.models.base import as_utc

DEFAULT_ZONE = "Asia/Shanghai"


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def town_zone() -> ZoneInfo:
    """The configured zone (the default outside an application)."""
    name = current_app.config.get("TIMEZONE", DEFAULT_ZONE) if has_app_context() else DEFAULT_ZONE
    return _zone(str(name))


def local(value: dt.datetime) -> dt.datetime:
    """An instant in the town's zone (a naive value is UTC)."""
    return as_utc(value).astimezone(town_zone())


def local_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant as the town reads it; "—" for none."""
    return "—" if value is None else local(value).strftime(fmt)


def local_date(value: dt.datetime | None) -> str:
    return local_time(value, "%Y-%m-%d")


def day_range(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A calendar day in the town as an aware UTC range ``[start, end)``."""
    zone = town_zone()
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def phone_zone_note(value: dt.datetime | None, offset_minutes: int | None) -> str | None:
    """``UTC+07:00`` when the phone's clock was not in the town's zone at ``value``, else None."""
    if value is None or offset_minutes is None:
        return None
    town_offset = local(value).utcoffset() or dt.timedelta(0)
    if int(town_offset.total_seconds() // 60) == offset_minutes:
        return None
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def init_app(app: Flask) -> None:
    """Check the zone once at start (a typo fails loudly, not on the first page) and
    give every template the helpers."""
    name = str(app.config.setdefault("TIMEZONE", DEFAULT_ZONE))
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"TIMEZONE: unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from error
    app.config["BABEL_DEFAULT_TIMEZONE"] = name
    app.jinja_env.globals.update(local_time=local_time, local_date=local_date)
