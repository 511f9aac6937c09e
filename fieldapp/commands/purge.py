"""``fieldapp purge --campaign ID --before DATE [--yes]``: retention of visit data.

Deletes a campaign's visits received before DATE (00:00 China time), with
every row that refers to them (conflicts, and any table holding a foreign
key to a visit, found from the schema so that a table added later is not
left dangling). Columns that name a visit without a foreign key (which visit
made a household revision or raised a duplicate, which visit a later one
supersedes) are cleared, so no id of a deleted visit is left behind.
Signatures and photos live inside the visit's data and go with it.
Households, the roster and the audit log stay. Without ``--yes`` only the
summary of what would be deleted is printed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from flask import Flask

from fieldapp import audit
from fieldapp.db.engine import begin_write
from fieldapp.extensions import db
from fieldapp.models import Campaign, DuplicateCandidate, HouseholdRevision, Visit

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass
class PurgeSummary:
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


# Columns that hold a visit's uuid without a foreign key: cleared, not deleted.
_LOOSE_REFERENCES = (HouseholdRevision.__table__.c.visit_uuid, DuplicateCandidate.__table__.c.visit_uuid,
                     Visit.__table__.c.supersedes)


def _dependents(parent: sa.Table, parent_rows: sa.Select,
                seen: frozenset[str] = frozenset()) -> list[tuple[sa.Table, sa.Select]]:
    """Every (table, WHERE-subquery) that refers to ``parent_rows``, deepest first.

    ``parent_rows`` selects the parent's (single-column) primary key.
    """
    found: list[tuple[sa.Table, sa.Select]] = []
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
    if column.table is Visit.__table__:
        return [column.table.c.uuid.not_in(targets)]
    return []


def purge_visits(campaign_id: str, before: dt.date, apply: bool) -> PurgeSummary:
    """Count (and with ``apply``, delete) the campaign's visits received before ``before``.

    One transaction; the audit entry is written in it. Raises ValueError (Chinese).
    """
    cutoff = dt.datetime.combine(before, dt.time(), tzinfo=CHINA)
    begin_write(db.session())
    try:
        if db.session.get(Campaign, campaign_id) is None:
            raise ValueError(f"排查活动不存在：{campaign_id}")
        visits = Visit.__table__
        targets = sa.select(visits.c.uuid).where(
            visits.c.campaign_id == campaign_id, visits.c.received_at < cutoff)
        summary = PurgeSummary(campaign_id, cutoff)
        summary.visits = db.session.scalar(
            sa.select(sa.func.count()).select_from(targets.subquery())) or 0
        plan = _dependents(visits, targets)
        for table, where in plan:
            column = where.selected_columns[0]
            count = db.session.scalar(
                sa.select(sa.func.count()).select_from(table).where(column.in_(where))) or 0
            if count:
                summary.dependents[table.name] = summary.dependents.get(table.name, 0) + count
        loose = [(column, sa.and_(column.in_(targets), *_survivors(column, targets)))
                 for column in _LOOSE_REFERENCES]
        for column, naming_purged in loose:
            count = db.session.scalar(
                sa.select(sa.func.count()).select_from(column.table).where(naming_purged)) or 0
            if count:
                summary.cleared[f"{column.table.name}.{column.name}"] = count
        if apply and summary.visits:
            for column, naming_purged in loose:
                db.session.execute(sa.update(column.table).where(naming_purged).values({column.name: None}))
            for table, where in plan:
                column = where.selected_columns[0]
                db.session.execute(sa.delete(table).where(column.in_(where)))
            db.session.execute(sa.delete(visits).where(visits.c.uuid.in_(targets)))
            audit.record(db.session, None, "purge", "campaign", campaign_id,
                         before={"visits": summary.visits, **summary.dependents, **summary.cleared},
                         after={"visits": 0},
                         details={"received_before": cutoff.isoformat()})
            summary.applied = True
        db.session.commit()
        if summary.applied:
            from fieldapp.reports import rollup

            rollup.forget(db.session, campaign_id)  # purge deletes without change numbers
    except BaseException:
        db.session.rollback()
        raise
    return summary


def register(app: Flask) -> None:
    @app.cli.command("purge")
    @click.option("--campaign", "campaign_id", required=True, help="Campaign id, e.g. 2023-jzpc.")
    @click.option("--before", type=click.DateTime(["%Y-%m-%d"]), required=True,
                  help="Delete visits received before this day (YYYY-MM-DD, China time).")
    @click.option("--yes", is_flag=True, help="Really delete; without it only a summary is printed.")
    def purge(campaign_id: str, before: dt.datetime, yes: bool) -> None:
        """Delete a campaign's old visits for retention (按保存期限删除走访记录).

        Conflicts and other rows tied to those visits go with them; households
        and the audit log stay. Dry run unless --yes.
        """
        try:
            summary = purge_visits(campaign_id, before.date(), apply=yes)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        for line in summary.lines():
            click.echo(line)
        if summary.applied:
            click.echo("已删除，并已写入审计日志。")
        elif summary.visits:
            click.echo("这是预览，没有删除任何数据。确认删除请加 --yes。")
        else:
            click.echo("没有需要删除的记录。")
