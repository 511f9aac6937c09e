"""Retention of visit data: deleting a campaign's visits received before a day.

The visits go with every row that refers to them (conflicts, and any table
holding a foreign key to a visit, found from the schema so that a table
added later is not left dangling). Columns that name a visit without a
foreign key (which visit made a household revision or raised a duplicate,
which visit a later one supersedes) are cleared, so no id of a deleted visit
is left behind. Signatures live inside the visit's data and go with it; the
photos' rows go as dependents, and their bytes are deleted from the photo
storage once the transaction committed (a file left by a crash in between is
an orphan, never a row without its file). Households, the roster and the
audit log stay.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from fieldapp import audit, clock
from fieldapp.campaigns import get_campaign
from fieldapp.db import write_transaction
from fieldapp.extensions import db
from fieldapp.models import DuplicateCandidate, HouseholdRevision, Visit, VisitPhoto, table_of
from fieldapp.photos.uploads import delete_files
from fieldapp.reports import rollup


@dataclass
class PurgeSummary:
    """What a purge found (and, once ``applied``, deleted or cleared), counted by table."""

    campaign_id: str
    before: dt.datetime
    visits: int = 0
    dependents: dict[str, int] = field(default_factory=dict)
    applied: bool = False

    cleared: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        head = f"排查活动 {self.campaign_id}：{self.before:%Y-%m-%d} 之前收到的走访记录 {self.visits} 条"
        rest = [f"  关联的 {table}：{count} 行" for table, count in sorted(self.dependents.items())]
        cleared = [f"  清空对这些记录的引用 {name}：{count} 行" for name, count in sorted(self.cleared.items())]
        return [head, *rest, *cleared]


_VISITS = table_of(Visit)
# Columns that hold a visit's uuid without a foreign key: cleared, not deleted.
_LOOSE_REFERENCES = (table_of(HouseholdRevision).c.visit_uuid,
                     table_of(DuplicateCandidate).c.visit_uuid, _VISITS.c.supersedes)


def _dependents(parent: sa.Table, parent_rows: sa.Select[Any],
                seen: frozenset[str] = frozenset()) -> list[tuple[sa.Table, sa.Select[Any]]]:
    """Every (table, WHERE-subquery) that refers to ``parent_rows``, deepest first.

    ``parent_rows`` selects the parent's (single-column) primary key.
    """
    found: list[tuple[sa.Table, sa.Select[Any]]] = []
    parent_key = list(parent.primary_key.columns)[0]
    seen = seen | {parent.name}
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is not parent or table.name in seen:
                continue
            selected = sa.select(fk.column).where(parent_key.in_(parent_rows))
            child_rows = sa.select(*table.primary_key.columns).where(fk.parent.in_(selected)) \
                if len(table.primary_key.columns) == 1 else None
            if child_rows is not None:
                found.extend(_dependents(table, child_rows, seen))
            found.append((table, sa.select(fk.parent).where(fk.parent.in_(selected))))
    return found


def _survivors(column: sa.Column[Any], targets: sa.Select[Any]) -> list[sa.ColumnElement[bool]]:
    """A purged visit superseding another purged one goes anyway: count only the rows that stay."""
    if column.table is _VISITS:
        return [column.table.c.uuid.not_in(targets)]
    return []


def purge_visits(campaign_id: str, before: dt.date, apply: bool) -> PurgeSummary:
    """Count (and with ``apply``, delete) the campaign's visits received before ``before``
    (00:00 China time): ``fieldapp purge``.

    One write transaction; the audit entry is written in it. Raises ValueError (Chinese).
    """
    cutoff = dt.datetime.combine(before, dt.time(), tzinfo=clock.town_zone())  # the day begins in the town
    with write_transaction(db.session) as session:
        get_campaign(session, campaign_id)
        visits = _VISITS
        targets = sa.select(visits.c.uuid).where(
            visits.c.campaign_id == campaign_id, visits.c.received_at < cutoff)
        summary = PurgeSummary(campaign_id, cutoff)
        summary.visits = session.scalar(
            sa.select(sa.func.count()).select_from(targets.subquery())) or 0
        plan = _dependents(visits, targets)
        for table, where in plan:
            column = where.selected_columns[0]
            count = session.scalar(
                sa.select(sa.func.count()).select_from(table).where(column.in_(where))) or 0
            if count:
                summary.dependents[table.name] = summary.dependents.get(table.name, 0) + count
        loose = [(column, sa.and_(column.in_(targets), *_survivors(column, targets)))
                 for column in _LOOSE_REFERENCES]
        for column, naming_purged in loose:
            count = session.scalar(
                sa.select(sa.func.count()).select_from(column.table).where(naming_purged)) or 0
            if count:
                summary.cleared[f"{column.table.name}.{column.name}"] = count
        photo_keys: list[str] = []
        if apply and summary.visits:
            photo_keys = list(session.scalars(sa.select(VisitPhoto.storage_key)
                                              .where(VisitPhoto.visit_uuid.in_(targets))))
            for column, naming_purged in loose:
                session.execute(sa.update(column.table).where(naming_purged).values({column.name: None}))
            for table, where in plan:
                column = where.selected_columns[0]
                session.execute(sa.delete(table).where(column.in_(where)))
            session.execute(sa.delete(visits).where(visits.c.uuid.in_(targets)))
            audit.record(session, None, "purge", "campaign", campaign_id,
                         before={"visits": summary.visits, **summary.dependents, **summary.cleared},
                         after={"visits": 0},
                         details={"received_before": cutoff.isoformat()})
            summary.applied = True
    if summary.applied:
        rollup.forget(session, campaign_id)  # purge deletes without change numbers
        delete_files(photo_keys)
    return summary
