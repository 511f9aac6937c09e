"""visit times in UTC on SQLite; the phone's UTC offset kept in visits.utc_offset_minutes

Until now SQLite stored the phone's ``started_at``/``visited_at`` with their
wall-clock digits and no offset (``19:55+08:00`` became ``19:55``), while
every time the server stamps itself was stored as UTC. The new column type
(``UtcDateTime``) stores UTC on every database, so the visit times already
in a SQLite file are converted once here: read as wall-clock times of the
town's zone (``TIMEZONE``, Asia/Shanghai by default: the zone of every phone
the app has served), written back as UTC.

This is safe because the new code cannot write a visit before this runs:
its inserts name ``utc_offset_minutes``, which only this migration creates,
so every row present now was written by the old code. PostgreSQL stored the
instants correctly (``timestamptz``) and is not touched.

Revision ID: 0005_pages
Revises: 0004_misuse
"""
import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = '0005_pages'
down_revision = '0004_misuse'
branch_labels = None
depends_on = None

COLUMNS = ("started_at", "visited_at")
_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def _town_zone() -> ZoneInfo:
    try:
        from flask import current_app

        return ZoneInfo(str(current_app.config.get("TIMEZONE", "Asia/Shanghai")))
    except RuntimeError:  # outside an application (plain alembic)
        return ZoneInfo("Asia/Shanghai")


def _shift_sqlite_times(to_utc: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    zone = _town_zone()
    rows = bind.execute(sa.text(
        "SELECT uuid, started_at, visited_at FROM visits "
        "WHERE started_at IS NOT NULL OR visited_at IS NOT NULL")).all()
    updates = []
    for uuid, *values in rows:
        shifted: dict[str, str | None] = {}
        for column, value in zip(COLUMNS, values, strict=True):
            if value is None:
                shifted[column] = None
                continue
            moment = dt.datetime.fromisoformat(str(value)).replace(tzinfo=None)
            if to_utc:
                moment = moment.replace(tzinfo=zone).astimezone(dt.UTC)
            else:
                moment = moment.replace(tzinfo=dt.UTC).astimezone(zone)
            shifted[column] = moment.replace(tzinfo=None).strftime(_FORMAT)
        updates.append({"uuid": uuid, **shifted})
    if updates:
        bind.execute(sa.text("UPDATE visits SET started_at = :started_at, visited_at = :visited_at "
                             "WHERE uuid = :uuid"), updates)


def upgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('utc_offset_minutes', sa.SmallInteger(), nullable=True))
    _shift_sqlite_times(to_utc=True)


def downgrade() -> None:
    _shift_sqlite_times(to_utc=False)
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('utc_offset_minutes')
